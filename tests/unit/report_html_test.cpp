// The eval HTML report: numbers as printed, well-formed inline SVG, escaping, no external refs.
#include "eval/report_html.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "eval/metrics.hpp"

namespace liveproof::eval {
namespace {

constexpr double kThreshold = 0.5;
const std::vector<std::string> kTypes = {"mask", "print", "replay"};
const std::vector<double> kTargets = {0.01, 0.05};
// Every character HTML cares about, in a name that must survive as text.
const std::string kHostile = "antispoof/evil/<script>alert(\"a&b\")</script>'x'.png";

AntispoofItem Item(std::string file, bool live, std::string type, std::optional<double> score) {
    return {std::move(file), "evil", live, std::move(type), score};
}

/// Four live (one rejected), print 1/3 accepted, mask 1/1 accepted, replay 0/1, one no-face.
std::vector<AntispoofItem> Items() {
    return {Item("antispoof/evil/live/1.png", true, "", 0.95),
            Item("antispoof/evil/live/2.png", true, "", 0.90),
            Item("antispoof/evil/live/3.png", true, "", 0.80),
            Item("antispoof/evil/live/4.png", true, "", 0.30),
            Item("antispoof/evil/spoof/p1.png", false, "print", 0.10),
            Item("antispoof/evil/spoof/p2.png", false, "print", 0.20),
            Item(kHostile, false, "print", 0.60),
            Item("antispoof/evil/spoof/r1.png", false, "replay", 0.05),
            Item("antispoof/evil/spoof/m1.png", false, "mask", 0.70),
            Item("antispoof/evil/spoof/<nf>&.png", false, "print", std::nullopt)};
}

ReportData Data() {
    ReportData d;
    d.settings.labels = "labels.csv";
    d.settings.root = "/data/<root>";
    d.settings.date = "2024-01-02 03:04:05 UTC";
    d.settings.detector = "yunet";
    d.settings.detect_max_side = 320;
    d.settings.threshold = kThreshold;
    d.settings.crop_pad = 0.1;
    d.settings.crop_border = "replicate";
    d.settings.files = 12;
    const auto items = Items();
    d.groups.push_back(
        {EvaluateAntispoof("antispoof", items, kThreshold, kTypes, kTargets, kTargets), items,
         false});
    d.groups.push_back(
        {EvaluateAntispoof("all anti-spoofing rows", items, kThreshold, kTypes, kTargets, kTargets),
         items, true});
    d.sources.push_back(EvaluateAntispoof("evil", items, kThreshold));
    const std::vector<PosePair> pairs = {{10, 0, 0, 12, 1, 0}, {-40, 5, 3, -20, 5, 2}};
    d.pose = ComputePoseErrors(pairs);
    d.poses = {{"aflw/image01.jpg", pairs[0]}, {"aflw/image02.jpg", pairs[1]}};
    d.tallies["eyes"].Add("eyes/ok.jpg", "eyes_open", "eyes_open");
    d.tallies["eyes"].Add("eyes/a&b.jpg", "eyes_closed", "eyes_open");
    d.errors.emplace_back("broken<1>.jpg", "cannot decode");
    return d;
}

std::vector<std::string> SvgBlocks(const std::string& html) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = html.find("<svg", pos)) != std::string::npos) {
        const std::size_t end = html.find("</svg>", pos);
        if (end == std::string::npos) {
            out.push_back(html.substr(pos));
            break;
        }
        out.push_back(html.substr(pos, end + 6 - pos));
        pos = end + 6;
    }
    return out;
}

/// '&' must start an entity: &amp; &lt; &gt; &quot; &apos; &#NN;
bool EntitiesOk(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') continue;
        const std::size_t semi = text.find(';', i);
        if (semi == std::string_view::npos) return false;
        const std::string_view name = text.substr(i + 1, semi - i - 1);
        bool ok = name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos";
        if (!ok && name.size() > 1 && name[0] == '#') {
            ok = true;
            for (const char c : name.substr(1))
                ok = ok && std::isdigit(static_cast<unsigned char>(c));
        }
        if (!ok) return false;
    }
    return true;
}

