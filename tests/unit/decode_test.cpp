// DecodeImage: caps enforced from the header before any pixel is allocated, clear errors for
// empty, foreign, truncated and garbage bytes, and every accepted colour layout (grey, RGBA,
// 16-bit, CMYK) and EXIF orientation coming out as upright 8-bit BGR.
#include "media/decode.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "support/cmyk_jpeg.hpp"
#include "support/media_fixtures.hpp"
#include "support/progressive_jpeg.hpp"

namespace liveproof::media {
namespace {

using test::Bytes;
using test::Encode;
using test::EncodeJpeg;
using test::MeanAbsDiff;

// A photo-like image: the test card plus fixed noise, so that encoders produce realistic,
// incompressible scan data.
cv::Mat NoisyCard(int width, int height) {
    cv::Mat img = test::TestCard(width, height);
    cv::Mat noise(img.size(), CV_8UC3);
    cv::RNG rng(7);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 40);
    cv::add(img, noise, img);
    return img;
}

Bytes Prefix(const Bytes& b, std::size_t n) {
    return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
}

void ExpectError(const Expected<DecodedImage>& r, ErrorCode code, const std::string& detail_part,
                 const std::string& what) {
    ASSERT_FALSE(r) << what << ": decoded to " << r->bgr.cols << "x" << r->bgr.rows;
    EXPECT_EQ(r.error().code, code) << what << ": " << r.error().detail;
    EXPECT_NE(r.error().detail.find(detail_part), std::string::npos)
        << what << ": detail '" << r.error().detail << "' lacks '" << detail_part << "'";
}

// Decodes and checks the result is 8-bit BGR of the given size.
cv::Mat MustDecode(const Bytes& bytes, int width, int height, const std::string& what) {
    auto r = DecodeImage(bytes, MediaLimits{});
    EXPECT_TRUE(r) << what << ": " << (r ? "" : r.error().detail);
    if (!r) return {};
    EXPECT_EQ(r->bgr.type(), CV_8UC3) << what;
    EXPECT_EQ(r->bgr.cols, width) << what;
    EXPECT_EQ(r->bgr.rows, height) << what;
    return r->bgr;
}

// --- Rejected inputs -------------------------------------------------------------------------

TEST(DecodeTest, EmptyInputIsEmptyInput) {
    ExpectError(DecodeImage({}, MediaLimits{}), ErrorCode::EmptyInput, "empty", "0 bytes");
}

TEST(DecodeTest, NonImageBytesAreUnsupportedFormat) {
    const std::string text = "{\"image\": \"not really\"}\n";
    const Bytes bytes(text.begin(), text.end());
    ExpectError(DecodeImage(bytes, MediaLimits{}), ErrorCode::UnsupportedFormat, "not a JPEG",
                "JSON text");
}

TEST(DecodeTest, JpegCutInHalfIsCorruptAndSaysTruncated) {
    const Bytes jpeg = EncodeJpeg(NoisyCard(320, 240));
    ASSERT_TRUE(DecodeImage(jpeg, MediaLimits{})) << "the uncut fixture must decode";
    ExpectError(DecodeImage(Prefix(jpeg, jpeg.size() / 2), MediaLimits{}), ErrorCode::CorruptImage,
                "truncated", "JPEG cut in half");
}

TEST(DecodeTest, JpegCutAnywhereInItsScanIsCorrupt) {
    const Bytes jpeg = EncodeJpeg(NoisyCard(320, 240));
    for (std::size_t n = jpeg.size() / 8; n < jpeg.size(); n += jpeg.size() / 8) {
        ExpectError(DecodeImage(Prefix(jpeg, n), MediaLimits{}), ErrorCode::CorruptImage,
                    "truncated", "JPEG cut to " + std::to_string(n) + " bytes");
    }
    ExpectError(DecodeImage(Prefix(jpeg, jpeg.size() - 1), MediaLimits{}), ErrorCode::CorruptImage,
                "truncated", "JPEG missing the last byte");
}

TEST(DecodeTest, JpegWithBytesAfterTheEndMarkerStillDecodes) {
    Bytes jpeg = EncodeJpeg(NoisyCard(320, 240));
    jpeg.resize(jpeg.size() + 100, 0x00);  // legal trailing padding after EOI
    MustDecode(jpeg, 320, 240, "JPEG with trailing zeros");
}

TEST(DecodeTest, TruncatedJpegWithExifThumbnailIsCorruptNotGreyPadded) {
    // The thumbnail's own end marker lies in the APP1 segment, before the first scan: it must
    // not count as the end of the main image.
    const Bytes thumb = EncodeJpeg(NoisyCard(80, 60), 80);
    const Bytes jpeg = test::InsertAfterSoi(EncodeJpeg(NoisyCard(320, 240), 90),
                                            test::App1Exif(test::ExifTiffWithThumbnail(thumb)));
    ASSERT_TRUE(DecodeImage(jpeg, MediaLimits{})) << "the uncut fixture must decode";
    for (std::size_t n : {jpeg.size() / 2, jpeg.size() * 3 / 4, jpeg.size() - 2}) {
        ExpectError(DecodeImage(Prefix(jpeg, n), MediaLimits{}), ErrorCode::CorruptImage,
                    "truncated", "JPEG with thumbnail cut to " + std::to_string(n) + " bytes");
    }
}

TEST(DecodeTest, TruncatedPngIsCorrupt) {
    const Bytes png = Encode(NoisyCard(320, 240), ".png");
    ASSERT_TRUE(DecodeImage(png, MediaLimits{})) << "the uncut fixture must decode";
    for (std::size_t n : {std::size_t{100}, png.size() / 2, png.size() * 9 / 10}) {
        ExpectError(DecodeImage(Prefix(png, n), MediaLimits{}), ErrorCode::CorruptImage,
                    "png could not be decoded", "PNG cut to " + std::to_string(n) + " bytes");
    }
}

TEST(DecodeTest, TruncatedBmpAndWebpAreCorrupt) {
    for (const std::string ext : {".bmp", ".webp"}) {
        const Bytes full = Encode(NoisyCard(320, 240), ext);
        ASSERT_FALSE(full.empty()) << ext;
        ASSERT_TRUE(DecodeImage(full, MediaLimits{})) << ext << ": the uncut fixture must decode";
        ExpectError(DecodeImage(Prefix(full, full.size() / 2), MediaLimits{}),
                    ErrorCode::CorruptImage, "could not be decoded", ext + " cut in half");
    }
}

TEST(DecodeTest, RandomGarbageAfterJpegMagicIsRejectedWithoutCrashing) {
    for (std::uint32_t seed = 1; seed <= 200; ++seed) {
        std::mt19937 rng(seed);
        Bytes bytes = {0xFF, 0xD8, 0xFF};
        bytes.resize(3 + 64 + rng() % 4096);
        for (std::size_t i = 3; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(rng());
        if (seed % 2 == 0) {  // half of them end in EOI so that the decoder itself is reached
            bytes.push_back(0xFF);
            bytes.push_back(0xD9);
        }
        auto r = DecodeImage(bytes, MediaLimits{});
        ASSERT_FALSE(r) << "seed " << seed << " decoded";
        EXPECT_TRUE(r.error().code == ErrorCode::CorruptImage ||
                    r.error().code == ErrorCode::ImageTooLarge)
            << "seed " << seed << ": " << ErrorCodeName(r.error().code) << " " << r.error().detail;
        EXPECT_FALSE(r.error().detail.empty());
    }
}

TEST(DecodeTest, ValidJpegHeadersWithGarbageScanDataAreRejectedWithoutCrashing) {
    // A real header (SOF, DHT, DQT, SOS) followed by random entropy-coded bytes and an EOI.
    const Bytes jpeg = EncodeJpeg(NoisyCard(320, 240));
    std::size_t sos = 2;
    while (jpeg[sos + 1] != 0xDA) sos += 2 + ((std::size_t{jpeg[sos + 2]} << 8) | jpeg[sos + 3]);
    const std::size_t scan = sos + 2 + ((std::size_t{jpeg[sos + 2]} << 8) | jpeg[sos + 3]);
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
        std::mt19937 rng(seed);
        Bytes bytes = Prefix(jpeg, scan);
        for (int i = 0; i < 2000; ++i) bytes.push_back(static_cast<std::uint8_t>(rng()));
        bytes.push_back(0xFF);
        bytes.push_back(0xD9);
        // libjpeg may conceal bad entropy data; either outcome is acceptable, a crash is not.
        auto r = DecodeImage(bytes, MediaLimits{});
        if (r) {
            EXPECT_EQ(r->bgr.size(), cv::Size(320, 240)) << "seed " << seed;
        } else {
            EXPECT_EQ(r.error().code, ErrorCode::CorruptImage) << "seed " << seed;
        }
    }
}

// Records the largest cv::Mat buffer requested while installed as the default allocator.
class LargestAllocation : public cv::MatAllocator {
  public:
    LargestAllocation() : base_(cv::Mat::getDefaultAllocator()) {
        cv::Mat::setDefaultAllocator(this);
    }
    ~LargestAllocation() override { cv::Mat::setDefaultAllocator(base_); }
    LargestAllocation(const LargestAllocation&) = delete;
    LargestAllocation& operator=(const LargestAllocation&) = delete;

