// ReadImageHeader: format, size and EXIF orientation from headers alone, and clear errors for
// empty, unknown, truncated, zero-sized and malformed inputs (never a crash or a read past the
// end).
#include "media/image_header.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "support/media_fixtures.hpp"

namespace liveproof::media {
namespace {

using test::App1Exif;
using test::Bytes;
using test::Encode;
using test::EncodeJpeg;
using test::ExifTiff;
using test::InsertAfterSoi;
using test::Put16;
using test::Put32;

cv::Mat Card() { return test::TestCard(40, 30); }

// Reads the header and returns it, failing the test (not crashing) on an error.
ImageHeader MustRead(const Bytes& bytes) {
    auto h = ReadImageHeader(bytes);
    EXPECT_TRUE(h) << (h ? "" : h.error().detail);
    return h ? *h : ImageHeader{};
}

void ExpectError(const Bytes& bytes, ErrorCode code, const std::string& detail_part,
                 const std::string& what) {
    auto h = ReadImageHeader(bytes);
    ASSERT_FALSE(h) << what << ": accepted as " << h->width << "x" << h->height;
    EXPECT_EQ(h.error().code, code) << what << ": " << h.error().detail;
    EXPECT_NE(h.error().detail.find(detail_part), std::string::npos)
        << what << ": detail '" << h.error().detail << "' lacks '" << detail_part << "'";
}

// Offset of the first SOFn marker in an encoded JPEG.
std::size_t SofOffset(const Bytes& jpeg) {
    std::size_t pos = 2;
    while (pos + 4 <= jpeg.size()) {
        const std::uint8_t m = jpeg[pos + 1];
        if (m >= 0xC0 && m <= 0xC2) return pos;
        pos += 2 + ((std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3]);
    }
    return 0;
}

// --- Each format ---------------------------------------------------------------------------

TEST(ImageHeaderTest, ReadsBaselineJpegSizeWithoutExifAsOrientation1) {
    const ImageHeader h = MustRead(EncodeJpeg(Card()));
    EXPECT_EQ(h.format, ImageFormat::Jpeg);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 30);
    EXPECT_EQ(h.exif_orientation, 1);
    EXPECT_EQ(FormatName(h.format), "jpeg");
}

TEST(ImageHeaderTest, ReadsProgressiveJpegSize) {
    const Bytes jpeg = Encode(Card(), ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
    ASSERT_EQ(jpeg[SofOffset(jpeg) + 1], 0xC2) << "fixture is not progressive (SOF2)";
    const ImageHeader h = MustRead(jpeg);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 30);
}

TEST(ImageHeaderTest, SkipsFillBytesBeforeAMarker) {
    Bytes jpeg = EncodeJpeg(Card());
    jpeg = test::Splice(jpeg, 2, {0xFF, 0xFF, 0xFF});  // FF D8 FF FF FF FF E0 ...
    const ImageHeader h = MustRead(jpeg);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 30);
}

TEST(ImageHeaderTest, ReadsPngSizeFromIhdr) {
    const ImageHeader h = MustRead(Encode(Card(), ".png"));
    EXPECT_EQ(h.format, ImageFormat::Png);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 30);
    EXPECT_EQ(h.exif_orientation, 1);
}

TEST(ImageHeaderTest, ReadsBmpSizeFromInfoHeader) {
    const ImageHeader h = MustRead(Encode(Card(), ".bmp"));
    EXPECT_EQ(h.format, ImageFormat::Bmp);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 30);
}

// 14-byte file header + a DIB header of dib_size bytes holding width and height.
Bytes BmpHeader(std::uint32_t dib_size, std::int32_t width, std::int32_t height) {
    Bytes b = {'B', 'M'};
    Put32(b, 14 + dib_size, false);
    Put32(b, 0, false);
    Put32(b, 14 + dib_size, false);
    Put32(b, dib_size, false);
    if (dib_size == 12) {
        Put16(b, static_cast<std::uint32_t>(width), false);
        Put16(b, static_cast<std::uint32_t>(height), false);
        Put16(b, 1, false);
        Put16(b, 24, false);
    } else {
        Put32(b, static_cast<std::uint32_t>(width), false);
        Put32(b, static_cast<std::uint32_t>(height), false);
        b.resize(14 + dib_size, 0);
    }
    return b;
}

TEST(ImageHeaderTest, ReadsOs2BmpCoreHeaderSize) {
    const ImageHeader h = MustRead(BmpHeader(12, 321, 123));
    EXPECT_EQ(h.width, 321);
    EXPECT_EQ(h.height, 123);
}

TEST(ImageHeaderTest, TopDownBmpNegativeHeightGivesPositiveHeight) {
    const ImageHeader h = MustRead(BmpHeader(40, 64, -48));
    EXPECT_EQ(h.width, 64);
    EXPECT_EQ(h.height, 48);
}

