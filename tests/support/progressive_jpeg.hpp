// Writes progressive JPEGs with libjpeg, with the standard scan script or one with many scans.
#pragma once

#include <jpeglib.h>

#include <cstdint>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <vector>

#include "support/jpeg_writer.hpp"

namespace liveproof::test {

/// @brief Encodes a BGR image as a progressive JPEG. With many_scans false, libjpeg's standard
/// script (jpeg_simple_progression: 10 scans for colour). With many_scans true, a valid script
/// of 1 + 3 * 63 = 190 scans: the DC of all components, then every AC coefficient of every
/// component in a scan of its own (spectral selection Ss = Se) - the shape of a scan bomb.
inline std::vector<std::uint8_t> EncodeProgressiveJpeg(const cv::Mat& bgr, bool many_scans) {
    CV_Assert(bgr.type() == CV_8UC3);
    MemoryJpegWriter writer;
    jpeg_compress_struct& cinfo = writer.info();
    cinfo.image_width = static_cast<JDIMENSION>(bgr.cols);
    cinfo.image_height = static_cast<JDIMENSION>(bgr.rows);
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_EXT_BGR;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 90, TRUE);
    std::vector<jpeg_scan_info> script;
    if (many_scans) {
        jpeg_scan_info dc{};
        dc.comps_in_scan = 3;
        for (int c = 0; c < 3; ++c) dc.component_index[c] = c;
        script.push_back(dc);  // Ss = Se = 0, Ah = Al = 0
        for (int c = 0; c < 3; ++c) {
            for (int k = 1; k < 64; ++k) {
                jpeg_scan_info ac{};
                ac.comps_in_scan = 1;
                ac.component_index[0] = c;
                ac.Ss = k;
                ac.Se = k;
                script.push_back(ac);
            }
        }
        cinfo.scan_info = script.data();
        cinfo.num_scans = static_cast<int>(script.size());
    } else {
        jpeg_simple_progression(&cinfo);
    }
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = {
            const_cast<JSAMPLE*>(bgr.ptr<JSAMPLE>(static_cast<int>(cinfo.next_scanline)))};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    return writer.Finish();
}

}  // namespace liveproof::test
