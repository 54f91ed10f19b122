// libFuzzer target: the engine's image decoder (src/media/decode) on arbitrary bytes: caps are
// checked before decoding, and a success is an upright 8-bit BGR image of the header's size.
#include <cstddef>
#include <cstdint>
#include <opencv2/core.hpp>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "media/decode.hpp"

namespace {

[[noreturn]] void Broken(const char* what) { liveproof::fuzz::Fail(what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool once = [] {
        cv::setNumThreads(0);  // no OpenCV thread pool: one core, deterministic
        return true;
    }();
    (void)once;
    // The real caps except the pixel ones: 1 MP keeps one run in milliseconds (a 40 MP header on
    // a few bytes of data still decodes, grey, at full size). Bytes: the default 32 MB.
    liveproof::MediaLimits limits;
    limits.max_image_pixels = 1u << 20;
    limits.max_image_side = 4096;
    const std::vector<std::uint8_t> bytes(data, data + size);  // exact-size heap copy
    const auto span = std::span<const std::uint8_t>(bytes);
    auto header = liveproof::media::ReadImageHeader(span);
    // The scan walk that guards progressive JPEGs stops where it is told to.
    const int scans = liveproof::media::CountJpegScans(span, 8);
    if (scans < 0 || scans > 8) Broken("CountJpegScans passed its stop");
    auto image = liveproof::media::DecodeImage(span, limits);
    if (!image) {
        using liveproof::ErrorCode;
        const ErrorCode code = image.error().code;
        if (code != ErrorCode::UnsupportedFormat && code != ErrorCode::CorruptImage &&
            code != ErrorCode::EmptyInput && code != ErrorCode::ImageTooLarge &&
            code != ErrorCode::InputTooLarge)
            Broken("unexpected error code");
        if (header &&
            (std::uint64_t(header->width) * std::uint64_t(header->height) >
                 limits.max_image_pixels ||
             header->width > limits.max_image_side || header->height > limits.max_image_side) &&
            code != ErrorCode::ImageTooLarge)
            Broken("a header over the caps was not refused as ImageTooLarge");
        return 0;
    }
    if (!header) Broken("decoded although the header was refused");
    if (header->format == liveproof::media::ImageFormat::Jpeg &&
        liveproof::media::CountJpegScans(span, limits.max_jpeg_scans + 1) > limits.max_jpeg_scans)
        Broken("a JPEG over the scan cap was decoded");
    const cv::Mat& m = image->bgr;
    if (m.empty() || m.type() != CV_8UC3) Broken("not 8-bit BGR");
    const bool swapped = image->header.exif_orientation >= 5;
    const int w = swapped ? image->header.height : image->header.width;
    const int h = swapped ? image->header.width : image->header.height;
    if (m.cols != w || m.rows != h) Broken("size differs from the header");
    if (std::uint64_t(m.cols) * std::uint64_t(m.rows) > limits.max_image_pixels)
        Broken("pixel cap exceeded");
    // Touch every pixel: ASan sees a matrix whose buffer is smaller than its size says.
    volatile unsigned sum = 0;
    for (int y = 0; y < m.rows; ++y) {
        const auto* row = m.ptr<std::uint8_t>(y);
        sum = sum + row[0] + row[m.cols * 3 - 1];
    }
    return 0;
}