/// A minimal XML well-formedness check: tags balanced and properly nested, attributes
/// name="value" with no '<' inside, text and values with only valid entity references.
/// Returns "" when well formed, else what is wrong.
std::string XmlProblem(std::string_view x) {
    std::vector<std::string> stack;
    std::size_t i = 0;
    auto is_name = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_';
    };
    while (i < x.size()) {
        const std::size_t lt = x.find('<', i);
        const std::string_view text = x.substr(i, lt == std::string_view::npos ? x.npos : lt - i);
        if (text.find('>') != std::string_view::npos) return "raw '>' in text";
        if (!EntitiesOk(text)) return "bad entity in text: " + std::string(text);
        if (lt == std::string_view::npos) break;
        i = lt + 1;
        const bool closing = i < x.size() && x[i] == '/';
        if (closing) ++i;
        const std::size_t name_start = i;
        while (i < x.size() && is_name(x[i])) ++i;
        const std::string name(x.substr(name_start, i - name_start));
        if (name.empty()) return "empty tag name at " + std::to_string(lt);
        if (closing) {
            if (i >= x.size() || x[i] != '>') return "junk in </" + name;
            if (stack.empty() || stack.back() != name) return "unbalanced </" + name + ">";
            stack.pop_back();
            ++i;
            continue;
        }
        // Attributes.
        while (true) {
            while (i < x.size() && std::isspace(static_cast<unsigned char>(x[i]))) ++i;
            if (i >= x.size()) return "unterminated <" + name;
            if (x[i] == '>') {
                stack.push_back(name);
                ++i;
                break;
            }
            if (x.substr(i, 2) == "/>") {
                i += 2;
                break;
            }
            const std::size_t attr_start = i;
            while (i < x.size() && is_name(x[i])) ++i;
            if (i == attr_start) return "bad attribute in <" + name;
            if (i >= x.size() || x[i] != '=') return "attribute without value in <" + name;
            ++i;
            if (i >= x.size() || x[i] != '"') return "unquoted attribute in <" + name;
            const std::size_t close = x.find('"', i + 1);
            if (close == std::string_view::npos) return "unterminated attribute in <" + name;
            const std::string_view value = x.substr(i + 1, close - i - 1);
            if (value.find('<') != std::string_view::npos || !EntitiesOk(value)) {
                return "bad attribute value in <" + name;
            }
            i = close + 1;
        }
    }
    if (!stack.empty()) return "unclosed <" + stack.back() + ">";
    return "";
}

