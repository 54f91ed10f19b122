// Builders of hand-made media test inputs: EXIF APP1 segments, re-encoded and forged images.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/error.hpp"

namespace liveproof {

/// @brief Lets GoogleTest print an ErrorCode by its name in failure messages.
inline void PrintTo(ErrorCode code, std::ostream* os) { *os << ErrorCodeName(code); }

}  // namespace liveproof

namespace liveproof::test {

using Bytes = std::vector<std::uint8_t>;

/// @brief Appends v as 2 bytes in the given byte order.
inline void Put16(Bytes& out, std::uint32_t v, bool big_endian) {
    const auto lo = static_cast<std::uint8_t>(v & 0xFF);
    const auto hi = static_cast<std::uint8_t>((v >> 8) & 0xFF);
    out.push_back(big_endian ? hi : lo);
    out.push_back(big_endian ? lo : hi);
}

/// @brief Appends v as 4 bytes in the given byte order.
inline void Put32(Bytes& out, std::uint32_t v, bool big_endian) {
    Put16(out, big_endian ? v >> 16 : v & 0xFFFF, big_endian);
    Put16(out, big_endian ? v & 0xFFFF : v >> 16, big_endian);
}

/// @brief A TIFF block ("II" or "MM") whose IFD0 holds a Software tag and then Orientation
/// (SHORT, count 1, value inline), as cameras write it.
inline Bytes ExifTiff(int orientation, bool big_endian) {
    Bytes t;
    t.push_back(big_endian ? 'M' : 'I');
    t.push_back(big_endian ? 'M' : 'I');
    Put16(t, 42, big_endian);
    Put32(t, 8, big_endian);  // IFD0 right after the header
    Put16(t, 2, big_endian);  // two entries
    // 0x0131 Software, ASCII, count 4, inline "lp\0\0".
    Put16(t, 0x0131, big_endian);
    Put16(t, 2, big_endian);
    Put32(t, 4, big_endian);
    for (char c : {'l', 'p', '\0', '\0'}) t.push_back(static_cast<std::uint8_t>(c));
    // 0x0112 Orientation, SHORT, count 1, value in the first 2 bytes of the value field.
    Put16(t, 0x0112, big_endian);
    Put16(t, 3, big_endian);
    Put32(t, 1, big_endian);
    Put16(t, static_cast<std::uint32_t>(orientation), big_endian);
    Put16(t, 0, big_endian);
    Put32(t, 0, big_endian);  // no next IFD
    return t;
}

/// @brief A complete APP1 segment (FF E1, length, "Exif\0\0", payload).
inline Bytes App1Exif(const Bytes& tiff) {
    const std::size_t length = 2 + 6 + tiff.size();
    Bytes seg(2 + length);
    seg[0] = 0xFF;
    seg[1] = 0xE1;
    seg[2] = static_cast<std::uint8_t>(length >> 8);
    seg[3] = static_cast<std::uint8_t>(length & 0xFF);
    std::memcpy(&seg[4], "Exif\0\0", 6);
    std::copy(tiff.begin(), tiff.end(), seg.begin() + 10);
    return seg;
}

/// @brief bytes with insert placed at offset at (at <= bytes.size()).
inline Bytes Splice(const Bytes& bytes, std::size_t at, const Bytes& insert) {
    Bytes out(bytes.size() + insert.size());
    const auto mid = bytes.begin() + static_cast<std::ptrdiff_t>(at);
    auto it = std::copy(bytes.begin(), mid, out.begin());
    it = std::copy(insert.begin(), insert.end(), it);
    std::copy(mid, bytes.end(), it);
    return out;
}

/// @brief The JPEG with segment inserted right after SOI (FF D8).
inline Bytes InsertAfterSoi(const Bytes& jpeg, const Bytes& segment) {
    return Splice(jpeg, 2, segment);
}

/// @brief cv::imencode into bytes; ext like ".jpg" or ".png".
inline Bytes Encode(const cv::Mat& image, const std::string& ext,
                    const std::vector<int>& params = {}) {
    Bytes out;
    if (!cv::imencode(ext, image, out, params)) out.clear();
    return out;
}

/// @brief A JPEG of image (quality 95).
inline Bytes EncodeJpeg(const cv::Mat& image, int quality = 95) {
    return Encode(image, ".jpg", {cv::IMWRITE_JPEG_QUALITY, quality});
}

/// @brief What a camera stores for an upright scene when it writes EXIF orientation o (1..8):
/// the inverse of the transform the tag asks a viewer to apply (6 = "rotate 90 clockwise to
/// view", so the stored pixels are the scene rotated 90 counter-clockwise). Written from the
/// EXIF 2.3 table, independently of the code under test.
inline cv::Mat StoredForOrientation(const cv::Mat& upright, int orientation) {
    cv::Mat stored;
    switch (orientation) {
        case 2:
            cv::flip(upright, stored, 1);
            break;  // mirrored horizontally
        case 3:
            cv::rotate(upright, stored, cv::ROTATE_180);
            break;
        case 4:
            cv::flip(upright, stored, 0);
            break;  // mirrored vertically
        case 5:
            cv::transpose(upright, stored);
            break;  // its own inverse
        case 6:
            cv::rotate(upright, stored, cv::ROTATE_90_COUNTERCLOCKWISE);
            break;
        case 7:
            cv::flip(upright.t(), stored, -1);
            break;  // transverse, its own inverse
        case 8:
            cv::rotate(upright, stored, cv::ROTATE_90_CLOCKWISE);
            break;
        default:
            stored = upright.clone();
            break;
    }
    return stored;
}

/// @brief A JPEG of StoredForOrientation(upright, o) with an EXIF APP1 right after SOI.
inline Bytes ExifRotatedJpeg(const cv::Mat& upright, int orientation, bool big_endian = false) {
    return InsertAfterSoi(EncodeJpeg(StoredForOrientation(upright, orientation)),
                          App1Exif(ExifTiff(orientation, big_endian)));
}

/// @brief A little-endian TIFF block with IFD0 (orientation 1) and IFD1 pointing at an embedded
/// JPEG thumbnail, as cameras write it: the thumbnail's FF D9 sits in the header segments.
inline Bytes ExifTiffWithThumbnail(const Bytes& thumbnail) {
    Bytes t = {'I', 'I'};
    Put16(t, 42, false);
    Put32(t, 8, false);
    Put16(t, 1, false);  // IFD0: Orientation = 1
    Put16(t, 0x0112, false);
    Put16(t, 3, false);
    Put32(t, 1, false);
    Put32(t, 1, false);
    Put32(t, 26, false);  // next IFD (IFD1) at 8 + 2 + 12 + 4
    Put16(t, 2, false);   // IFD1: JPEGInterchangeFormat, JPEGInterchangeFormatLength
    Put16(t, 0x0201, false);
    Put16(t, 4, false);
    Put32(t, 1, false);
    Put32(t, 56, false);  // 26 + 2 + 24 + 4
    Put16(t, 0x0202, false);
    Put16(t, 4, false);
    Put32(t, 1, false);
    Put32(t, static_cast<std::uint32_t>(thumbnail.size()), false);
    Put32(t, 0, false);
    for (std::uint8_t v : thumbnail) t.push_back(v);
    return t;
}

/// @brief A PNG signature and IHDR claiming width x height (8-bit RGB), then an empty IDAT
/// and IEND: the header is valid, the pixels are absent. CRCs are not filled in.
inline Bytes ForgedPng(std::uint32_t width, std::uint32_t height) {
    Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Put32(b, 13, true);
    for (char c : std::string_view("IHDR")) b.push_back(static_cast<std::uint8_t>(c));
    Put32(b, width, true);
    Put32(b, height, true);
    const Bytes ihdr_rest = {8, 2, 0, 0, 0};  // depth, RGB, deflate, filter, no interlace
    for (std::uint8_t v : ihdr_rest) b.push_back(v);
    Put32(b, 0, true);  // CRC (not checked by the sniffer)
    for (std::string_view chunk : {"IDAT", "IEND"}) {
        Put32(b, 0, true);
        for (char c : chunk) b.push_back(static_cast<std::uint8_t>(c));
        Put32(b, 0, true);
    }
    return b;
}

/// @brief A deterministic, non-symmetric colour test card (gradients plus a marked corner), so
/// that any flip or rotation of it is far from the original.
inline cv::Mat TestCard(int width, int height) {
    cv::Mat img(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<std::uint8_t>(255 * x / width),
                                                static_cast<std::uint8_t>(255 * y / height),
                                                static_cast<std::uint8_t>(128));
        }
    }
    // A white block in the top-left corner and a black bar along the top right.
    img(cv::Rect(0, 0, width / 4, height / 4)).setTo(cv::Scalar(255, 255, 255));
    img(cv::Rect(width / 2, 0, width / 2, height / 10)).setTo(cv::Scalar(0, 0, 0));
    return img;
}

