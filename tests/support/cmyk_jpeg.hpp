// Writes a CMYK (Adobe, inverted) JPEG with libjpeg directly, which OpenCV cannot encode.
#pragma once

#include <jpeglib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <vector>

#include "support/jpeg_writer.hpp"

namespace liveproof::test {

/// @brief Encodes a BGR image as a 4-component CMYK JPEG in the Adobe convention that
/// Photoshop writes and decoders expect (stored values are 255 - ink): black ink
/// K = 255 - max(R,G,B), the colour inks scaled so that R = C*K/255 on decoding.
inline std::vector<std::uint8_t> EncodeCmykJpeg(const cv::Mat& bgr, int quality = 95) {
    CV_Assert(bgr.type() == CV_8UC3);
    MemoryJpegWriter writer;
    jpeg_compress_struct& cinfo = writer.info();
    cinfo.image_width = static_cast<JDIMENSION>(bgr.cols);
    cinfo.image_height = static_cast<JDIMENSION>(bgr.rows);
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_colorspace(&cinfo, JCS_CMYK);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    std::vector<JSAMPLE> row(static_cast<std::size_t>(bgr.cols) * 4);
    while (cinfo.next_scanline < cinfo.image_height) {
        const auto* src = bgr.ptr<cv::Vec3b>(static_cast<int>(cinfo.next_scanline));
        for (int x = 0; x < bgr.cols; ++x) {
            const int b = src[x][0], g = src[x][1], r = src[x][2];
            const int k = std::max({r, g, b});  // stored K = 255 - black ink
            auto scaled = [k](int v) { return static_cast<JSAMPLE>(k == 0 ? 0 : v * 255 / k); };
            JSAMPLE* dst = &row[static_cast<std::size_t>(x) * 4];
            dst[0] = scaled(r);
            dst[1] = scaled(g);
            dst[2] = scaled(b);
            dst[3] = static_cast<JSAMPLE>(k);
        }
        JSAMPROW rows[1] = {row.data()};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    return writer.Finish();
}

/// @brief Number of components in the first SOF of a JPEG (0 if none is found).
inline int JpegComponents(const std::vector<std::uint8_t>& jpeg) {
    std::size_t pos = 2;
    while (pos + 4 <= jpeg.size() && jpeg[pos] == 0xFF) {
        const std::uint8_t marker = jpeg[pos + 1];
        const std::size_t len = (std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];
        if (marker >= 0xC0 && marker <= 0xC2 && pos + 9 < jpeg.size()) return jpeg[pos + 9];
        pos += 2 + len;
    }
    return 0;
}

}  // namespace liveproof::test
