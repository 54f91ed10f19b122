// Bounded JSON parsing and non-throwing serialisation (nlohmann/json behind one rule).
#include "common/json_text.hpp"

#include <new>

namespace liveproof {

namespace {

struct TooDeep {};

Unexpected Invalid(std::string detail) {
    return MakeError(ErrorCode::InvalidJson, std::move(detail));
}

template <typename Json>
std::string Dump(const Json& value, int indent) noexcept {
    try {
        return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (...) {
        // Only allocation can fail here once invalid UTF-8 is replaced.
        return R"({"error":"internal","detail":"the response could not be serialised"})";
    }
}

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + n > text.size()) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return n;
}

}  // namespace

Expected<nlohmann::json> ParseJson(std::string_view text, int max_depth) {
    // nlohmann's lexer takes a NUL byte for the end of the input, so "{}\0anything" would parse
    // as {} with the rest unchecked; JSON text cannot hold a raw NUL (strings escape it).
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        return Invalid("not valid JSON (a NUL byte at byte " + std::to_string(nul) + ")");
    }
    try {
        return nlohmann::json::parse(
            text.begin(), text.end(),
            [max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                if (depth > max_depth) throw TooDeep{};
                return true;
            });
    } catch (const nlohmann::json::parse_error& e) {
        // e.what() quotes the input around the error: give the position only.
        return Invalid("not valid JSON (at byte " + std::to_string(e.byte) + ")");
    } catch (const nlohmann::json::out_of_range&) {
        return Invalid("a number is outside the range of a double (e.g. 1e400)");
    } catch (const nlohmann::json::exception&) {
        return Invalid("not valid JSON");
    } catch (const TooDeep&) {
        return Invalid("nested deeper than " + std::to_string(max_depth) + " levels");
    } catch (const std::bad_alloc&) {
        return MakeError(ErrorCode::InputTooLarge, "the JSON text is too large to hold");
    }
}

Expected<nlohmann::json> ParseJsonObject(std::string_view text, int max_depth) {
    auto j = ParseJson(text, max_depth);
    if (j && !j->is_object()) return Invalid("the body must be a JSON object");
    return j;
}

std::string ToJsonText(const nlohmann::json& value, int indent) noexcept {
    return Dump(value, indent);
}

std::string ToJsonText(const nlohmann::ordered_json& value, int indent) noexcept {
    return Dump(value, indent);
}

bool IsValidUtf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = Utf8SequenceLength(text, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string PrintableUtf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = Utf8SequenceLength(text, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD
            ++i;
        } else if (n == 1 && (static_cast<unsigned char>(text[i]) < 0x20 || text[i] == 0x7F)) {
            out += '?';
            ++i;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace liveproof
