// Renders eval results as one HTML page: tables and inline SVG charts, every string escaped.
#include "eval/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <set>
#include <sstream>

namespace liveproof::eval {

namespace {

constexpr int kBins = 20;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Series colours are fixed per class (and per group position) so that the same attack type has
// the same colour in every chart and legend.
const std::map<std::string, std::string> kClassColors = {
    {"live", "#2e7d32"}, {"print", "#1565c0"},   {"replay", "#ef6c00"},
    {"mask", "#8e24aa"}, {"unknown", "#757575"}, {"other", "#6d4c41"},
};
const std::vector<std::string> kGroupColors = {"#1565c0", "#ef6c00", "#37474f", "#8e24aa",
                                               "#00897b"};

std::string ClassColor(const std::string& cls) {
    const auto it = kClassColors.find(cls);
    return it == kClassColors.end() ? std::string("#00897b") : it->second;
}

std::string Fixed(double v, int precision) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v;
    return s.str();
}

std::string Num(const std::optional<double>& v, int precision = 3) {
    if (!v) return "n/a";
    if (std::isinf(*v)) return *v > 0 ? "+inf" : "-inf";
    return Fixed(*v, precision);
}

// SVG coordinates: one decimal is below a pixel and keeps the markup short.
std::string C(double v) { return Fixed(v, 1); }

// log(1 + 100 p) / log(101): 0% stays on the axis (a plain log scale cannot show the many exact
// zeros of a small data set) while the low-error corner, where operating points live, gets most
// of the room.
double Logish(double p) {
    p = std::clamp(p, 0.0, 1.0);
    return std::log10(1.0 + 100.0 * p) / std::log10(101.0);
}

std::string SvgText(double x, double y, std::string_view text, std::string_view anchor = "start",
                    std::string_view extra = "") {
    std::string out = "<text x=\"" + C(x) + "\" y=\"" + C(y) + "\"";
    if (anchor != "start") out += " text-anchor=\"" + std::string(anchor) + "\"";
    if (!extra.empty()) out += " " + std::string(extra);
    out += ">" + EscapeHtml(text) + "</text>";
    return out;
}

std::string SvgLine(double x1, double y1, double x2, double y2, std::string_view style) {
    return "<line x1=\"" + C(x1) + "\" y1=\"" + C(y1) + "\" x2=\"" + C(x2) + "\" y2=\"" + C(y2) +
           "\" " + std::string(style) + "/>";
}

/// Live first, then the attack types with at least one score, by name.
std::vector<std::string> ScoredClasses(std::span<const AntispoofItem> items) {
    bool live = false;
    std::set<std::string> attacks;
    for (const auto& it : items) {
        if (!it.score) continue;
        if (it.is_live) {
            live = true;
        } else {
            attacks.insert(it.attack_type);
        }
    }
    std::vector<std::string> out;
    if (live) out.emplace_back("live");
    out.insert(out.end(), attacks.begin(), attacks.end());
    return out;
}

std::string Label(const AntispoofItem& it) { return it.is_live ? "live" : it.attack_type; }

int LiveCount(const AntispoofReport& r) { return r.excluded.live + r.no_face_live; }
int AttackCount(const AntispoofReport& r) { return r.excluded.attacks + r.no_face_attack; }

std::optional<double> PooledApcer(const ErrorRates& r) {
    if (r.attacks == 0) return std::nullopt;
    return static_cast<double>(r.attacks_accepted) / r.attacks;
}

std::string PctCell(const std::optional<double>& v, bool bad = false) {
    return std::string("<td class=\"num") + (bad ? " bad" : "") + "\">" + FormatPercent(v) +
           "</td>";
}

std::string Td(std::string_view text, std::string_view cls = "") {
    std::string out = "<td";
    if (!cls.empty()) out += " class=\"" + std::string(cls) + "\"";
    return out + ">" + EscapeHtml(text) + "</td>";
}

std::string Th(std::string_view text) { return "<th>" + EscapeHtml(text) + "</th>"; }

std::string Code(std::string_view text) { return "<code>" + EscapeHtml(text) + "</code>"; }

constexpr const char* kStyle = R"CSS(
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bad: #c62828; --badbg: #fdecea;
        --ok: #2e7d32; --card: #f7f9fc; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
header.top { background: #1d2330; color: #fff; }
header.top .inner { max-width: 1200px; margin: 0 auto; padding: 20px 28px; }
header.top h1 { margin: 0 0 12px; font-size: 24px; font-weight: 650; }
header.top h1 span { color: #9fb3d1; font-weight: 400; font-size: 16px; margin-left: 8px; }
dl.settings { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px 24px;
              margin: 0; }
dl.settings div { min-width: 0; }
dl.settings dt { color: #9fb3d1; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
dl.settings dd { margin: 0; overflow-wrap: anywhere; }
nav.toc { margin: 14px 0 0; font-size: 13px; }
nav.toc a { color: #cfe0ff; margin-right: 14px; text-decoration: none; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; }
h3 .sub { color: var(--muted); font-weight: 400; font-size: 13px; margin-left: 6px; }
p.note { color: var(--muted); margin: 4px 0 10px; max-width: 900px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px; }
.kpis { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 6px;
        margin: 6px 0 12px; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
.kpi .k { display: block; font-size: 11px; color: var(--muted); white-space: nowrap;
          overflow: hidden; text-overflow: ellipsis; }
.kpi .v { display: block; font-size: 20px; font-weight: 650; white-space: nowrap; }
.kpi .s { display: block; font-size: 11px; color: var(--muted); white-space: nowrap;
          overflow: hidden; text-overflow: ellipsis; }
.kpi.bad .v { color: var(--bad); }
table { border-collapse: collapse; margin: 4px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px 4px 0; text-align: left;
         vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.card th, .card td { padding-right: 8px; }
.card table { width: 100%; }
td.file { overflow-wrap: anywhere; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
          font-size: 12px; }
td.bad { color: var(--bad); font-weight: 600; }
tr.worst td { background: var(--badbg); font-weight: 650; }
tr.err td { background: var(--badbg); }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px;
       background: var(--bad); color: #fff; margin-left: 6px; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px;
         padding: 10px; width: fit-content; max-width: 100%; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { display: block; font-family: system-ui, "DejaVu Sans", sans-serif; }
.cols { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 24px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
ul.files { margin: 4px 0 12px; padding-left: 20px; }
ul.files li { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; border-top: 1px solid var(--line);
         padding-top: 10px; }
)CSS";

void WriteHeader(std::ostringstream& o, const ReportData& d) {
    const ReportSettings& s = d.settings;
    int live = 0, attacks = 0, no_face = 0;
    for (const auto& g : d.groups) {
        if (g.is_union) continue;
        live += LiveCount(g.report);
        attacks += AttackCount(g.report);
        no_face += g.report.no_face_live + g.report.no_face_attack;
    }
    auto item = [&o](std::string_view k, const std::string& v) {
        o << "<div><dt>" << EscapeHtml(k) << "</dt><dd>" << EscapeHtml(v) << "</dd></div>";
    };
    o << "<header class=\"top\"><div class=\"inner\"><h1>liveproof eval report<span>"
      << EscapeHtml(s.date) << "</span></h1><dl class=\"settings\">";
    item("Threshold", "live iff P(real) \u2265 " + Fixed(s.threshold, 2));
    item("Detector", s.detector + ", max side " +
                         (s.detect_max_side > 0 ? std::to_string(s.detect_max_side) : "full"));
    item("Crop padding", Fixed(s.crop_pad * 100.0, 0) + "% per side, " + s.crop_border);
    item("Date", s.date);
    item("Data root", s.root);
    item("Labels", s.labels);
    item("Files evaluated", std::to_string(s.files) + " in " + Fixed(s.seconds, 1) + " s");
    item("Anti-spoofing images", std::to_string(live + attacks) + " (" + std::to_string(live) +
                                     " live, " + std::to_string(attacks) + " attacks, " +
                                     std::to_string(no_face) + " without a face)");
    o << "</dl><nav class=\"toc\">";
    for (const auto& [id, title] :
         std::vector<std::pair<const char*, const char*>>{{"headline", "Headline"},
                                                          {"det", "DET curve"},
                                                          {"hist", "Score histograms"},
                                                          {"operating", "Operating points"},
                                                          {"sources", "Per source"},
                                                          {"worst", "Worst scored"},
                                                          {"noface", "No face"},
                                                          {"attributes", "Attributes"}}) {
        o << "<a href=\"#" << id << "\">" << title << "</a>";
    }
    if (!d.errors.empty()) o << "<a href=\"#errors\">Errors</a>";
    o << "</nav></div></header>\n";
}

void WriteHeadline(std::ostringstream& o, const ReportData& d) {
    o << "<section id=\"headline\"><h2>Headline error rates</h2><p class=\"note\">Rates at the "
         "threshold. Row \"excluded\": images without a face are left out (they are listed "
         "below); row \"strict\": a missed face counts as a rejection. APCER is the worst attack "
         "type (highlighted); AUC pools all types.</p>"
         "<div class=\"cards\">";
    for (const auto& g : d.groups) {
        const AntispoofReport& r = g.report;
        const ErrorRates& e = r.excluded;
        o << "<div class=\"card\"><h3>" << EscapeHtml(r.name) << "<span class=\"sub\">" << r.items
          << " images: " << LiveCount(r) << " live, " << AttackCount(r) << " attacks, "
          << (r.no_face_live + r.no_face_attack) << " no face</span></h3><div class=\"kpis\">";
        // Name, value, and a small line saying what the value rests on.
        auto kpi = [&o](std::string_view k, const std::string& v, const std::string& sub,
                        bool bad) {
            o << "<div class=\"kpi" << (bad ? " bad" : "") << "\"><span class=\"k\">"
              << EscapeHtml(k) << "</span><span class=\"v\">" << EscapeHtml(v)
              << "</span><span class=\"s\" title=\"" << EscapeHtml(sub) << "\">" << EscapeHtml(sub)
              << "</span></div>";
        };
        kpi("APCER", FormatPercent(e.max_apcer),
            e.worst_attack.empty() ? std::string("no attacks") : "worst: " + e.worst_attack,
            e.max_apcer.value_or(0) > 0);
        kpi("BPCER", FormatPercent(e.bpcer),
            std::to_string(e.live_rejected) + "/" + std::to_string(e.live) + " live",
            e.bpcer.value_or(0) > 0);
        kpi("ACER", FormatPercent(e.acer), "(APCER+BPCER)/2", e.acer.value_or(0) > 0);
        kpi("AUC", Num(r.auc_excluded), "threshold-free", false);
        o << "</div><table><tr>" << Th("attack type") << "<th class=\"num\">attacks</th>"
          << "<th class=\"num\">accepted</th><th class=\"num\">APCER</th></tr>";
        for (const auto& a : e.per_attack) {
            const bool worst = a.apcer && a.attack_type == e.worst_attack;
            o << "<tr" << (worst ? " class=\"worst\"" : "") << "><td>" << EscapeHtml(a.attack_type)
              << (worst ? "<span class=\"tag\">worst</span>" : "") << "</td><td class=\"num\">"
              << a.attacks << "</td><td class=\"num\">" << a.accepted << "</td>"
              << PctCell(a.apcer, a.apcer.value_or(0) > 0) << "</tr>";
        }
        o << "</table><table><tr>" << Th("rule")
          << "<th class=\"num\">APCER</th><th class=\"num\">BPCER</th>"
             "<th class=\"num\">ACER</th><th class=\"num\">AUC</th></tr>";
        auto rule = [&o](std::string_view name, const ErrorRates& x,
                         const std::optional<double>& auc) {
            o << "<tr>" << Td(name) << PctCell(x.max_apcer) << "<td class=\"num\">"
              << FormatPercent(x.bpcer) << " (" << x.live_rejected << "/" << x.live << ")</td>"
              << PctCell(x.acer) << "<td class=\"num\">" << Num(auc) << "</td></tr>";
        };
        rule("excluded", e, r.auc_excluded);
        rule("strict", r.strict, r.auc_strict);
        o << "</table></div>";
    }
    o << "</div></section>\n";
}

void WriteDet(std::ostringstream& o, const ReportData& d) {
    o << "<section id=\"det\"><h2>DET curve</h2><p class=\"note\">APCER (all attack types "
         "pooled) against BPCER as the threshold moves over every observed score, no-face images "
         "excluded. Both axes are scaled log(1 + 100x) so that 0% stays visible and the "
         "low-error corner gets the room. The dot is the operating point at the current "
         "threshold.</p>";
    // An empty chart would look like a rendering fault; say why there is none instead.
    if (d.groups.empty()) {
        o << "<p>No anti-spoofing rows evaluated.</p></section>\n";
        return;
    }
    o << "<figure>" << DetCurveSvg(d.groups, d.settings.threshold) << "</figure></section>\n";
}

void WriteHistograms(std::ostringstream& o, const ReportData& d) {
    o << "<section id=\"hist\"><h2>Score histograms</h2><p class=\"note\">P(real) of every scored "
         "face in 20 bins of 0.05; one row per class, each row on its own count scale (the "
         "number above a bar is its count). The dashed line is the threshold: attacks to its "
         "right are accepted, live faces to its left rejected.</p><div class=\"charts\">";
    for (const auto& g : d.groups) {
        o << "<figure><figcaption>" << EscapeHtml(g.report.name) << "</figcaption>"
          << ScoreHistogramSvg(g, d.settings.threshold) << "</figure>";
    }
    o << "</div></section>\n";
}

void WriteOperatingPoints(std::ostringstream& o, const ReportData& d) {
    o << "<section id=\"operating\"><h2>Operating points</h2><p class=\"note\">\"APCER at BPCER = "
         "x\" uses the highest threshold whose BPCER is at most x (the calibrated threshold for "
         "that BPCER); \"BPCER at APCER = x\" the lowest threshold whose worst-type APCER is at "
         "most x. With n samples, x\u00b7n is rounded down to whole errors, so 1% and 5% are "
         "often the same point on a small set.</p><table><tr>"
      << Th("group") << Th("operating point")
      << "<th class=\"num\">calibrated threshold</th><th class=\"num\">APCER (worst)</th>"
         "<th class=\"num\">BPCER</th></tr>";
    for (const auto& g : d.groups) {
        for (const auto& p : g.report.sweep) {
            o << "<tr>" << Td(g.report.name) << Td(p.constraint) << Td(Num(p.threshold, 4), "num")
              << PctCell(p.max_apcer) << PctCell(p.bpcer) << "</tr>";
        }
    }
    o << "</table>";
    if (!d.calibration.empty()) {
        o << "<h3>Requested calibrations (<code>--threshold-for</code>)</h3><table><tr>"
          << Th("group") << Th("constraint")
          << "<th class=\"num\">threshold</th><th class=\"num\">APCER (worst)</th>"
             "<th class=\"num\">BPCER</th></tr>";
        for (const auto& c : d.calibration) {
            o << "<tr>" << Td(c.group) << Td(c.metric + " \u2264 " + FormatPercent(c.target))
              << Td(Num(c.threshold, 6), "num") << PctCell(c.max_apcer) << PctCell(c.bpcer)
              << "</tr>";
        }
        o << "</table>";
    }
    o << "</section>\n";
}

void WriteSources(std::ostringstream& o, const ReportData& d) {
    o << "<section id=\"sources\"><h2>Per source</h2><p class=\"note\">Each source folder on its "
         "own at the current threshold, no-face excluded. Frames within a source are strongly "
         "correlated, so these rows say more than the totals.</p>";
    if (d.sources.empty()) {
        o << "<p>No anti-spoofing sources.</p></section>\n";
        return;
    }
    o << "<table><tr>" << Th("source")
      << "<th class=\"num\">live</th><th class=\"num\">attacks</th><th class=\"num\">no "
         "face</th><th class=\"num\">BPCER</th><th class=\"num\">APCER (worst)</th>"
      << Th("worst type") << "<th class=\"num\">ACER</th><th class=\"num\">AUC</th></tr>";
    for (const auto& r : d.sources) {
        const ErrorRates& e = r.excluded;
        o << "<tr>" << Td(r.name) << "<td class=\"num\">" << e.live << "</td><td class=\"num\">"
          << e.attacks << "</td><td class=\"num\">" << (r.no_face_live + r.no_face_attack)
          << "</td>" << PctCell(e.bpcer, e.bpcer.value_or(0) > 0)
          << PctCell(e.max_apcer, e.max_apcer.value_or(0) > 0)
          << Td(e.max_apcer.value_or(0) > 0 ? e.worst_attack : "") << PctCell(e.acer)
          << Td(Num(r.auc_excluded), "num") << "</tr>";
    }
    o << "</table></section>\n";
}

/// Items of the task groups (the union group would repeat them), each file once.
std::vector<AntispoofItem> DistinctItems(const ReportData& d) {
    std::vector<AntispoofItem> out;
    std::set<std::string> seen;
    for (const auto& g : d.groups) {
        if (g.is_union) continue;
        for (const auto& it : g.items) {
            if (seen.insert(it.file).second) out.push_back(it);
        }
    }
    return out;
}

void WriteWorst(std::ostringstream& o, const ReportData& d) {
    const double t = d.settings.threshold;
    std::vector<AntispoofItem> attacks, live;
    for (auto& it : DistinctItems(d)) {
        if (!it.score) continue;
        (it.is_live ? live : attacks).push_back(std::move(it));
    }
    // Ties keep a stable, file-ordered listing so that two runs give the same page.
    std::stable_sort(attacks.begin(), attacks.end(), [](const auto& a, const auto& b) {
        return *a.score != *b.score ? *a.score > *b.score : a.file < b.file;
    });
    std::stable_sort(live.begin(), live.end(), [](const auto& a, const auto& b) {
        return *a.score != *b.score ? *a.score < *b.score : a.file < b.file;
    });
    const auto n = static_cast<std::size_t>(std::max(d.worst_listed, 0));
    auto table = [&](std::string_view title, std::vector<AntispoofItem>& items, bool attack) {
        o << "<div><h3>" << EscapeHtml(title) << "</h3>";
        if (items.empty()) {
            o << "<p>None scored.</p></div>";
            return;
        }
        o << "<table><tr><th class=\"num\">#</th>" << Th("file") << Th("source") << Th("type")
          << "<th class=\"num\">P(real)</th>" << Th("at threshold") << "</tr>";
        for (std::size_t i = 0; i < std::min(n, items.size()); ++i) {
            const auto& it = items[i];
            const bool accepted = *it.score >= t;
            const bool wrong = attack == accepted;
            o << "<tr" << (wrong ? " class=\"err\"" : "") << "><td class=\"num\">" << (i + 1)
              << "</td>" << Td(it.file, "file") << Td(it.source) << Td(Label(it))
              << Td(Num(it.score, 4), "num")
              << Td(accepted ? "accepted" : "rejected", wrong ? "bad" : "") << "</tr>";
        }
        o << "</table></div>";
    };
    o << "<section id=\"worst\"><h2>Worst-scored images</h2><p class=\"note\">Paths are relative "
         "to "
         "the data root; highlighted rows are errors at the current threshold.</p><div>";
    table("Attacks with the highest P(real)", attacks, true);
    table("Live faces with the lowest P(real)", live, false);
    o << "</div></section>\n";
}

void WriteNoFace(std::ostringstream& o, const ReportData& d) {
    o << "<section id=\"noface\"><h2>No face found</h2>";
    std::vector<AntispoofItem> missing;
    for (const auto& it : DistinctItems(d)) {
        if (!it.score) missing.push_back(it);
    }
    if (missing.empty() && d.pose_no_face.empty()) {
        o << "<p>None: the detector found a face in every image.</p></section>\n";
        return;
    }
    o << "<table><tr>" << Th("file") << Th("task / source") << Th("label") << "</tr>";
    for (const auto& it : missing) {
        o << "<tr>" << Td(it.file, "file") << Td("anti-spoofing / " + it.source) << Td(Label(it))
          << "</tr>";
    }
    for (const auto& f : d.pose_no_face) {
        o << "<tr>" << Td(f, "file") << Td("headpose") << Td("") << "</tr>";
    }
    o << "</table></section>\n";
}

void WriteAttributes(std::ostringstream& o, const ReportData& d) {
    o << "<section id=\"attributes\"><h2>Attributes</h2><div class=\"cols\"><div><h3>Head pose"
         "<span class=\"sub\">"
      << d.pose.n << " faces, " << d.pose_no_face.size() << " without a face</span></h3>";
    if (d.pose.n > 0) {
        o << "<table><tr>" << Th("angle") << "<th class=\"num\">MAE (degrees)</th></tr>";
        o << "<tr>" << Td("yaw") << Td(Num(d.pose.yaw, 2), "num") << "</tr>";
        o << "<tr>" << Td("pitch") << Td(Num(d.pose.pitch, 2), "num") << "</tr>";
        o << "<tr>" << Td("roll") << Td(Num(d.pose.roll, 2), "num") << "</tr>";
        o << "<tr>" << Td("roll, sign flipped (convention check)")
          << Td(Num(d.roll_mae_if_sign_flipped, 2), "num") << "</tr></table>";
        o << "<table><tr>" << Th("file")
          << "<th class=\"num\">yaw true / ours</th><th class=\"num\">pitch true / ours</th>"
             "<th class=\"num\">roll true / ours</th></tr>";
        for (const auto& p : d.poses) {
            const PosePair& q = p.pair;
            // An angle off by more than 10 degrees is marked: the MAE alone hides which faces.
            auto cell = [](double truth, double ours) {
                const bool bad = std::abs(ours - truth) > 10.0;
                return Td(Fixed(truth, 1) + " / " + Fixed(ours, 1), bad ? "num bad" : "num");
            };
            o << "<tr>" << Td(p.file, "file") << cell(q.yaw_true, q.yaw)
              << cell(q.pitch_true, q.pitch) << cell(q.roll_true, q.roll) << "</tr>";
        }
        o << "</table>";
    } else {
        o << "<p>No head-pose rows evaluated.</p>";
    }
    o << "</div><div><h3>Eyes, mouth, face count</h3>";
    if (d.tallies.empty()) {
        o << "<p>No attribute rows evaluated.</p>";
    } else {
        o << "<table><tr>" << Th("task")
          << "<th class=\"num\">accuracy</th><th class=\"num\">correct</th><th "
             "class=\"num\">no face</th></tr>";
        for (const auto& [name, t] : d.tallies) {
            o << "<tr>" << Td(name) << PctCell(t.Accuracy(), !t.misses.empty())
              << "<td class=\"num\">" << t.correct << "/" << t.total << "</td><td class=\"num\">"
              << t.no_face << "</td></tr>";
        }
        o << "</table>";
        for (const auto& [name, t] : d.tallies) {
            if (t.misses.empty()) continue;
            o << "<h3>" << EscapeHtml(name) << ": misclassified<span class=\"sub\">"
              << t.misses.size() << "</span></h3><table><tr>" << Th("file") << Th("expected")
              << Th("got") << "</tr>";
            for (const auto& m : t.misses) {
                o << "<tr>" << Td(m.file, "file") << Td(m.expected) << Td(m.got, "bad") << "</tr>";
            }
            o << "</table>";
        }
        bool all_right = true;
        for (const auto& entry : d.tallies) all_right = all_right && entry.second.misses.empty();
        if (all_right) o << "<p>No misclassified files.</p>";
    }
    o << "</div></div></section>\n";
}

void WriteErrors(std::ostringstream& o, const ReportData& d) {
    if (d.errors.empty()) return;
    o << "<section id=\"errors\"><h2>Errors</h2><p class=\"note\">Rows that could not be "
         "evaluated (left out of every number above).</p><table><tr>"
      << Th("file") << Th("reason") << "</tr>";
    for (const auto& [file, why] : d.errors) o << "<tr>" << Td(file, "file") << Td(why) << "</tr>";
    o << "</table></section>\n";
}

}  // namespace

std::string EscapeHtml(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string FormatPercent(const std::optional<double>& rate) {
    if (!rate) return "n/a";
    return Fixed(*rate * 100.0, 1) + "%";
}

std::vector<DetPoint> DetCurve(std::span<const AntispoofItem> items) {
    std::vector<double> live, attack;
    for (const auto& it : items) {
        if (it.score) (it.is_live ? live : attack).push_back(*it.score);
    }
    if (live.empty() || attack.empty()) return {};
    std::sort(live.begin(), live.end());
    std::sort(attack.begin(), attack.end());
    std::vector<double> thresholds(live);
    thresholds.insert(thresholds.end(), attack.begin(), attack.end());
    std::sort(thresholds.begin(), thresholds.end());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
    thresholds.push_back(kInf);
    std::vector<DetPoint> out;
    out.reserve(thresholds.size());
    for (const double t : thresholds) {
        // live iff score >= t: rejected live are those strictly below t, accepted attacks at or
        // above it.
        const auto rejected = std::lower_bound(live.begin(), live.end(), t) - live.begin();
        const auto accepted = attack.end() - std::lower_bound(attack.begin(), attack.end(), t);
        out.push_back({t, static_cast<double>(accepted) / static_cast<double>(attack.size()),
                       static_cast<double>(rejected) / static_cast<double>(live.size())});
    }
    return out;
}

std::vector<int> HistogramCounts(std::span<const double> scores, int bins) {
    std::vector<int> counts(static_cast<std::size_t>(std::max(bins, 1)), 0);
    const int last = static_cast<int>(counts.size()) - 1;
    for (const double s : scores) {
        if (std::isnan(s)) continue;
        const int b =
            std::clamp(static_cast<int>(std::floor(std::clamp(s, 0.0, 1.0) * (last + 1))), 0, last);
        ++counts[static_cast<std::size_t>(b)];
    }
    return counts;
}

std::string DetCurveSvg(std::span<const ReportGroup> groups, double threshold) {
    constexpr double kW = 850, kH = 500, kLeft = 74, kRight = 280, kTop = 20, kBottom = 62;
    constexpr double kPw = kW - kLeft - kRight, kPh = kH - kTop - kBottom;
    auto x_of = [&](double bpcer) { return kLeft + Logish(bpcer) * kPw; };
    auto y_of = [&](double apcer) { return kTop + (1.0 - Logish(apcer)) * kPh; };
    std::ostringstream o;
    o << "<svg width=\"" << C(kW) << "\" height=\"" << C(kH) << "\" viewBox=\"0 0 " << C(kW) << " "
      << C(kH) << "\" role=\"img\" aria-label=\"DET curve\" font-size=\"12\">";
    o << "<rect x=\"" << C(kLeft) << "\" y=\"" << C(kTop) << "\" width=\"" << C(kPw)
      << "\" height=\"" << C(kPh) << "\" fill=\"#fbfcfe\" stroke=\"#9aa3b2\"/>";
    const std::vector<std::pair<double, const char*>> ticks = {
        {0.0, "0%"},  {0.01, "1%"}, {0.02, "2%"}, {0.05, "5%"},
        {0.1, "10%"}, {0.2, "20%"}, {0.5, "50%"}, {1.0, "100%"}};
    for (const auto& [v, label] : ticks) {
        const double x = x_of(v), y = y_of(v);
        o << SvgLine(x, kTop, x, kTop + kPh, "stroke=\"#e3e7ee\"")
          << SvgLine(kLeft, y, kLeft + kPw, y, "stroke=\"#e3e7ee\"")
          << SvgLine(x, kTop + kPh, x, kTop + kPh + 5, "stroke=\"#5b6475\"")
          << SvgLine(kLeft - 5, y, kLeft, y, "stroke=\"#5b6475\"")
          << SvgText(x, kTop + kPh + 19, label, "middle", "fill=\"#1d2330\"")
          << SvgText(kLeft - 8, y + 4, label, "end", "fill=\"#1d2330\"");
    }
    o << SvgText(kLeft + kPw / 2, kH - 14, "BPCER: live faces rejected", "middle",
                 "font-size=\"13\" font-weight=\"600\"");
    o << "<text transform=\"translate(18 " << C(kTop + kPh / 2)
      << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"600\">"
      << EscapeHtml("APCER: attacks accepted (pooled)") << "</text>";
    // Legend to the right of the plot: the lines, then each group's operating point in words.
    double ly = kTop + 8;
    const double lx = kLeft + kPw + 18;
    o << SvgText(lx, ly + 4, "live iff P(real) \u2265 " + Fixed(threshold, 2), "start",
                 "font-weight=\"600\"");
    ly += 24;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const ReportGroup& g = groups[i];
        const std::string color = kGroupColors[i % kGroupColors.size()];
        const auto curve = DetCurve(g.items);
        const ErrorRates& e = g.report.excluded;
        o << SvgLine(lx, ly, lx + 24, ly,
                     "stroke=\"" + color + "\" stroke-width=\"2.5\"" +
                         (g.is_union ? " stroke-dasharray=\"6 3\"" : ""))
          << SvgText(lx + 30, ly + 4, g.report.name, "start", "font-weight=\"600\"");
        ly += 17;
        if (curve.empty()) {
            o << SvgText(lx + 30, ly + 4, "no curve: needs live and attack scores", "start",
                         "fill=\"#5b6475\" font-size=\"11\"");
            ly += 26;
            continue;
        }
        o << SvgText(lx + 30, ly + 4, "AUC " + Num(g.report.auc_excluded), "start",
                     "fill=\"#5b6475\" font-size=\"11\"");
        ly += 15;
        o << SvgText(lx + 30, ly + 4,
                     "at t: pooled APCER " + FormatPercent(PooledApcer(e)) + ", BPCER " +
                         FormatPercent(e.bpcer),
                     "start", "fill=\"#5b6475\" font-size=\"11\"");
        ly += 26;
        o << "<polyline fill=\"none\" stroke=\"" << color
          << "\" stroke-width=\"2.5\" stroke-linejoin=\"round\""
          << (g.is_union ? " stroke-dasharray=\"6 3\"" : "") << " points=\"";
        for (std::size_t k = 0; k < curve.size(); ++k) {
            o << (k ? " " : "") << C(x_of(curve[k].bpcer)) << "," << C(y_of(curve[k].apcer));
        }
        o << "\"/>";
    }
    // Operating points last, so no curve is drawn over them.
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const ErrorRates& e = groups[i].report.excluded;
        const auto apcer = PooledApcer(e);
        if (!apcer || !e.bpcer) continue;
        o << "<circle cx=\"" << C(x_of(*e.bpcer)) << "\" cy=\"" << C(y_of(*apcer))
          << "\" r=\"6\" fill=\"" << kGroupColors[i % kGroupColors.size()]
          << "\" stroke=\"#fff\" stroke-width=\"2\"><title>"
          << EscapeHtml(groups[i].report.name + " at t = " + Fixed(threshold, 2) + ": APCER " +
                        FormatPercent(apcer) + ", BPCER " + FormatPercent(e.bpcer))
          << "</title></circle>";
    }
    o << "<circle cx=\"" << C(lx + 6) << "\" cy=\"" << C(ly) << "\" r=\"6\" fill=\"#5b6475\" "
      << "stroke=\"#fff\" stroke-width=\"2\"/>"
      << SvgText(lx + 18, ly + 4, "operating point at t", "start", "font-size=\"11\"");
    o << "</svg>";
    return o.str();
}

std::string ScoreHistogramSvg(const ReportGroup& group, double threshold) {
    const std::vector<std::string> classes = ScoredClasses(group.items);
    constexpr double kW = 540, kLeft = 118, kRight = 16, kTop = 44, kRowH = 64, kBarH = 40,
                     kBottom = 48;
    constexpr double kPw = kW - kLeft - kRight, kBw = kPw / kBins;
    const double rows = static_cast<double>(std::max<std::size_t>(classes.size(), 1));
    const double h = kTop + rows * kRowH + kBottom;
    std::ostringstream o;
    o << "<svg width=\"" << C(kW) << "\" height=\"" << C(h) << "\" viewBox=\"0 0 " << C(kW) << " "
      << C(h) << "\" role=\"img\" aria-label=\"P(real) histograms\" font-size=\"11\">";
    // Legend on top, one swatch per class.
    double lx = kLeft;
    for (const auto& cls : classes) {
        o << "<rect x=\"" << C(lx) << "\" y=\"8\" width=\"12\" height=\"12\" fill=\""
          << ClassColor(cls) << "\"/>" << SvgText(lx + 16, 18, cls);
        lx += 28 + 7.0 * static_cast<double>(cls.size());
    }
    if (classes.empty()) {
        o << SvgText(kW / 2, kTop + kRowH / 2, "no scored faces", "middle", "fill=\"#5b6475\"");
    }
    o << "<text transform=\"translate(14 " << C(kTop + rows * kRowH / 2)
      << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\">"
      << EscapeHtml("faces per bin") << "</text>";
    for (std::size_t r = 0; r < classes.size(); ++r) {
        const std::string& cls = classes[r];
        std::vector<double> scores;
        for (const auto& it : group.items) {
            if (it.score && Label(it) == cls) scores.push_back(*it.score);
        }
        const std::vector<int> counts = HistogramCounts(scores, kBins);
        const int max_count = std::max(1, *std::max_element(counts.begin(), counts.end()));
        const double base = kTop + static_cast<double>(r) * kRowH + 16 + kBarH;
        const std::string color = ClassColor(cls);
        o << SvgText(kLeft - 40, base - 22, cls, "end",
                     "font-size=\"12\" font-weight=\"600\" fill=\"" + color + "\"")
          << SvgText(kLeft - 40, base - 7, "n = " + std::to_string(scores.size()), "end",
                     "fill=\"#5b6475\"");
        // A per-row y axis labelled 0 and the row's maximum.
        o << SvgLine(kLeft - 4, base - kBarH, kLeft - 4, base, "stroke=\"#9aa3b2\"")
          << SvgLine(kLeft - 8, base - kBarH, kLeft - 4, base - kBarH, "stroke=\"#9aa3b2\"")
          << SvgText(kLeft - 10, base - kBarH + 4, std::to_string(max_count), "end",
                     "fill=\"#5b6475\" font-size=\"10\"")
          << SvgText(kLeft - 10, base + 3, "0", "end", "fill=\"#5b6475\" font-size=\"10\"");
        for (int b = 0; b < kBins; ++b) {
            const int n = counts[static_cast<std::size_t>(b)];
            if (n == 0) continue;
            const double bh = std::max(1.5, kBarH * n / max_count);
            const double x = kLeft + b * kBw;
            o << "<rect x=\"" << C(x + 1) << "\" y=\"" << C(base - bh) << "\" width=\""
              << C(kBw - 2) << "\" height=\"" << C(bh) << "\" fill=\"" << color
              << "\" fill-opacity=\"0.85\"><title>"
              << EscapeHtml(cls + ": " + std::to_string(n) + " in [" + Fixed(b * 0.05, 2) + ", " +
                            Fixed((b + 1) * 0.05, 2) + (b + 1 == kBins ? "]" : ")"))
              << "</title></rect>"
              << SvgText(x + kBw / 2, base - bh - 3, std::to_string(n), "middle",
                         "font-size=\"9\" fill=\"#1d2330\"");
        }
        o << SvgLine(kLeft, base, kLeft + kPw, base, "stroke=\"#9aa3b2\"");
    }
    // Shared x axis under the last row.
    const double axis = kTop + rows * kRowH;
    for (int i = 0; i <= 10; ++i) {
        const double x = kLeft + kPw * i / 10.0;
        o << SvgLine(x, axis - 8, x, axis - 3, "stroke=\"#5b6475\"")
          << SvgText(x, axis + 10, Fixed(i / 10.0, 1), "middle", "fill=\"#1d2330\"");
    }
    o << SvgText(kLeft + kPw / 2, axis + 32, "P(real)", "middle",
                 "font-size=\"12\" font-weight=\"600\"");
    const double tx = kLeft + kPw * std::clamp(threshold, 0.0, 1.0);
    o << SvgLine(tx, kTop - 6, tx, axis - 8,
                 "stroke=\"#c62828\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"")
      << SvgText(tx + 4, kTop - 2, "t = " + Fixed(threshold, 2), "start",
                 "fill=\"#c62828\" font-size=\"10\"");
    o << "</svg>";
    return o.str();
}

std::string RenderReportHtml(const ReportData& data) {
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>liveproof eval report "
      << EscapeHtml(data.settings.date) << "</title><style>" << kStyle << "</style></head><body>\n";
    WriteHeader(o, data);
    o << "<main>\n";
    WriteHeadline(o, data);
    WriteDet(o, data);
    WriteHistograms(o, data);
    WriteOperatingPoints(o, data);
    WriteSources(o, data);
    WriteWorst(o, data);
    WriteNoFace(o, data);
    WriteAttributes(o, data);
    WriteErrors(o, data);
    o << "<footer>Generated by " << Code("liveproof eval --report")
      << ". Self-contained: no scripts and no external resources; file names are paths relative "
         "to the data root, no image is embedded. Definitions (APCER, BPCER, ACER, AUC, the "
         "no-face rule, the sweep) are in docs/accuracy.md.</footer>\n</main></body></html>\n";
    return o.str();
}

}  // namespace liveproof::eval