    cv::UMatData* allocate(int dims, const int* sizes, int type, void* data, std::size_t* step,
                           cv::AccessFlag flags, cv::UMatUsageFlags usage) const override {
        std::size_t bytes = CV_ELEM_SIZE(type);
        for (int i = 0; i < dims; ++i) bytes *= static_cast<std::size_t>(sizes[i]);
        std::size_t seen = largest_.load();
        while (bytes > seen && !largest_.compare_exchange_weak(seen, bytes)) {
        }
        return base_->allocate(dims, sizes, type, data, step, flags, usage);
    }
    bool allocate(cv::UMatData* data, cv::AccessFlag flags,
                  cv::UMatUsageFlags usage) const override {
        return base_->allocate(data, flags, usage);
    }
    void deallocate(cv::UMatData* data) const override { base_->deallocate(data); }
    [[nodiscard]] std::size_t largest() const { return largest_.load(); }

  private:
    cv::MatAllocator* base_;
    mutable std::atomic<std::size_t> largest_{0};
};

TEST(DecodeTest, AllocationProbeSeesTheDecodeBuffer) {
    // Control for the next test: a real decode is visible to the probe.
    const Bytes png = Encode(NoisyCard(640, 480), ".png");
    LargestAllocation probe;
    ASSERT_TRUE(DecodeImage(png, MediaLimits{}));
    EXPECT_GE(probe.largest(), std::size_t{640} * 480 * 3);
}

TEST(DecodeTest, ForgedHugePngIsImageTooLargeBeforeAnyPixelIsAllocated) {
    // 20000x20000 is under OpenCV's own 2^30-pixel guard, so only our header check stops a
    // 1.2 GB allocation here.
    LargestAllocation probe;
    const auto start = std::chrono::steady_clock::now();
    auto r = DecodeImage(test::ForgedPng(20000, 20000), MediaLimits{});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ExpectError(r, ErrorCode::ImageTooLarge, "20000x20000", "forged 20000x20000 PNG");
    EXPECT_LT(probe.largest(), std::size_t{1} << 20) << "a pixel buffer was allocated";
    EXPECT_LT(elapsed, std::chrono::milliseconds(50));
}

TEST(DecodeTest, ForgedPngOverEachCapIsImageTooLargeNamingTheCaps) {
    const MediaLimits limits;
    ExpectError(DecodeImage(test::ForgedPng(60000, 60000), limits), ErrorCode::ImageTooLarge,
                "60000x60000 pixels; the caps are 40000000 pixels and 16384 per side",
                "60000x60000");
    ExpectError(DecodeImage(test::ForgedPng(16385, 1), limits), ErrorCode::ImageTooLarge, "16385x1",
                "one side over the cap");
    ExpectError(DecodeImage(test::ForgedPng(8000, 8000), limits), ErrorCode::ImageTooLarge,
                "8000x8000", "pixel count over the cap, sides under");
}

TEST(DecodeTest, ForgedJpegFrameHeaderOverTheCapIsImageTooLarge) {
    Bytes jpeg = EncodeJpeg(NoisyCard(64, 48));
    std::size_t sof = 2;
    while (jpeg[sof + 1] != 0xC0) sof += 2 + ((std::size_t{jpeg[sof + 2]} << 8) | jpeg[sof + 3]);
    std::fill(jpeg.begin() + static_cast<std::ptrdiff_t>(sof) + 5,
              jpeg.begin() + static_cast<std::ptrdiff_t>(sof) + 9, 0xFF);  // 65535x65535
    LargestAllocation probe;
    ExpectError(DecodeImage(jpeg, MediaLimits{}), ErrorCode::ImageTooLarge, "65535x65535",
                "JPEG SOF claiming 65535x65535");
    EXPECT_LT(probe.largest(), std::size_t{1} << 20);
}

TEST(DecodeTest, CapsComeFromTheLimitsGiven) {
    const Bytes png = Encode(NoisyCard(320, 240), ".png");
    MediaLimits limits;
    limits.max_image_side = 319;
    ExpectError(DecodeImage(png, limits), ErrorCode::ImageTooLarge, "320x240", "side cap 319");
    limits = MediaLimits{};
    limits.max_image_pixels = 320 * 240 - 1;
    ExpectError(DecodeImage(png, limits), ErrorCode::ImageTooLarge, "320x240", "pixel cap");
    limits.max_image_pixels = 320 * 240;
    EXPECT_TRUE(DecodeImage(png, limits)) << "exactly at the pixel cap is allowed";
}

TEST(DecodeTest, BytesOverTheCapAreInputTooLargeBeforeParsing) {
    const Bytes jpeg = EncodeJpeg(NoisyCard(320, 240));
    MediaLimits limits;
    limits.max_image_bytes = jpeg.size() - 1;
    ExpectError(
        DecodeImage(jpeg, limits), ErrorCode::InputTooLarge,
        std::to_string(jpeg.size()) + " bytes; the cap is " + std::to_string(jpeg.size() - 1),
        "one byte over");
    limits.max_image_bytes = jpeg.size();
    EXPECT_TRUE(DecodeImage(jpeg, limits)) << "exactly at the byte cap is allowed";
    // Checked before the header: even garbage over the cap is InputTooLarge.
    limits.max_image_bytes = 10;
    ExpectError(DecodeImage(Bytes(11, 0x00), limits), ErrorCode::InputTooLarge, "the cap is 10",
                "garbage over the cap");
}

// --- Colour layouts --------------------------------------------------------------------------

TEST(DecodeTest, EveryContainerDecodesToBgrOfTheRightSize) {
    const cv::Mat card = NoisyCard(96, 64);
    const std::vector<std::pair<std::string, std::vector<int>>> cases = {
        {".jpg", {}}, {".png", {}}, {".bmp", {}}, {".webp", {cv::IMWRITE_WEBP_QUALITY, 101}}};
    for (const auto& [ext, params] : cases) {
        const cv::Mat got = MustDecode(Encode(card, ext, params), 96, 64, ext);
        if (ext != ".jpg") {
            EXPECT_LT(MeanAbsDiff(got, card), 0.01) << ext << " is lossless";
        }
    }
}

TEST(DecodeTest, GreyscaleJpegBecomesBgrWithEqualChannels) {
    cv::Mat grey;
    cv::cvtColor(NoisyCard(96, 64), grey, cv::COLOR_BGR2GRAY);
    const Bytes jpeg = EncodeJpeg(grey);
    ASSERT_EQ(test::JpegComponents(jpeg), 1) << "fixture is not a 1-component JPEG";
    const cv::Mat got = MustDecode(jpeg, 96, 64, "grey JPEG");
    cv::Mat grey_bgr;
    cv::cvtColor(grey, grey_bgr, cv::COLOR_GRAY2BGR);
    EXPECT_LT(MeanAbsDiff(got, grey_bgr), 3.0);
}

TEST(DecodeTest, GreyscalePngBecomesBgrExactly) {
    cv::Mat grey;
    cv::cvtColor(NoisyCard(96, 64), grey, cv::COLOR_BGR2GRAY);
    const cv::Mat got = MustDecode(Encode(grey, ".png"), 96, 64, "grey PNG");
    cv::Mat grey_bgr;
    cv::cvtColor(grey, grey_bgr, cv::COLOR_GRAY2BGR);
    EXPECT_LT(MeanAbsDiff(got, grey_bgr), 0.01);
}

TEST(DecodeTest, RgbaPngDropsAlphaAndKeepsColours) {
    const cv::Mat card = NoisyCard(96, 64);
    cv::Mat bgra;
    cv::cvtColor(card, bgra, cv::COLOR_BGR2BGRA);
    for (int y = 0; y < bgra.rows; ++y) {  // alpha from transparent (top) to opaque (bottom)
        for (int x = 0; x < bgra.cols; ++x) {
            bgra.at<cv::Vec4b>(y, x)[3] = static_cast<std::uint8_t>(255 * y / (bgra.rows - 1));
        }
    }
    const cv::Mat got = MustDecode(Encode(bgra, ".png"), 96, 64, "RGBA PNG");
    EXPECT_LT(MeanAbsDiff(got, card), 0.01);
}

TEST(DecodeTest, SixteenBitColourPngBecomesEightBitBgr) {
    const cv::Mat card = NoisyCard(96, 64);
    cv::Mat wide;
    card.convertTo(wide, CV_16UC3, 257.0);  // v -> v * 257, whose top byte is v
    const cv::Mat got = MustDecode(Encode(wide, ".png"), 96, 64, "16-bit RGB PNG");
    EXPECT_LT(MeanAbsDiff(got, card), 0.6);
}

TEST(DecodeTest, SixteenBitGreyPngBecomesEightBitBgr) {
    cv::Mat grey;
    cv::cvtColor(NoisyCard(96, 64), grey, cv::COLOR_BGR2GRAY);
    cv::Mat wide;
    grey.convertTo(wide, CV_16UC1, 257.0);
    const cv::Mat got = MustDecode(Encode(wide, ".png"), 96, 64, "16-bit grey PNG");
    cv::Mat grey_bgr;
    cv::cvtColor(grey, grey_bgr, cv::COLOR_GRAY2BGR);
    EXPECT_LT(MeanAbsDiff(got, grey_bgr), 0.6);
}

TEST(DecodeTest, CmykJpegDecodesToPlausibleBgrColours) {
    // Flat patches: red, green, blue, white, mid grey, orange, dark blue-grey.
    const std::vector<cv::Vec3b> colours = {{0, 0, 255},     {0, 255, 0},     {255, 0, 0},
                                            {255, 255, 255}, {128, 128, 128}, {0, 128, 255},
                                            {90, 60, 40}};
    const int side = 32;
    cv::Mat patches(side, side * static_cast<int>(colours.size()), CV_8UC3);
    for (std::size_t i = 0; i < colours.size(); ++i) {
        patches(cv::Rect(static_cast<int>(i) * side, 0, side, side))
            .setTo(cv::Scalar(colours[i][0], colours[i][1], colours[i][2]));
    }
    const Bytes cmyk = test::EncodeCmykJpeg(patches);
    ASSERT_EQ(test::JpegComponents(cmyk), 4) << "fixture is not a 4-component JPEG";
    const cv::Mat got = MustDecode(cmyk, patches.cols, patches.rows, "CMYK JPEG");
    ASSERT_FALSE(got.empty());
    for (std::size_t i = 0; i < colours.size(); ++i) {
        const cv::Rect inner(static_cast<int>(i) * side + 8, 8, side - 16, side - 16);
        const cv::Scalar mean = cv::mean(got(inner));
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(mean[c], colours[i][c], 8.0) << "patch " << i << " channel " << c;
        }
    }
}

