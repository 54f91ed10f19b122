// MultipartBoundary and ParseMultipart: parameters, near-boundary data, truncation, caps.
#include "server/multipart.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>

namespace liveproof::server {
namespace {

using namespace std::string_literals;

std::string Part(std::string_view boundary, std::string_view name, std::string_view data,
                 std::string_view extra_headers = "") {
    return "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" +
           std::string(name) + "\"\r\n" + std::string(extra_headers) + "\r\n" + std::string(data) +
           "\r\n";
}

std::string Close(std::string_view boundary) { return "--" + std::string(boundary) + "--\r\n"; }

// The parts view into `body`: callers keep the body alive while they look at the data.
std::vector<MultipartPart> ParseOk(std::string_view body, std::string_view boundary,
                                   std::size_t max_parts = 16) {
    auto r = ParseMultipart(body, boundary, max_parts);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
    return r ? *r : std::vector<MultipartPart>{};
}

Error ParseErr(std::string_view body, std::string_view boundary, std::size_t max_parts = 16) {
    auto r = ParseMultipart(body, boundary, max_parts);
    EXPECT_FALSE(r.has_value());
    return r ? Error{} : r.error();
}

bool Contains(const std::string& s, std::string_view what) {
    return s.find(what) != std::string::npos;
}

// ---- MultipartBoundary -------------------------------------------------------------------

TEST(MultipartBoundary, PlainToken) {
    EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
    EXPECT_EQ(*MultipartBoundary("multipart/form-data;boundary=----WebKitFormBoundaryx7Zq"),
              "----WebKitFormBoundaryx7Zq");
}

TEST(MultipartBoundary, QuotedWithSpacesSemicolonsAndEscapes) {
    EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=\"a b;c\""), "a b;c");
    EXPECT_EQ(*MultipartBoundary(R"(multipart/form-data; boundary="a\"b\\c")"), "a\"b\\c");
}

TEST(MultipartBoundary, ParametersInAnyOrderCaseInsensitiveAndSpaced) {
    EXPECT_EQ(*MultipartBoundary("multipart/form-data; charset=utf-8; boundary=xyz"), "xyz");
    EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data; BOUNDARY=xyz; charset=\"utf-8\""), "xyz");
    EXPECT_EQ(*MultipartBoundary("  multipart/form-data  ;  boundary = xyz  ; "), "xyz");
    EXPECT_EQ(*MultipartBoundary("multipart/form-data;\tboundary=xyz;;charset=utf-8"), "xyz");
}

TEST(MultipartBoundary, RejectsOtherMediaTypes) {
    for (const char* ct : {"application/json", "multipart/mixed; boundary=abc",
                           "multipart/form-datax; boundary=abc", "", "text/plain"}) {
        auto r = MultipartBoundary(ct);
        ASSERT_FALSE(r.has_value()) << ct;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidEncoding);
        EXPECT_TRUE(Contains(r.error().detail, "not multipart/form-data")) << r.error().detail;
    }
}

TEST(MultipartBoundary, RejectsMissingEmptyDuplicateOrBadBoundaries) {
    const std::string b70(70, 'b');
    EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=" + b70), b70);
    for (const std::string& ct :
         {"multipart/form-data"s, "multipart/form-data; charset=utf-8"s,
          "multipart/form-data; boundary="s, "multipart/form-data; boundary=\"\""s,
          "multipart/form-data; boundary=" + b70 + "b",
          "multipart/form-data; boundary=a; boundary=b"s, "multipart/form-data; boundary=\"abc"s,
          "multipart/form-data; boundary"s, "multipart/form-data boundary=abc"s,
          "multipart/form-data; boundary=\"a\rb\""s,
          "multipart/form-data; boundary=caf\xc3\xa9"s}) {
        auto r = MultipartBoundary(ct);
        ASSERT_FALSE(r.has_value()) << ct;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidEncoding) << ct;
        EXPECT_FALSE(r.error().detail.empty());
    }
    EXPECT_TRUE(
        Contains(MultipartBoundary("multipart/form-data; boundary=" + b70 + "b").error().detail,
                 "longer than 70"));
    EXPECT_TRUE(
        Contains(MultipartBoundary("multipart/form-data").error().detail, "without a boundary"));
}