/// @brief Mean absolute difference per channel value between two same-size images.
inline double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size() || a.type() != b.type()) return 1e9;
    cv::Mat d;
    cv::absdiff(a, b, d);
    const cv::Scalar s = cv::mean(d);
    return (s[0] + s[1] + s[2]) / 3.0;
}

/// @brief Grey level of frame i in MakeMjpegAvi clips (cycles through 40, 80, ..., 200).
inline int AviFrameLevel(int i) { return 40 + (i % 5) * 40; }

/// @brief An MJPEG AVI written by OpenCV's built-in writer (no FFmpeg encoder needed) through a
/// private temporary folder: frame i is AviFrameLevel(i) grey with a white top-left block.
/// Empty when the writer cannot be opened.
inline Bytes MakeMjpegAvi(int frames, int width, int height, double fps) {
    namespace fs = std::filesystem;
    std::string dir = (fs::temp_directory_path() / "liveproof-avi-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) return {};
    const fs::path file = fs::path(dir) / "clip.avi";
    Bytes out;
    {
        cv::VideoWriter writer(file.string(), cv::CAP_OPENCV_MJPEG,
                               cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps,
                               cv::Size(width, height));
        for (int i = 0; writer.isOpened() && i < frames; ++i) {
            cv::Mat frame(height, width, CV_8UC3, cv::Scalar::all(AviFrameLevel(i)));
            frame(cv::Rect(0, 0, width / 4, height / 4)).setTo(cv::Scalar::all(255));
            writer.write(frame);
        }
    }
    {
        std::ifstream in(file, std::ios::binary);
        out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return out;
}

}  // namespace liveproof::test