TEST(ReportHtml, EscapesEveryHtmlSpecialCharacter) {
    EXPECT_EQ(EscapeHtml("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    EXPECT_EQ(EscapeHtml("plain/path_1.png"), "plain/path_1.png");
}

TEST(ReportHtml, FormatsPercentLikeTheTextReport) {
    EXPECT_EQ(FormatPercent(1.0 / 3.0), "33.3%");
    EXPECT_EQ(FormatPercent(0.0), "0.0%");
    EXPECT_EQ(FormatPercent(std::nullopt), "n/a");
}

TEST(ReportHtml, HistogramPutsEdgesInTheRightBins) {
    const std::vector<double> s = {0.0, 0.049, 0.05, 0.5, 0.999, 1.0, -0.2, 1.5};
    const std::vector<int> c = HistogramCounts(s, 20);
    ASSERT_EQ(c.size(), 20u);
    EXPECT_EQ(c[0], 3);   // 0.0, 0.049, clamped -0.2
    EXPECT_EQ(c[1], 1);   // 0.05
    EXPECT_EQ(c[10], 1);  // 0.5
    EXPECT_EQ(c[19], 3);  // 0.999, 1.0, clamped 1.5
}

TEST(ReportHtml, DetCurveRunsFromAcceptAllToRejectAll) {
    const auto items = Items();
    const std::vector<DetPoint> det = DetCurve(items);
    // 9 distinct scores (the no-face item is excluded) plus +infinity.
    ASSERT_EQ(det.size(), 10u);
    EXPECT_DOUBLE_EQ(det.front().apcer, 1.0);
    EXPECT_DOUBLE_EQ(det.front().bpcer, 0.0);
    EXPECT_DOUBLE_EQ(det.back().apcer, 0.0);
    EXPECT_DOUBLE_EQ(det.back().bpcer, 1.0);
    for (const auto& p : det) {
        if (p.threshold == 0.5) FAIL() << "0.5 is not a score";
        if (p.threshold == 0.6) {
            // At 0.6: attacks 0.6 and 0.7 accepted (2/5), live 0.3 rejected (1/4).
            EXPECT_DOUBLE_EQ(p.apcer, 0.4);
            EXPECT_DOUBLE_EQ(p.bpcer, 0.25);
        }
    }
    for (std::size_t i = 1; i < det.size(); ++i) {
        EXPECT_LE(det[i].apcer, det[i - 1].apcer);
        EXPECT_GE(det[i].bpcer, det[i - 1].bpcer);
    }
    EXPECT_TRUE(DetCurve(std::vector<AntispoofItem>{Item("a", true, "", 0.5)}).empty());
}

TEST(ReportHtml, ShowsTheHeadlineNumbersAsPrinted) {
    const std::string html = RenderReportHtml(Data());
    // print 1/3 = 33.3%, mask 1/1 = 100.0% (the worst), replay 0.0%, BPCER 1/4 = 25.0%,
    // ACER (100 + 25) / 2 = 62.5%.
    EXPECT_NE(html.find(">33.3%<"), std::string::npos);
    EXPECT_NE(html.find(">100.0%<"), std::string::npos);
    EXPECT_NE(html.find(">25.0% (1/4)<"), std::string::npos);
    EXPECT_NE(html.find(">62.5%<"), std::string::npos);
    EXPECT_NE(html.find("worst: mask"), std::string::npos);
    // The worst type's row is highlighted.
    const std::size_t worst = html.find("<tr class=\"worst\"><td>mask");
    EXPECT_NE(worst, std::string::npos);
    // Settings, attributes, operating points and the error list are all there.
    EXPECT_NE(html.find("2024-01-02 03:04:05 UTC"), std::string::npos);
    EXPECT_NE(html.find("yunet, max side 320"), std::string::npos);
    EXPECT_NE(html.find("BPCER=5%"), std::string::npos);
    EXPECT_NE(html.find(">11.00<"), std::string::npos);  // yaw MAE (2 + 20) / 2
    EXPECT_NE(html.find("eyes/a&amp;b.jpg"), std::string::npos);
    EXPECT_NE(html.find("broken&lt;1&gt;.jpg"), std::string::npos);
    EXPECT_NE(html.find("antispoof/evil/spoof/&lt;nf&gt;&amp;.png"), std::string::npos);
}

TEST(ReportHtml, EscapesHostileFileNames) {
    const std::string html = RenderReportHtml(Data());
    EXPECT_EQ(html.find(kHostile), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_NE(html.find(EscapeHtml(kHostile)), std::string::npos);
    EXPECT_NE(html.find("/data/&lt;root&gt;"), std::string::npos);
}

TEST(ReportHtml, SvgIsWellFormedXml) {
    const ReportData d = Data();
    const std::string html = RenderReportHtml(d);
    const auto svgs = SvgBlocks(html);
    // One DET curve plus one histogram per group.
    ASSERT_EQ(svgs.size(), 1 + d.groups.size());
    for (const auto& svg : svgs) {
        EXPECT_EQ(XmlProblem(svg), "") << svg.substr(0, 200);
        EXPECT_NE(svg.find("<text"), std::string::npos);  // labelled axes
    }
    EXPECT_NE(svgs[0].find("<polyline"), std::string::npos);  // the DET curve is drawn
    EXPECT_NE(svgs[0].find("<circle"), std::string::npos);    // its operating point
    EXPECT_NE(svgs[1].find("<rect"), std::string::npos);      // histogram bars
    // The checker itself catches the mistakes it is there for.
    EXPECT_NE(XmlProblem("<svg><text>a</svg>"), "");
    EXPECT_NE(XmlProblem("<svg><text x=1>a</text></svg>"), "");
    EXPECT_NE(XmlProblem("<svg><text>a & b</text></svg>"), "");
    EXPECT_EQ(XmlProblem("<svg><g a=\"1\"><line/></g><text>&lt;&amp;</text></svg>"), "");
}

TEST(ReportHtml, HasNoExternalReferencesOrScripts) {
    const std::string html = RenderReportHtml(Data());
    for (const char* bad : {"http://", "https://", "src=", "<script", "xmlns", "url(", "@import",
                            "<link", "<img", "<iframe"}) {
        EXPECT_EQ(html.find(bad), std::string::npos) << bad;
    }
    // Every href is an in-page anchor.
    for (std::size_t p = html.find("href=\""); p != std::string::npos;
         p = html.find("href=\"", p + 1)) {
        EXPECT_EQ(html[p + 6], '#') << html.substr(p, 40);
    }
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(ReportHtml, RendersAnEmptyRun) {
    ReportData d;
    d.groups.push_back({EvaluateAntispoof("antispoof", {}, kThreshold, kTypes), {}, false});
    const std::string html = RenderReportHtml(d);
    EXPECT_NE(html.find("no curve"), std::string::npos);
    EXPECT_NE(html.find("no scored faces"), std::string::npos);
    for (const auto& svg : SvgBlocks(html)) EXPECT_EQ(XmlProblem(svg), "");
}

}  // namespace
}  // namespace liveproof::eval