// --- EXIF orientation ------------------------------------------------------------------------

class ExifDecodeTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(ExifDecodeTest, ExifRotatedJpegDecodesToTheUprightImage) {
    const auto [orientation, big_endian] = GetParam();
    const cv::Mat upright = test::TestCard(96, 64);  // smooth, so JPEG keeps it close
    // The card must not look like itself under any flip or rotation, or this test proves nothing.
    for (int o = 2; o <= 8; ++o) {
        const cv::Mat moved = test::StoredForOrientation(upright, o);
        if (moved.size() == upright.size()) {
            ASSERT_GT(MeanAbsDiff(moved, upright), 20.0) << o;
        }
    }
    auto r = DecodeImage(test::ExifRotatedJpeg(upright, orientation, big_endian), MediaLimits{});
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->header.exif_orientation, orientation);
    const bool swapped = orientation >= 5;
    EXPECT_EQ(r->header.width, swapped ? 64 : 96) << "the header keeps the stored size";
    ASSERT_EQ(r->bgr.size(), upright.size());
    EXPECT_LT(MeanAbsDiff(r->bgr, upright), 4.0) << "not upright after orientation " << orientation;
}

INSTANTIATE_TEST_SUITE_P(Orientations, ExifDecodeTest,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<int, bool>>& p) {
                             return std::to_string(std::get<0>(p.param)) +
                                    (std::get<1>(p.param) ? "_MM" : "_II");
                         });