// ---- ParseMultipart: well-formed bodies ----------------------------------------------------

TEST(ParseMultipart, TwoPartsWithFilenameAndContentType) {
    const std::string body =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"image\"; filename=\"face.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n"
        "\r\n"
        "JPEGDATA\r\n"
        "--XyZ\r\n"
        "content-disposition: form-data; name=options\r\n"
        "\r\n"
        "{\"mesh\":true}\r\n"
        "--XyZ--\r\n";
    const auto parts = ParseOk(body, "XyZ");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].name, "image");
    EXPECT_EQ(parts[0].filename, "face.jpg");
    EXPECT_EQ(parts[0].content_type, "image/jpeg");
    EXPECT_EQ(parts[0].data, "JPEGDATA");
    EXPECT_EQ(parts[1].name, "options");
    EXPECT_EQ(parts[1].filename, "");
    EXPECT_EQ(parts[1].content_type, "");
    EXPECT_EQ(parts[1].data, "{\"mesh\":true}");
    // Data views point into the body, not into copies.
    EXPECT_GE(parts[0].data.data(), body.data());
    EXPECT_LE(parts[0].data.data() + parts[0].data.size(), body.data() + body.size());
    EXPECT_EQ(FindPart(parts, "options"), &parts[1]);
    EXPECT_EQ(FindPart(parts, "missing"), nullptr);
}

TEST(ParseMultipart, DispositionParametersReorderedQuotedEscapedAndCaseInsensitive) {
    const std::string body =
        "--b\r\n"
        "CONTENT-DISPOSITION:   Form-Data ; FILENAME=\"a \\\"quoted\\\" name;x.jpg\" ;NAME=img\r\n"
        "content-TYPE:  image/png  \r\n"
        "\r\n"
        "x\r\n"
        "--b--";
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].name, "img");
    EXPECT_EQ(parts[0].filename, "a \"quoted\" name;x.jpg");
    EXPECT_EQ(parts[0].content_type, "image/png");
    EXPECT_EQ(parts[0].data, "x");
}

TEST(ParseMultipart, FirstFindPartWinsForRepeatedNames) {
    const std::string body = Part("b", "f", "1") + Part("b", "f", "2") + Close("b");
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(FindPart(parts, "f")->data, "1");
}

TEST(ParseMultipart, PreambleAndEpilogueAreIgnored) {
    const std::string body = "This is the preamble.\r\nIt has --b in it and --b x\r\n" +
                             Part("b", "a", "A") + Close("b") + "epilogue --b\r\n--b\r\n junk";
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data, "A");
}

TEST(ParseMultipart, PreambleStartingWithTheBoundaryTextIsStillPreamble) {
    const std::string body = "--bx not a delimiter\r\n" + Part("b", "a", "A") + Close("b");
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data, "A");
}

TEST(ParseMultipart, TransportPaddingAfterDelimitersIsAllowed) {
    const std::string body =
        "--b \t \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n--b\t\r\n"
        "Content-Disposition: form-data; name=\"c\"\r\n\r\nC\r\n--b--  \r\n";
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].data, "A");
    EXPECT_EQ(parts[1].data, "C");
}

TEST(ParseMultipart, CloseDelimiterWithoutTrailingCrlfAndEmptyForm) {
    EXPECT_EQ(
        ParseOk("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--b--", "b").at(0).data,
        "A");
    EXPECT_TRUE(ParseOk("--b--\r\n", "b").empty());
    EXPECT_TRUE(ParseOk("preamble\r\n--b--", "b").empty());
}