TEST(ImageHeaderTest, ReadsLossyWebpVp8Size) {
    const Bytes webp = Encode(Card(), ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
    ASSERT_FALSE(webp.empty()) << "OpenCV built without WebP";
    ASSERT_EQ(std::string(webp.begin() + 12, webp.begin() + 16), "VP8 ");
    const ImageHeader h = MustRead(webp);
    EXPECT_EQ(h.format, ImageFormat::WebP);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 30);
}

TEST(ImageHeaderTest, ReadsLosslessWebpVp8lSize) {
    const Bytes webp = Encode(Card(), ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    ASSERT_FALSE(webp.empty()) << "OpenCV built without WebP";
    ASSERT_EQ(std::string(webp.begin() + 12, webp.begin() + 16), "VP8L");
    const ImageHeader h = MustRead(webp);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 30);
}

TEST(ImageHeaderTest, ReadsExtendedWebpVp8xCanvasSize) {
    Bytes b = {'R', 'I', 'F', 'F'};
    Put32(b, 22, false);
    for (char c : std::string("WEBPVP8X")) b.push_back(static_cast<std::uint8_t>(c));
    Put32(b, 10, false);
    Put32(b, 0, false);                     // flags
    for (std::uint32_t v : {999u, 499u}) {  // canvas width-1 and height-1, 24-bit each
        b.push_back(static_cast<std::uint8_t>(v & 0xFF));
        b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
        b.push_back(static_cast<std::uint8_t>(v >> 16));
    }
    const ImageHeader h = MustRead(b);
    EXPECT_EQ(h.width, 1000);
    EXPECT_EQ(h.height, 500);
}

// --- EXIF orientation ------------------------------------------------------------------------

class ExifOrientationTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(ExifOrientationTest, ReadsOrientationTagInBothByteOrders) {
    const auto [orientation, big_endian] = GetParam();
    const Bytes jpeg =
        InsertAfterSoi(EncodeJpeg(Card()), App1Exif(ExifTiff(orientation, big_endian)));
    const ImageHeader h = MustRead(jpeg);
    EXPECT_EQ(h.exif_orientation, orientation) << (big_endian ? "MM" : "II");
    EXPECT_EQ(h.width, 40) << "the stored size is reported, not the rotated one";
    EXPECT_EQ(h.height, 30);
}

INSTANTIATE_TEST_SUITE_P(AllOrientations, ExifOrientationTest,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<int, bool>>& p) {
                             return std::to_string(std::get<0>(p.param)) +
                                    (std::get<1>(p.param) ? "_MM" : "_II");
                         });

TEST(ImageHeaderTest, ReadsExifThatFollowsTheJfifSegment) {
    const Bytes jpeg = EncodeJpeg(Card());
    ASSERT_EQ(jpeg[3], 0xE0) << "expected OpenCV to write JFIF APP0 first";
    const std::size_t app0_end = 4 + ((std::size_t{jpeg[4]} << 8) | jpeg[5]);
    const Bytes exif = App1Exif(ExifTiff(6, true));
    EXPECT_EQ(MustRead(test::Splice(jpeg, app0_end, exif)).exif_orientation, 6);
}

TEST(ImageHeaderTest, IgnoresAnApp1ThatIsNotExif) {
    Bytes xmp = {0xFF, 0xE1};
    const std::string payload = std::string("http://ns.adobe.com/xap/1.0/") + '\0' + "<x/>";
    Put16(xmp, static_cast<std::uint32_t>(2 + payload.size()), true);
    xmp.insert(xmp.end(), payload.begin(), payload.end());
    EXPECT_EQ(MustRead(InsertAfterSoi(EncodeJpeg(Card()), xmp)).exif_orientation, 1);
}

// A malformed EXIF block must neither reject the image nor rotate it.
void ExpectMalformedExifIgnored(const Bytes& tiff, const std::string& what) {
    const Bytes jpeg = InsertAfterSoi(EncodeJpeg(Card()), App1Exif(tiff));
    auto h = ReadImageHeader(jpeg);
    ASSERT_TRUE(h) << what << ": " << h.error().detail;
    EXPECT_EQ(h->exif_orientation, 1) << what;
    EXPECT_EQ(h->width, 40) << what;
    EXPECT_EQ(h->height, 30) << what;
}

