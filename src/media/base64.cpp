// Base64 decoder (two passes: validate and size, then decode) and encoder.
#include "media/base64.hpp"

#include <array>
#include <cstdio>

namespace liveproof::media {
namespace {

// Classes of input bytes; values 0..63 are sextets.
constexpr std::int8_t kInvalid = -1;
constexpr std::int8_t kSpace = -2;
constexpr std::int8_t kPad = -3;

constexpr std::array<std::int8_t, 256> MakeDecodeTable() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = kInvalid;
    for (int i = 0; i < 26; ++i) {
        t['A' + i] = static_cast<std::int8_t>(i);
        t['a' + i] = static_cast<std::int8_t>(26 + i);
    }
    for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<std::int8_t>(52 + i);
    // Standard and URL-safe alphabets are both accepted: clients differ and the two never clash.
    t['+'] = 62;
    t['/'] = 63;
    t['-'] = 62;
    t['_'] = 63;
    t[' '] = kSpace;
    t['\t'] = kSpace;
    t['\r'] = kSpace;
    t['\n'] = kSpace;
    t['='] = kPad;
    return t;
}

constexpr std::array<std::int8_t, 256> kDecode = MakeDecodeTable();
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (Lower(s[i]) != prefix[i]) return false;
    }
    return true;
}

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           StartsWithNoCase(s.substr(s.size() - suffix.size()), suffix);
}

Unexpected Invalid(std::string detail) {
    return MakeError(ErrorCode::InvalidEncoding, std::move(detail));
}

std::string DescribeByte(unsigned char c) {
    char buf[48];
    if (c >= 0x21 && c < 0x7f) {
        std::snprintf(buf, sizeof buf, "'%c' (0x%02x)", c, c);
    } else {
        std::snprintf(buf, sizeof buf, "0x%02x", c);
    }
    return buf;
}

// Decoded size of n sextets (n % 4 != 1): every 4 give 3 bytes, a tail of 2 or 3 gives 1 or 2.
std::size_t DecodedSize(std::size_t sextets) { return sextets / 4 * 3 + (sextets % 4) * 3 / 4; }

}  // namespace

Expected<std::vector<std::uint8_t>> DecodeBase64(std::string_view text,
                                                 std::size_t max_decoded_bytes) {
    // Offsets in messages are into the caller's text, so `begin` is kept rather than slicing.
    std::size_t begin = 0;
    while (begin < text.size() && IsSpace(text[begin])) ++begin;
    if (StartsWithNoCase(text.substr(begin), "data:")) {
        const std::size_t comma = text.find(',', begin);
        if (comma == std::string_view::npos ||
            !EndsWithNoCase(text.substr(begin, comma - begin), ";base64")) {
            return Invalid("data: URL without a ';base64,' marker");
        }
        begin = comma + 1;
    }

    // Pass 1: validate and count, without allocating.
    std::size_t sextets = 0;
    std::size_t pads = 0;
    std::size_t first_pad = 0;
    for (std::size_t i = begin; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::int8_t v = kDecode[c];
        if (v >= 0) {
            if (pads > 0) {
                return Invalid("base64 data after padding at offset " + std::to_string(i));
            }
            ++sextets;
            // Stop as soon as the cap is certainly exceeded: no need to read a huge body.
            if (DecodedSize(sextets) > max_decoded_bytes) {
                return MakeError(
                    ErrorCode::InputTooLarge,
                    "decoded base64 exceeds " + std::to_string(max_decoded_bytes) + " bytes");
            }
        } else if (v == kPad) {
            if (pads == 0) first_pad = i;
            if (++pads > 2) {
                return Invalid("too much base64 padding at offset " + std::to_string(i));
            }
        } else if (v == kInvalid) {
            return Invalid("invalid base64 character " + DescribeByte(c) + " at offset " +
                           std::to_string(i));
        }
    }
    if (sextets == 0) {
        if (pads > 0)
            return Invalid("base64 padding without data at offset " + std::to_string(first_pad));
        return MakeError(ErrorCode::EmptyInput, "empty base64 payload");
    }
    if (sextets % 4 == 1) return Invalid("truncated base64 (a single trailing character)");
    if (pads > 0 && (sextets + pads) % 4 != 0) {
        return Invalid("incorrect base64 padding at offset " + std::to_string(first_pad) + " (" +
                       std::to_string(pads) + " '=' after " + std::to_string(sextets) +
                       " characters)");
    }

    // Pass 2: decode into a buffer of the exact size.
    std::vector<std::uint8_t> out;
    out.reserve(DecodedSize(sextets));
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = begin; i < text.size(); ++i) {
        const std::int8_t v = kDecode[static_cast<unsigned char>(text[i])];
        if (v < 0) continue;  // whitespace and padding, already validated
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xffu));
        }
    }
    return out;
}

std::string EncodeBase64(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n =
            (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(kAlphabet[(n >> 6) & 63]);
        out.push_back(kAlphabet[n & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t n = std::uint32_t{bytes[i]} << 16;
        if (rest == 2) n |= std::uint32_t{bytes[i + 1]} << 8;
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

}  // namespace liveproof::media