TEST(ParseMultipart, EmptyParts) {
    // Data empty with the usual blank line, and without it (the delimiter follows the headers).
    const std::string body = Part("b", "empty", "") +
                             "--b\r\nContent-Disposition: form-data; name=\"bare\"\r\n\r\n--b--";
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].name, "empty");
    EXPECT_EQ(parts[0].data, "");
    EXPECT_EQ(parts[1].name, "bare");
    EXPECT_EQ(parts[1].data, "");
}

TEST(ParseMultipart, FoldedHeaderLinesAreJoined) {
    const std::string body =
        "--b\r\nContent-Disposition: form-data;\r\n name=\"folded\"\r\n\r\nA\r\n--b--";
    EXPECT_EQ(ParseOk(body, "b").at(0).name, "folded");
}

// ---- Near-boundary data ----------------------------------------------------------------------

TEST(ParseMultipart, BoundaryTextNotAtLineStartIsData) {
    const std::string data = "x--bound y --bound\r\n --bound\n--bound\r--bound";
    const std::string body = Part("bound", "a", data) + Close("bound");
    const auto parts = ParseOk(body, "bound");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data, data);
}

TEST(ParseMultipart, DelimiterFollowedByOtherTextIsData) {
    const std::string data = "a\r\n--boundX\r\n--bound-x\r\n--bound y";
    const std::string body = Part("bound", "a", data) + Close("bound");
    const auto parts = ParseOk(body, "bound");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data, data);
}

TEST(ParseMultipart, DataEndingJustBeforeTheDelimiterKeepsItsLastBytes) {
    for (const std::string& data :
         {"abc\r"s, "abc\r\n"s, "abc\r\n-"s, "abc\r\n--"s, "abc\r\n--bou"s, "abc\r\n--boun"s,
          "\r\n--boun"s, "\r"s, "\r\n"s, "-"s, "--"s, "\r\n\r\n"s}) {
        const std::string body =
            Part("bound", "a", data) + Part("bound", "b", "B") + Close("bound");
        const auto parts = ParseOk(body, "bound");
        ASSERT_EQ(parts.size(), 2u) << testing::PrintToString(data);
        EXPECT_EQ(parts[0].data, data) << testing::PrintToString(data);
        EXPECT_EQ(parts[1].data, "B");
    }
}

TEST(ParseMultipart, PartWhoseDataIsExactlyTheBoundaryText) {
    for (const std::string& data : {"bound"s, "x--bound"s, "x--bound--"s, "bound\r\n"s}) {
        const std::string body = Part("bound", "a", data) + Close("bound");
        const auto parts = ParseOk(body, "bound");
        ASSERT_EQ(parts.size(), 1u) << data;
        EXPECT_EQ(parts[0].data, data);
    }
}

TEST(ParseMultipart, DashBoundaryAtTheStartOfALineIsADelimiterEvenRightAfterTheHeaders) {
    // RFC 2046: the blank line's CRLF plus "--bound" is a delimiter; a sender must pick a
    // boundary that does not occur in its data. "--bound--" therefore closes the body early...
    const std::string body = Part("bound", "a", "--bound--") + Close("bound");
    const auto parts = ParseOk(body, "bound");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data, "");
    // ...and "--bound" starts a second part, whose "headers" are not valid.
    EXPECT_EQ(ParseErr(Part("bound", "a", "--bound") + Close("bound"), "bound").code,
              ErrorCode::InvalidEncoding);
}

TEST(ParseMultipart, BinaryDataWithNulAndCrLfBytes) {
    std::string data;
    for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
    data += "\0\0\r\n\0--b"s;
    const std::string body =
        Part("b", "bin", data, "Content-Type: application/octet-stream\r\n") + Close("b");
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data, data);
    EXPECT_EQ(parts[0].data.size(), 256u + 8u);
}