TEST(ImageHeaderTest, MalformedExifKeepsTheImageAndMeansNoRotation) {
    Bytes bad_order = ExifTiff(6, false);
    bad_order[0] = 'X';
    bad_order[1] = 'Y';
    ExpectMalformedExifIgnored(bad_order, "unknown byte order");

    ExpectMalformedExifIgnored(Bytes{'I', 'I', 42, 0}, "TIFF header shorter than 8 bytes");
    ExpectMalformedExifIgnored(Bytes{}, "empty TIFF block");

    Bytes ifd_past_end = ExifTiff(6, false);
    ifd_past_end[4] = 0xF0;  // IFD0 offset 0x000000F0 > block size
    ExpectMalformedExifIgnored(ifd_past_end, "IFD offset past the end");

    Bytes ifd_huge = ExifTiff(6, true);
    ifd_huge[4] = 0xFF;  // IFD0 offset 0xFF000008: would overflow a naive bounds check
    ExpectMalformedExifIgnored(ifd_huge, "IFD offset near 4 GiB");

    Bytes ifd_inside_header = ExifTiff(6, false);
    ifd_inside_header[4] = 2;  // IFD0 overlapping the TIFF header
    ExpectMalformedExifIgnored(ifd_inside_header, "IFD offset inside the header");

    Bytes too_many_entries = ExifTiff(6, false);
    too_many_entries[8] = 0xFF;  // 65535 entries, the first (Software) is not orientation...
    too_many_entries[9] = 0xFF;
    too_many_entries.resize(8 + 2 + 12);  // ...and the block ends after it
    ExpectMalformedExifIgnored(too_many_entries, "entry count running past the end");

    for (int value : {0, 9, 0xFFFF}) {
        ExpectMalformedExifIgnored(ExifTiff(value, false),
                                   "orientation value " + std::to_string(value));
    }

    Bytes cut = ExifTiff(6, true);
    cut.resize(cut.size() - 16);  // the Orientation entry is cut off mid-way
    ExpectMalformedExifIgnored(cut, "entry cut by the end of the block");
}

// --- Errors ----------------------------------------------------------------------------------

TEST(ImageHeaderTest, EmptyInputIsEmptyInput) {
    ExpectError({}, ErrorCode::EmptyInput, "empty", "0 bytes");
}