TEST(DecodeTest, MalformedExifDecodesWithoutRotation) {
    const cv::Mat card = test::TestCard(96, 64);
    Bytes tiff = test::ExifTiff(6, false);
    tiff[4] = 0xF0;  // IFD0 offset past the block
    auto r =
        DecodeImage(test::InsertAfterSoi(EncodeJpeg(card), test::App1Exif(tiff)), MediaLimits{});
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->header.exif_orientation, 1);
    EXPECT_LT(MeanAbsDiff(r->bgr, card), 4.0);
}

}  // namespace
}  // namespace liveproof::media

// --- Progressive JPEG scan cap (a scan bomb held a worker 21 s) ---------------------------------

namespace liveproof::media {
namespace {

TEST(DecodeScanCapTest, OrdinaryProgressiveJpegHasTenScansAndDecodes) {
    const cv::Mat card = NoisyCard(96, 64);
    const Bytes jpeg = test::EncodeProgressiveJpeg(card, /*many_scans=*/false);
    EXPECT_EQ(CountJpegScans(jpeg, 1000), 10);
    const cv::Mat decoded = MustDecode(jpeg, 96, 64, "progressive");
    EXPECT_LT(MeanAbsDiff(decoded, card), 8.0);
}

TEST(DecodeScanCapTest, BaselineJpegHasOneScan) {
    EXPECT_EQ(CountJpegScans(EncodeJpeg(NoisyCard(64, 48)), 1000), 1);
}

TEST(DecodeScanCapTest, JpegWithMoreScansThanTheCapIsImageTooLarge) {
    const Bytes bomb = test::EncodeProgressiveJpeg(NoisyCard(64, 48), /*many_scans=*/true);
    EXPECT_EQ(CountJpegScans(bomb, 1000), 190);
    // The count stops at the cap: the walk costs one pass at most.
    EXPECT_EQ(CountJpegScans(bomb, 65), 65);
    ExpectError(DecodeImage(bomb, MediaLimits{}), ErrorCode::ImageTooLarge, "more than 64 scans",
                "190-scan JPEG, default cap");
    MediaLimits generous;
    generous.max_jpeg_scans = 190;
    auto decoded = DecodeImage(bomb, generous);
    ASSERT_TRUE(decoded) << decoded.error().detail;
    EXPECT_EQ(decoded->bgr.cols, 64);
}

TEST(DecodeScanCapTest, ScanCountOfTruncatedOrGarbageJpegNeverReadsPastTheEnd) {
    const Bytes bomb = test::EncodeProgressiveJpeg(NoisyCard(64, 48), true);
    for (std::size_t n = 0; n <= bomb.size(); n += 7) {
        const int scans = CountJpegScans(Prefix(bomb, n), 1000);
        EXPECT_GE(scans, 0);
        EXPECT_LE(scans, 190);
    }
    std::mt19937 rng(3);
    Bytes garbage = {0xFF, 0xD8};
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<std::uint8_t>(rng()));
    EXPECT_GE(CountJpegScans(garbage, 1000), 0);
}

}  // namespace
}  // namespace liveproof::media