TEST(ParseMultipart, PartsWithoutTheLeadingDelimiterAtOffsetZero) {
    // The first delimiter preceded by CRLF only (empty preamble).
    const std::string body = "\r\n" + Part("b", "a", "A") + Close("b");
    const auto parts = ParseOk(body, "b");
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data, "A");
}

// ---- Errors -------------------------------------------------------------------------------

TEST(ParseMultipart, NoOpeningDelimiter) {
    const Error e = ParseErr("just some text --b but no delimiter line", "b");
    EXPECT_EQ(e.code, ErrorCode::InvalidEncoding);
    EXPECT_TRUE(Contains(e.detail, "no opening")) << e.detail;
    EXPECT_EQ(ParseErr("", "b").code, ErrorCode::InvalidEncoding);
    EXPECT_EQ(ParseErr(Part("other", "a", "A") + Close("other"), "b").code,
              ErrorCode::InvalidEncoding);
}

TEST(ParseMultipart, NoCloseDelimiter) {
    const Error e = ParseErr(Part("b", "a", "A"), "b");
    EXPECT_EQ(e.code, ErrorCode::InvalidEncoding);
    EXPECT_TRUE(Contains(e.detail, "no close delimiter")) << e.detail;
}

TEST(ParseMultipart, PartWithoutNameOrDisposition) {
    Error e = ParseErr("--b\r\nContent-Type: text/plain\r\n\r\nA\r\n--b--", "b");
    EXPECT_TRUE(Contains(e.detail, "no Content-Disposition")) << e.detail;
    e = ParseErr("--b\r\nContent-Disposition: form-data; filename=\"a.jpg\"\r\n\r\nA\r\n--b--",
                 "b");
    EXPECT_TRUE(Contains(e.detail, "no name")) << e.detail;
    e = ParseErr("--b\r\n\r\nA\r\n--b--", "b");  // no headers at all
    EXPECT_TRUE(Contains(e.detail, "no Content-Disposition")) << e.detail;
    e = ParseErr(Part("b", "ok", "A") + "--b\r\nContent-Disposition: attachment; name=x\r\n\r\n" +
                     Close("b"),
                 "b");
    EXPECT_TRUE(Contains(e.detail, "part 2")) << e.detail;
}

TEST(ParseMultipart, MalformedHeadersAreRejected) {
    for (const std::string& headers :
         {"Content-Disposition form-data; name=a\r\n"s,
          "Content-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n"s,
          "Content-Disposition: form-data; name=a; name=b\r\n"s,
          "Content-Disposition: form-data; name=\"a\r\n"s,
          "Content-Disposition: form-data; name=a\rX: y\r\n"s,
          " folded-first: x\r\nContent-Disposition: form-data; name=a\r\n"s}) {
        const Error e = ParseErr("--b\r\n" + headers + "\r\nA\r\n--b--", "b");
        EXPECT_EQ(e.code, ErrorCode::InvalidEncoding) << headers;
    }
}

TEST(ParseMultipart, HeaderBlockCap) {
    const std::string disposition = "Content-Disposition: form-data; name=a\r\n";
    auto body_with_block = [&](std::size_t block_size) {
        // X-Pad: <filler>\r\n makes the block exactly block_size bytes.
        const std::size_t filler = block_size - disposition.size() - std::string("X: \r\n").size();
        return "--b\r\n" + disposition + "X: " + std::string(filler, 'p') + "\r\n\r\nA\r\n--b--";
    };
    EXPECT_EQ(ParseOk(body_with_block(kMaxPartHeaderBytes), "b").at(0).data, "A");
    const Error e = ParseErr(body_with_block(kMaxPartHeaderBytes + 1), "b");
    EXPECT_EQ(e.code, ErrorCode::InvalidEncoding);
    EXPECT_TRUE(Contains(e.detail, "header block")) << e.detail;
    // An endless header line is cut off at the cap, not scanned to the end.
    const Error e2 = ParseErr("--b\r\nX: " + std::string(1 << 20, 'p'), "b");
    EXPECT_TRUE(Contains(e2.detail, "header block")) << e2.detail;
}

