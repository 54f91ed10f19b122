// Header parsers for JPEG (SOFn + APP1 EXIF), PNG (IHDR), BMP (DIB header) and WebP
// (VP8/VP8L/VP8X).
#include "media/image_header.hpp"

#include <cstring>
#include <string>

namespace liveproof::media {
namespace {

std::uint32_t Be16(const std::uint8_t* p) { return (p[0] << 8) | p[1]; }
std::uint32_t Be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}
std::uint32_t Le16(const std::uint8_t* p) { return p[0] | (p[1] << 8); }
std::uint32_t Le24(const std::uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16); }
std::uint32_t Le32(const std::uint8_t* p) {
    return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
}

Unexpected Corrupt(std::string what) { return MakeError(ErrorCode::CorruptImage, std::move(what)); }

// EXIF orientation from a TIFF block (the APP1 payload after "Exif\0\0"). Any malformation
// yields 1 (no rotation): a broken EXIF block must not reject an otherwise good JPEG.
int ExifOrientation(const std::uint8_t* tiff, std::size_t size) {
    if (size < 8) return 1;
    const bool le = tiff[0] == 'I' && tiff[1] == 'I';
    const bool be = tiff[0] == 'M' && tiff[1] == 'M';
    if (!le && !be) return 1;
    auto u16 = [&](std::size_t off) { return le ? Le16(tiff + off) : Be16(tiff + off); };
    auto u32 = [&](std::size_t off) { return le ? Le32(tiff + off) : Be32(tiff + off); };
    const std::uint32_t ifd = u32(4);
    if (ifd > size - 2 || ifd < 8) return 1;
    const std::uint32_t entries = u16(ifd);
    for (std::uint32_t i = 0; i < entries; ++i) {
        const std::size_t e = ifd + 2 + std::size_t{i} * 12;
        if (e + 12 > size) return 1;
        if (u16(e) == 0x0112) {  // Orientation, SHORT, value inline
            const std::uint32_t v = u16(e + 8);
            return (v >= 1 && v <= 8) ? static_cast<int>(v) : 1;
        }
    }
    return 1;
}

Expected<ImageHeader> ReadJpeg(std::span<const std::uint8_t> b) {
    ImageHeader h;
    h.format = ImageFormat::Jpeg;
    std::size_t pos = 2;
    while (true) {
        // Skip fill bytes; every marker starts with 0xFF.
        while (pos < b.size() && b[pos] == 0xFF && pos + 1 < b.size() && b[pos + 1] == 0xFF) ++pos;
        if (pos + 4 > b.size()) return Corrupt("JPEG ends before its frame header (SOF)");
        if (b[pos] != 0xFF) return Corrupt("JPEG marker expected at byte " + std::to_string(pos));
        const std::uint8_t marker = b[pos + 1];
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            pos += 2;  // markers without a length
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA) return Corrupt("JPEG has no frame header (SOF)");
        const std::uint32_t len = Be16(&b[pos + 2]);
        if (len < 2 || pos + 2 + len > b.size()) return Corrupt("JPEG segment runs past the end");
        const std::uint8_t* seg = &b[pos + 4];
        const std::size_t seg_len = len - 2;
        if (marker == 0xE1 && seg_len > 6 && std::memcmp(seg, "Exif\0\0", 6) == 0) {
            h.exif_orientation = ExifOrientation(seg + 6, seg_len - 6);
        }
        const bool sof =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
            if (seg_len < 6) return Corrupt("JPEG frame header too short");
            h.height = static_cast<int>(Be16(seg + 1));
            h.width = static_cast<int>(Be16(seg + 3));
            return h;
        }
        pos += 2 + len;
    }
}

Expected<ImageHeader> ReadPng(std::span<const std::uint8_t> b) {
    if (b.size() < 33) return Corrupt("PNG ends inside its header");
    if (std::memcmp(&b[12], "IHDR", 4) != 0) return Corrupt("PNG has no IHDR chunk first");
    ImageHeader h;
    h.format = ImageFormat::Png;
    const std::uint32_t w = Be32(&b[16]);
    const std::uint32_t hh = Be32(&b[20]);
    if (w > 0x7FFFFFFF || hh > 0x7FFFFFFF) return Corrupt("PNG size out of range");
    h.width = static_cast<int>(w);
    h.height = static_cast<int>(hh);
    return h;
}

Expected<ImageHeader> ReadBmp(std::span<const std::uint8_t> b) {
    if (b.size() < 26) return Corrupt("BMP ends inside its header");
    ImageHeader h;
    h.format = ImageFormat::Bmp;
    const std::uint32_t dib = Le32(&b[14]);
    if (dib == 12) {
        h.width = static_cast<int>(Le16(&b[18]));
        h.height = static_cast<int>(Le16(&b[20]));
    } else {
        const auto w = static_cast<std::int32_t>(Le32(&b[18]));
        const auto hh = static_cast<std::int32_t>(Le32(&b[22]));
        if (w <= 0 || hh == INT32_MIN) return Corrupt("BMP size out of range");
        h.width = w;
        h.height = hh < 0 ? -hh : hh;  // negative height = top-down rows
    }
    return h;
}

Expected<ImageHeader> ReadWebp(std::span<const std::uint8_t> b) {
    if (b.size() < 30) return Corrupt("WebP ends inside its header");
    ImageHeader h;
    h.format = ImageFormat::WebP;
    const std::uint8_t* c = &b[12];
    if (std::memcmp(c, "VP8 ", 4) == 0) {
        h.width = static_cast<int>(Le16(c + 14) & 0x3FFF);
        h.height = static_cast<int>(Le16(c + 16) & 0x3FFF);
    } else if (std::memcmp(c, "VP8L", 4) == 0) {
        const std::uint32_t bits = Le32(c + 9);
        h.width = static_cast<int>((bits & 0x3FFF) + 1);
        h.height = static_cast<int>(((bits >> 14) & 0x3FFF) + 1);
    } else if (std::memcmp(c, "VP8X", 4) == 0) {
        h.width = static_cast<int>(Le24(c + 12) + 1);
        h.height = static_cast<int>(Le24(c + 15) + 1);
    } else {
        return Corrupt("WebP has an unknown first chunk");
    }
    return h;
}

}  // namespace

std::string_view FormatName(ImageFormat format) {
    switch (format) {
        case ImageFormat::Jpeg:
            return "jpeg";
        case ImageFormat::Png:
            return "png";
        case ImageFormat::Bmp:
            return "bmp";
        case ImageFormat::WebP:
            return "webp";
    }
    return "unknown";
}

Expected<ImageHeader> ReadImageHeader(std::span<const std::uint8_t> b) {
    if (b.empty()) return MakeError(ErrorCode::EmptyInput, "the image is empty (0 bytes)");
    Expected<ImageHeader> h = MakeError(ErrorCode::UnsupportedFormat,
                                        "not a JPEG, PNG, BMP or WebP image (unrecognised "
                                        "leading bytes)");
    if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
        h = ReadJpeg(b);
    } else if (b.size() >= 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
        h = ReadPng(b);
    } else if (b.size() >= 2 && b[0] == 'B' && b[1] == 'M') {
        h = ReadBmp(b);
    } else if (b.size() >= 12 && std::memcmp(b.data(), "RIFF", 4) == 0 &&
               std::memcmp(&b[8], "WEBP", 4) == 0) {
        h = ReadWebp(b);
    }
    if (h && (h->width <= 0 || h->height <= 0))
        return Corrupt("the header gives a zero image size");
    return h;
}

}  // namespace liveproof::media