TEST(ImageHeaderTest, UnknownMagicIsUnsupportedFormatNamingTheAcceptedFormats) {
    const std::vector<std::pair<std::string, Bytes>> cases = {
        {"text", Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'}},
        {"GIF", Bytes{'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0}},
        {"TIFF", Bytes{'I', 'I', 42, 0, 8, 0, 0, 0}},
        {"PDF", Bytes{'%', 'P', 'D', 'F', '-', '1', '.', '4'}},
        {"one zero byte", Bytes{0}},
        {"JPEG SOI without a marker after it", Bytes{0xFF, 0xD8, 0x00, 0x00, 0x00}},
        {"RIFF that is not WebP", Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'A', 'V', 'I', ' '}},
    };
    for (const auto& [what, bytes] : cases) {
        ExpectError(bytes, ErrorCode::UnsupportedFormat, "not a JPEG, PNG, BMP or WebP", what);
    }
}

// Every prefix of a valid file that stops before its size fields is rejected, never read past.
void ExpectEveryShortPrefixRejected(const Bytes& full, std::size_t needed, std::size_t magic,
                                    const std::string& what) {
    for (std::size_t n = 1; n < needed; ++n) {
        const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        auto h = ReadImageHeader(prefix);
        ASSERT_FALSE(h) << what << " cut to " << n << " bytes was accepted";
        const ErrorCode want = n < magic ? ErrorCode::UnsupportedFormat : ErrorCode::CorruptImage;
        EXPECT_EQ(h.error().code, want) << what << " cut to " << n << ": " << h.error().detail;
        EXPECT_FALSE(h.error().detail.empty());
    }
    EXPECT_TRUE(
        ReadImageHeader(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(needed))))
        << what << ": " << needed << " bytes should be enough";
}

TEST(ImageHeaderTest, TruncatedJpegHeaderIsCorruptAtEveryLength) {
    const Bytes jpeg = InsertAfterSoi(EncodeJpeg(Card()), App1Exif(ExifTiff(6, false)));
    const std::size_t sof = SofOffset(jpeg);
    const std::size_t sof_end = sof + 2 + ((std::size_t{jpeg[sof + 2]} << 8) | jpeg[sof + 3]);
    ExpectEveryShortPrefixRejected(jpeg, sof_end, 3, "JPEG");
}

TEST(ImageHeaderTest, TruncatedJpegDetailSaysWhatIsMissing) {
    const Bytes jpeg = EncodeJpeg(Card());
    ExpectError(Bytes(jpeg.begin(), jpeg.begin() + 3), ErrorCode::CorruptImage, "before its frame",
                "SOI only");
    ExpectError(Bytes(jpeg.begin(), jpeg.begin() + 10), ErrorCode::CorruptImage,
                "runs past the end", "cut inside APP0");
}

TEST(ImageHeaderTest, TruncatedPngHeaderIsCorruptAtEveryLength) {
    ExpectEveryShortPrefixRejected(Encode(Card(), ".png"), 33, 8, "PNG");
}

TEST(ImageHeaderTest, TruncatedBmpHeaderIsCorruptAtEveryLength) {
    ExpectEveryShortPrefixRejected(Encode(Card(), ".bmp"), 26, 2, "BMP");
}

TEST(ImageHeaderTest, TruncatedWebpHeaderIsCorruptAtEveryLength) {
    const Bytes webp = Encode(Card(), ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
    ASSERT_FALSE(webp.empty());
    ExpectEveryShortPrefixRejected(webp, 30, 12, "WebP");
}

TEST(ImageHeaderTest, JpegWithScanBeforeFrameHeaderIsCorrupt) {
    const Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0, 0xFF, 0xD9};
    ExpectError(jpeg, ErrorCode::CorruptImage, "no frame header", "SOS first");
}

TEST(ImageHeaderTest, JpegSegmentLengthBelowTwoIsCorrupt) {
    const Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
    ExpectError(jpeg, ErrorCode::CorruptImage, "JPEG", "segment length 1");
}

TEST(ImageHeaderTest, JpegGarbageWhereAMarkerShouldBeIsCorrupt) {
    Bytes jpeg = EncodeJpeg(Card());
    const std::size_t app0_end = 4 + ((std::size_t{jpeg[4]} << 8) | jpeg[5]);
    jpeg[app0_end] = 0x12;  // the next marker's 0xFF replaced
    ExpectError(jpeg, ErrorCode::CorruptImage, "marker expected", "no 0xFF after APP0");
}

TEST(ImageHeaderTest, JpegWithZeroHeightIsCorrupt) {
    Bytes jpeg = EncodeJpeg(Card());
    const std::size_t sof = SofOffset(jpeg);
    jpeg[sof + 5] = 0;  // height (SOF + 4 length/precision bytes)
    jpeg[sof + 6] = 0;
    ExpectError(jpeg, ErrorCode::CorruptImage, "zero image size", "SOF height 0");
}

TEST(ImageHeaderTest, JpegWithZeroWidthIsCorrupt) {
    Bytes jpeg = EncodeJpeg(Card());
    const std::size_t sof = SofOffset(jpeg);
    jpeg[sof + 7] = 0;
    jpeg[sof + 8] = 0;
    ExpectError(jpeg, ErrorCode::CorruptImage, "zero image size", "SOF width 0");
}

TEST(ImageHeaderTest, PngWithZeroSideIsCorrupt) {
    ExpectError(test::ForgedPng(0, 10), ErrorCode::CorruptImage, "zero image size", "width 0");
    ExpectError(test::ForgedPng(10, 0), ErrorCode::CorruptImage, "zero image size", "height 0");
}

TEST(ImageHeaderTest, PngSideAboveInt32IsCorruptNotNegative) {
    ExpectError(test::ForgedPng(0x80000000u, 10), ErrorCode::CorruptImage, "out of range",
                "width 2^31");
    ExpectError(test::ForgedPng(10, 0xFFFFFFFFu), ErrorCode::CorruptImage, "out of range",
                "height 2^32-1");
}

TEST(ImageHeaderTest, PngWithoutIhdrFirstIsCorrupt) {
    Bytes png = Encode(Card(), ".png");
    png[12] = 'X';
    ExpectError(png, ErrorCode::CorruptImage, "IHDR", "first chunk renamed");
}

TEST(ImageHeaderTest, PngForgedHugeSizeIsReadAsIsForTheCapsToJudge) {
    const ImageHeader h = MustRead(test::ForgedPng(60000, 60000));
    EXPECT_EQ(h.width, 60000);
    EXPECT_EQ(h.height, 60000);
}

TEST(ImageHeaderTest, BmpWithZeroOrNegativeWidthIsCorrupt) {
    ExpectError(BmpHeader(40, 0, 10), ErrorCode::CorruptImage, "BMP size", "width 0");
    ExpectError(BmpHeader(40, -5, 10), ErrorCode::CorruptImage, "BMP size", "width -5");
    ExpectError(BmpHeader(40, 10, INT32_MIN), ErrorCode::CorruptImage, "BMP size",
                "height INT32_MIN");
    ExpectError(BmpHeader(40, 10, 0), ErrorCode::CorruptImage, "zero image size", "height 0");
    ExpectError(BmpHeader(12, 0, 10), ErrorCode::CorruptImage, "zero image size", "core width 0");
}

TEST(ImageHeaderTest, WebpWithUnknownFirstChunkIsCorrupt) {
    Bytes webp = Encode(Card(), ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
    ASSERT_FALSE(webp.empty());
    webp[15] = 'Q';  // "VP8 " -> "VP8Q"
    ExpectError(webp, ErrorCode::CorruptImage, "unknown first chunk", "VP8Q");
}

}  // namespace
}  // namespace liveproof::media