TEST(ParseMultipart, PartCountCap) {
    std::string body;
    for (const char* name : {"p0", "p1", "p2", "p3", "p4"}) body += Part("b", name, "x");
    body += Close("b");
    EXPECT_EQ(ParseOk(body, "b", 5).size(), 5u);
    const Error e = ParseErr(body, "b", 4);
    EXPECT_EQ(e.code, ErrorCode::InvalidEncoding);
    EXPECT_TRUE(Contains(e.detail, "more than 4")) << e.detail;
    EXPECT_EQ(ParseErr(body, "b", 0).code, ErrorCode::InvalidEncoding);
}

TEST(ParseMultipart, BadBoundaryArgumentIsInvalidArgument) {
    const std::string body = Part("b", "a", "A") + Close("b");
    EXPECT_EQ(ParseErr(body, "").code, ErrorCode::InvalidArgument);
    EXPECT_EQ(ParseErr(body, std::string(71, 'b')).code, ErrorCode::InvalidArgument);
    EXPECT_EQ(ParseErr(body, "a\r\nb").code, ErrorCode::InvalidArgument);
}

// ---- Truncation and robustness ------------------------------------------------------------

TEST(ParseMultipart, EveryTruncationIsAnErrorOrACorrectPrefix) {
    const std::string full =
        "preamble\r\n" +
        Part("bnd", "image", "\x01\x02\r\n-\r\n--bn\0\xff"s, "Content-Type: image/jpeg\r\n") +
        "--bnd  \r\nContent-Disposition: form-data; name=\"opt\"; filename=\"o.json\"\r\n\r\n{}" +
        "\r\n" + Part("bnd", "empty", "") + Close("bnd") + "epilogue";
    const auto expected = ParseOk(full, "bnd");
    ASSERT_EQ(expected.size(), 3u);
    const std::size_t close_end = full.find("--bnd--") + 7;
    for (std::size_t cut = 0; cut <= full.size(); ++cut) {
        // A heap copy of exactly `cut` bytes, so that ASan would flag any read past the end.
        const std::unique_ptr<char[]> copy(new char[cut == 0 ? 1 : cut]);
        std::memcpy(copy.get(), full.data(), cut);
        const std::string_view body(copy.get(), cut);
        auto r = ParseMultipart(body, "bnd");
        if (cut < close_end) {
            ASSERT_FALSE(r.has_value()) << "cut at " << cut;
            EXPECT_EQ(r.error().code, ErrorCode::InvalidEncoding);
            continue;
        }
        ASSERT_TRUE(r.has_value()) << "cut at " << cut << ": " << r.error().detail;
        ASSERT_LE(r->size(), expected.size());
        for (std::size_t i = 0; i < r->size(); ++i) {
            EXPECT_EQ((*r)[i].name, expected[i].name);
            EXPECT_EQ((*r)[i].filename, expected[i].filename);
            EXPECT_EQ((*r)[i].content_type, expected[i].content_type);
            EXPECT_EQ((*r)[i].data, expected[i].data);
        }
    }
}

TEST(ParseMultipart, AdversarialNearMatchesStayFast) {
    // Millions of partial delimiters ("\r\n--aaaa...a" one byte short) would be quadratic for a
    // parser that rescans; this must finish in well under a second.
    const std::string boundary(70, 'a');
    const std::string near = "\r\n--" + std::string(69, 'a') + "b";
    std::string data;
    while (data.size() < (8u << 20)) data += near;
    const std::string body = Part(boundary, "a", data) + Close(boundary);
    const auto start = std::chrono::steady_clock::now();
    const auto parts = ParseOk(body, boundary);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].data.size(), data.size());
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 2000);
}

}  // namespace
}  // namespace liveproof::server
