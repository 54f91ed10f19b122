// Image decoding with caps checked before any pixel is allocated.
#include "media/decode.hpp"

#include <algorithm>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>

namespace liveproof::media {
namespace {

// Offset of the first scan (SOS) marker, found by walking the header segments; b.size() when
// there is none. Header segments (an EXIF thumbnail, an ICC profile) may hold FF D9 bytes.
std::size_t JpegFirstScan(std::span<const std::uint8_t> b) {
    std::size_t pos = 2;
    while (pos + 4 <= b.size() && b[pos] == 0xFF) {
        const std::uint8_t marker = b[pos + 1];
        if (marker == 0xDA) return pos;
        if (marker == 0xFF) {  // fill byte
            ++pos;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            pos += 2;  // markers without a length
            continue;
        }
        pos += 2 + ((std::size_t{b[pos + 2]} << 8) | b[pos + 3]);
    }
    return b.size();
}

}  // namespace

JpegScanWalk WalkJpegScans(std::span<const std::uint8_t> b, int stop_after) {
    JpegScanWalk walk;
    std::size_t pos = JpegFirstScan(b);
    while (pos + 2 <= b.size() && walk.scans < stop_after) {
        // At a marker (FF xx). SOS and every other segment with a length: skip the segment.
        const std::uint8_t marker = b[pos + 1];
        if (marker == 0xD9) {  // EOI; what follows it (trailers, appended data) is not read
            walk.ended = true;
            break;
        }
        if (pos + 4 > b.size()) break;
        if (marker == 0xDA) ++walk.scans;
        pos += 2 + ((std::size_t{b[pos + 2]} << 8) | b[pos + 3]);
        if (marker != 0xDA) {
            // Between scans (DHT, DQT, DRI, COM, APPn): the next marker follows the segment.
            while (pos + 1 < b.size() && b[pos] == 0xFF && b[pos + 1] == 0xFF) ++pos;
            continue;
        }
        // Entropy-coded data: FF 00 is a stuffed byte and FF D0-D7 a restart marker; any other
        // FF xx is the next marker.
        while (pos + 1 < b.size()) {
            if (b[pos] == 0xFF) {
                const std::uint8_t next = b[pos + 1];
                if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) break;
                pos += (next == 0xFF) ? 1 : 2;
            } else {
                ++pos;
            }
        }
    }
    return walk;
}

int CountJpegScans(std::span<const std::uint8_t> b, int stop_after) {
    return WalkJpegScans(b, stop_after).scans;
}

cv::Mat ApplyExifOrientation(const cv::Mat& image, int orientation) {
    cv::Mat out;
    switch (orientation) {
        case 2:
            cv::flip(image, out, 1);
            break;
        case 3:
            cv::rotate(image, out, cv::ROTATE_180);
            break;
        case 4:
            cv::flip(image, out, 0);
            break;
        case 5:
            cv::transpose(image, out);
            break;
        case 6:
            cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE);
            break;
        case 7: {
            cv::Mat t;
            cv::transpose(image, t);
            cv::rotate(t, out, cv::ROTATE_180);
            break;
        }
        case 8:
            cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
            break;
        default:
            out = image;
            break;
    }
    return out;
}

Point2 UprightToStored(Point2 p, int orientation, int stored_width, int stored_height) {
    const auto w = static_cast<float>(stored_width);
    const auto h = static_cast<float>(stored_height);
    switch (orientation) {
        case 2:  // mirrored left-right
            return {w - p.x, p.y};
        case 3:  // turned 180
            return {w - p.x, h - p.y};
        case 4:  // mirrored top-bottom
            return {p.x, h - p.y};
        case 5:  // transposed
            return {p.y, p.x};
        case 6:  // turned 90 clockwise to be upright
            return {p.y, h - p.x};
        case 7:  // transposed, then turned 180
            return {w - p.y, h - p.x};
        case 8:  // turned 90 counter-clockwise to be upright
            return {w - p.y, p.x};
        default:
            return p;
    }
}

Expected<DecodedImage> DecodeImage(std::span<const std::uint8_t> bytes, const MediaLimits& limits) {
    if (bytes.size() > limits.max_image_bytes) {
        return MakeError(ErrorCode::InputTooLarge, "image is " + std::to_string(bytes.size()) +
                                                       " bytes; the cap is " +
                                                       std::to_string(limits.max_image_bytes));
    }
    auto header = ReadImageHeader(bytes);
    if (!header) return Unexpected{header.error()};
    const auto pixels = std::uint64_t(header->width) * std::uint64_t(header->height);
    if (header->width > limits.max_image_side || header->height > limits.max_image_side ||
        pixels > limits.max_image_pixels) {
        return MakeError(ErrorCode::ImageTooLarge,
                         "image is " + std::to_string(header->width) + "x" +
                             std::to_string(header->height) + " pixels; the caps are " +
                             std::to_string(limits.max_image_pixels) + " pixels and " +
                             std::to_string(limits.max_image_side) + " per side");
    }
    if (header->format == ImageFormat::Jpeg) {
        // One pass over the segments: a scan bomb is refused before decoding, and a JPEG cut
        // short (no EOI marker where its scans end) is refused because libjpeg would pad the
        // missing rows grey and report success.
        const JpegScanWalk walk = WalkJpegScans(bytes, limits.max_jpeg_scans + 1);
        if (walk.scans > limits.max_jpeg_scans) {
            return MakeError(ErrorCode::ImageTooLarge,
                             "JPEG has more than " + std::to_string(limits.max_jpeg_scans) +
                                 " scans (progressive JPEGs have about 10); the cap is "
                                 "max_jpeg_scans");
        }
        if (!walk.ended) {
            return MakeError(ErrorCode::CorruptImage, "JPEG is truncated (no end-of-image marker)");
        }
    }
    // cv::imdecode picks its decoder by its own signature tests, not by our sniffed format:
    // when the sniffed format's decoder declines (a WebP whose RIFF sizes disagree), the next
    // one that claims the bytes decodes them. Every other decoder's signature sits at byte 0,
    // where ours already is, except DICOM's "DICM" at byte 128: GDCM then parsed the file and
    // aborted the process on an assert (fuzz finding 8).
    if (bytes.size() >= 132 && std::memcmp(bytes.data() + 128, "DICM", 4) == 0) {
        return MakeError(ErrorCode::CorruptImage,
                         std::string(FormatName(header->format)) +
                             " carries a DICOM signature at byte 128; refused");
    }
    cv::Mat decoded;
    try {
        const cv::Mat wrapped(1, static_cast<int>(bytes.size()), CV_8UC1,
                              const_cast<std::uint8_t*>(bytes.data()));
        // Orientation is applied by us from the parsed tag so that every format behaves alike.
        decoded = cv::imdecode(wrapped, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    } catch (const cv::Exception& e) {
        return MakeError(ErrorCode::CorruptImage,
                         std::string(FormatName(header->format)) + " could not be decoded");
    }
    if (decoded.empty() || decoded.type() != CV_8UC3) {
        return MakeError(ErrorCode::CorruptImage,
                         std::string(FormatName(header->format)) + " could not be decoded");
    }
    if (decoded.cols != header->width || decoded.rows != header->height) {
        return MakeError(ErrorCode::CorruptImage, "decoded size differs from the header's");
    }
    DecodedImage out;
    out.header = *header;
    out.bgr = ApplyExifOrientation(decoded, header->exif_orientation);
    return out;
}

}  // namespace liveproof::media