// Every upright pixel's centre, taken back to the stored grid, lands on the stored pixel that
// ApplyExifOrientation moved there (distinct values: a wrong mapping cannot match by chance).
TEST(DecodeTest, UprightToStoredInvertsEveryExifOrientation) {
    const int w = 7, h = 4;
    cv::Mat stored(h, w, CV_16UC1);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            stored.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>(y * w + x);
    for (int o = 1; o <= 8; ++o) {
        const cv::Mat upright = liveproof::media::ApplyExifOrientation(stored, o);
        ASSERT_EQ(upright.cols * upright.rows, w * h) << o;
        for (int v = 0; v < upright.rows; ++v) {
            for (int u = 0; u < upright.cols; ++u) {
                const auto p = liveproof::media::UprightToStored(
                    {static_cast<float>(u) + 0.5f, static_cast<float>(v) + 0.5f}, o, w, h);
                const int x = static_cast<int>(p.x), y = static_cast<int>(p.y);
                ASSERT_TRUE(x >= 0 && x < w && y >= 0 && y < h) << "orientation " << o;
                EXPECT_EQ(stored.at<std::uint16_t>(y, x), upright.at<std::uint16_t>(v, u))
                    << "orientation " << o << " at (" << u << ", " << v << ")";
            }
        }
    }
}
