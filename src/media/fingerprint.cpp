// Luminance fingerprints of decoded frames and their distance.
#include "media/fingerprint.hpp"

#include <cstdlib>

namespace liveproof::media {

std::vector<std::uint8_t> LumaFingerprint(const cv::Mat& bgr) {
    std::vector<std::uint8_t> out;
    if (bgr.empty() || bgr.type() != CV_8UC3) return out;
    out.reserve(kFingerprintCols * kFingerprintRows);
    for (int r = 0; r < kFingerprintRows; ++r) {
        const int y = static_cast<int>((2 * r + 1) * static_cast<std::int64_t>(bgr.rows) /
                                       (2 * kFingerprintRows));
        const auto* row = bgr.ptr<cv::Vec3b>(y);
        for (int c = 0; c < kFingerprintCols; ++c) {
            const int x = static_cast<int>((2 * c + 1) * static_cast<std::int64_t>(bgr.cols) /
                                           (2 * kFingerprintCols));
            const cv::Vec3b& p = row[x];
            out.push_back(static_cast<std::uint8_t>((29 * p[0] + 150 * p[1] + 77 * p[2]) >> 8));
        }
    }
    return out;
}

int FingerprintDistance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                        int tolerance) {
    if (a.size() != b.size()) return static_cast<int>(std::max(a.size(), b.size()));
    int differing = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::abs(int{a[i]} - int{b[i]}) > tolerance) ++differing;
    }
    return differing;
}

}  // namespace liveproof::media
