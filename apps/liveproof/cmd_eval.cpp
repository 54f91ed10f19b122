// `liveproof eval`: ISO/IEC 30107-3 style error rates and attribute accuracy on a labelled set.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <sstream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "engine/operating_point.hpp"
#include "eval/aflw_pose.hpp"
#include "eval/labels_csv.hpp"
#include "eval/metrics.hpp"
#include "eval/report_html.hpp"
#include "media/decode.hpp"
#include "text_table.hpp"

namespace liveproof::cli {

namespace {

namespace fs = std::filesystem;
using eval::AccuracyTally;
using eval::AntispoofItem;
using eval::AntispoofReport;
using nlohmann::json;

const std::vector<std::string> kAllTasks = {"antispoof", "antispoof_crop", "headpose",
                                            "eyes",      "mouth",          "face_count"};
// Species always listed, so a report says "no mask samples" rather than dropping the row.
const std::vector<std::string> kAttackTypes = {"mask", "print", "replay"};
const std::vector<double> kBpcerTargets = {0.01, 0.05};
const std::vector<double> kApcerTargets = {0.01, 0.05};

// Tight face crops (task antispoof_crop) are padded before detection because YuNet needs some
// context around a face: unpadded, 3 of the 80 crops are missed. The padding is a fraction of the
// crop's own width (left/right) and height (top/bottom). Rule: the SMALLEST padding at which the
// detector finds every crop, because the padding also enters the MiniFASNet patch (2.7x and 4x the
// face box) and shifts P(real): black (BORDER_CONSTANT) borders read as a screen bezel and push
// almost every live crop below 0.5, wide replicated borders push every replay above it. Tried
// constant/replicate x 0.05/0.1/0.15/0.25/0.5/1.0 (docs/accuracy.md): 10% replicate is the
// smallest that finds all 80 and the least biased.
constexpr double kDefaultCropPad = 0.1;
constexpr const char* kDefaultCropBorder = "replicate";

struct EvalFlags {
    CommonFlags common;
    std::string labels;
    std::string root;
    std::vector<std::string> tasks = kAllTasks;
    double threshold = 0.5;
    bool json = false;
    std::string report;  // HTML report path ("" = none)
    std::vector<std::string> threshold_for;
    double crop_pad = kDefaultCropPad;
    std::string crop_border = kDefaultCropBorder;
    std::string half;             // "" = every row; "A" / "B": one half (RowInHalf)
    std::string operating_point;  // a calibrate file whose threshold replaces --threshold
};

/// Splits a labelled set into two halves by a hash of each file's path (FNV-1a): stable across
/// runs and machines, independent of the CSV's order, so `calibrate --half A` and `eval --half
/// B` never see the same file.
bool RowInHalf(const std::string& file, const std::string& half) {
    if (half.empty()) return true;
    std::uint64_t h = 14695981039346656037ull;
    for (const unsigned char ch : file) h = (h ^ ch) * 1099511628211ull;
    return ((h >> 7) & 1) == (half == "B" ? 1u : 0u);
}

/// A calibration request "BPCER=0.05" / "APCER=5%".
struct CalibrationTarget {
    std::string metric;  // "BPCER" or "APCER"
    double value = 0;
};

Expected<CalibrationTarget> ParseCalibration(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
        return MakeError(ErrorCode::InvalidArgument, "expected BPCER=x or APCER=x, got " + text);
    }
    CalibrationTarget t;
    t.metric = text.substr(0, eq);
    std::transform(t.metric.begin(), t.metric.end(), t.metric.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::string v = text.substr(eq + 1);
    const bool percent = !v.empty() && v.back() == '%';
    if (percent) v.pop_back();
    try {
        std::size_t used = 0;
        t.value = std::stod(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
    } catch (const std::exception&) {
        return MakeError(ErrorCode::InvalidArgument, "not a number in " + text);
    }
    if (percent) t.value /= 100.0;
    if ((t.metric != "BPCER" && t.metric != "APCER") || !(t.value >= 0.0 && t.value <= 1.0)) {
        return MakeError(ErrorCode::InvalidArgument,
                         "expected BPCER=x or APCER=x with x in [0,1], got " + text);
    }
    return t;
}

/// Resolves a labels path under root, refusing absolute paths and '..' so that a labels file
/// cannot make the evaluator read outside the data folder.
Expected<fs::path> ResolveUnder(const fs::path& root, const std::string& relative) {
    const fs::path rel(relative);
    if (relative.empty() || rel.is_absolute()) {
        return MakeError(ErrorCode::InvalidArgument, "not a relative path: '" + relative + "'");
    }
    for (const auto& part : rel) {
        if (part == "..") {
            return MakeError(ErrorCode::InvalidArgument, "'..' in path: " + relative);
        }
    }
    return root / rel;
}

/// The folder under antispoof/ (nuaa, crops_Apfol, ...), else the file's parent folder name.
std::string SourceOf(const std::string& file) {
    std::vector<std::string> parts;
    for (const auto& p : fs::path(file)) parts.push_back(p.string());
    if (parts.size() > 2 && parts[0] == "antispoof") return parts[1];
    return parts.size() > 1 ? parts[parts.size() - 2] : "-";
}

std::string Pct(const std::optional<double>& v) {
    if (!v) return "n/a";
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << *v * 100.0 << "%";
    return s.str();
}

std::string Num(const std::optional<double>& v, int precision = 3) {
    if (!v) return "n/a";
    if (std::isinf(*v)) return *v > 0 ? "+inf" : "-inf";
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << *v;
    return s.str();
}

json JNum(const std::optional<double>& v) {
    // JSON has no infinity: an unbounded threshold is null plus the text form in a sibling field.
    if (!v || !std::isfinite(*v)) return nullptr;
    return *v;
}

std::string Ratio(int num, int den) { return std::to_string(num) + "/" + std::to_string(den); }

/// Progress on stderr: a redrawn bar on a terminal, otherwise a plain line every few items.
class Progress {
  public:
    explicit Progress(std::size_t total) : total_(total), tty_(isatty(STDERR_FILENO) == 1) {}
    void Step(const std::string& task, const std::string& file) {
        ++done_;
        if (tty_) {
            constexpr int kWidth = 30;
            const int filled = static_cast<int>(kWidth * done_ / std::max<std::size_t>(total_, 1));
            std::cerr << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, ' ')
                      << "] " << done_ << "/" << total_ << " " << task << "        " << std::flush;
            if (done_ == total_) std::cerr << "\n";
        } else if (done_ % 25 == 0 || done_ == total_ || task != last_task_) {
            std::cerr << "eval: " << done_ << "/" << total_ << " " << task << " " << file << "\n";
        }
        last_task_ = task;
    }

  private:
    std::size_t total_;
    std::size_t done_ = 0;
    bool tty_;
    std::string last_task_;
};

/// Everything gathered while running the engine over the labelled files.
struct Collected {
    std::map<std::string, std::vector<AntispoofItem>> antispoof;  // by task
    std::vector<eval::PosePair> pose_pairs;
    std::vector<std::string> pose_files;
    std::vector<std::string> pose_no_face;
    double roll_abs_sum_flipped = 0;
    std::map<std::string, AccuracyTally> tallies;             // eyes, mouth, face_count
    std::vector<std::pair<std::string, std::string>> errors;  // file, reason
    json items = json::array();
};

std::string EyesClass(const FaceResult& f) {
    if (!f.eye_image_left || !f.eye_image_right) return "no_eyes";
    const bool l = f.eye_image_left->closed > 0.5f;
    const bool r = f.eye_image_right->closed > 0.5f;
    if (l && r) return "eyes_closed";
    if (l || r) return "one_eye_closed";
    return "eyes_open";
}

std::string FaceCountClass(const std::string& label, std::size_t n) {
    // 'many' means four or more faces; a numeric label must match exactly.
    if (label == "many") return n >= 4 ? "many" : std::to_string(n);
    return std::to_string(n);
}

std::optional<double> ExtraNumber(const json& extra, const char* key) {
    const auto it = extra.find(key);
    if (it == extra.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

/// Pads a tight crop on every side (see kDefaultCropPad) so the detector sees some context.
cv::Mat PadCrop(const cv::Mat& crop, double fraction, int border_type) {
    const int py = static_cast<int>(std::lround(fraction * crop.rows));
    const int px = static_cast<int>(std::lround(fraction * crop.cols));
    cv::Mat out;
    cv::copyMakeBorder(crop, out, py, py, px, px, border_type, cv::Scalar(0, 0, 0));
    return out;
}

class Evaluator {
  public:
    Evaluator(const Engine& engine, const EvalFlags& flags)
        : engine_(engine), flags_(flags), root_(flags.root) {}

    Collected Run(const std::vector<eval::LabelRow>& rows) {
        std::vector<const eval::LabelRow*> todo;
        // Task by task, in the order asked for, so the progress lines read naturally.
        for (const std::string& task : flags_.tasks) {
            for (const auto& r : rows) {
                if (r.task == task) todo.push_back(&r);
            }
        }
        Progress progress(todo.size());
        for (const eval::LabelRow* r : todo) {
            Process(*r);
            progress.Step(r->task, r->file);
        }
        return std::move(out_);
    }

  private:
    Expected<ImageAnalysis> AnalyzeFile(const eval::LabelRow& row, const AnalyzeOptions& what) {
        auto path = ResolveUnder(root_, row.file);
        if (!path) return Unexpected{path.error()};
        auto bytes = ReadInputFile(path->string(), engine_.options().limits.max_image_bytes);
        if (!bytes) return Unexpected{bytes.error()};
        if (row.task != "antispoof_crop") return engine_.Analyze(*bytes, what);
        // The engine's decoder: its caps and truncation checks, and errors instead of exceptions.
        auto decoded = media::DecodeImage(*bytes, engine_.options().limits);
        if (!decoded) return Unexpected{decoded.error()};
        const cv::Mat& crop = decoded->bgr;
        const int border =
            flags_.crop_border == "constant" ? cv::BORDER_CONSTANT : cv::BORDER_REPLICATE;
        const cv::Mat padded = PadCrop(crop, flags_.crop_pad, border);
        return engine_.AnalyzeBgr(padded.data, padded.cols, padded.rows, padded.step, what);
    }

    void Process(const eval::LabelRow& row) {
        const bool antispoof = row.task == "antispoof" || row.task == "antispoof_crop";
        // The passive check is what system B runs (detection + ensemble, no mesh filter); the
        // attribute tasks need the full pipeline.
        const AnalyzeOptions what = antispoof ? AnalyzeOptions::PassiveOnly() : AnalyzeOptions{};
        auto result = AnalyzeFile(row, what);
        json item = {{"file", row.file}, {"task", row.task}, {"label", row.label}};
        if (!result) {
            out_.errors.emplace_back(row.file, result.error().detail);
            item["error"] = result.error().detail;
            out_.items.push_back(item);
            return;
        }
        const ImageAnalysis& a = *result;
        item["faces"] = a.faces.size();
        // Faces come sorted largest first: the largest is the one scored.
        const FaceResult* face = a.faces.empty() ? nullptr : &a.faces.front();
        if (antispoof) {
            AntispoofItem it;
            it.file = row.file;
            it.source = SourceOf(row.file);
            it.is_live = row.label == "live";
            const auto attack = row.extra.find("attack");
            it.attack_type = it.is_live ? ""
                                        : eval::NormalizeAttackType(attack != row.extra.end() &&
                                                                            attack->is_string()
                                                                        ? attack->get<std::string>()
                                                                        : "");
            if (face && face->antispoof) it.score = face->antispoof->p_real;
            item["source"] = it.source;
            item["attack_type"] = it.attack_type;
            item["p_real"] = JNum(it.score);
            out_.antispoof[row.task].push_back(std::move(it));
        } else if (row.task == "headpose") {
            const auto yaw = ExtraNumber(row.extra, "yaw_deg");
            const auto pitch = ExtraNumber(row.extra, "pitch_deg");
            const auto roll = ExtraNumber(row.extra, "roll_deg");
            if (!yaw || !pitch || !roll) {
                out_.errors.emplace_back(row.file, "extra lacks yaw_deg/pitch_deg/roll_deg");
            } else if (!face || !face->pose) {
                out_.pose_no_face.push_back(row.file);
            } else {
                // AFLW2000-3D composes its rotation in another order: its angles are converted,
                // not just re-signed, or a turned face's pitch and roll are compared with angles
                // of a different rotation (eval/aflw_pose.hpp).
                const eval::EulerAngles t = eval::AflwPoseToOurs(*yaw, *pitch, *roll);
                eval::PosePair p{t.yaw,           t.pitch,           t.roll,
                                 face->pose->yaw, face->pose->pitch, face->pose->roll};
                out_.pose_pairs.push_back(p);
                out_.pose_files.push_back(row.file);
                out_.roll_abs_sum_flipped += std::abs(p.roll + p.roll_true);
                item["truth"] = {
                    {"yaw", p.yaw_true}, {"pitch", p.pitch_true}, {"roll", p.roll_true}};
                item["pose"] = {{"yaw", p.yaw}, {"pitch", p.pitch}, {"roll", p.roll}};
            }
        } else if (row.task == "eyes") {
            const std::string got = face ? EyesClass(*face) : "no_face";
            out_.tallies["eyes"].Add(row.file, row.label, got);
            item["got"] = got;
            if (face && face->eye_image_left && face->eye_image_right) {
                item["closed"] = {face->eye_image_left->closed, face->eye_image_right->closed};
            }
        } else if (row.task == "mouth") {
            std::string got = "no_face";
            if (face && face->mouth_opened) {
                got = *face->mouth_opened > 0.5f ? "mouth_open" : "mouth_closed";
                item["mouth_opened"] = *face->mouth_opened;
            }
            out_.tallies["mouth"].Add(row.file, row.label, got);
            item["got"] = got;
        } else if (row.task == "face_count") {
            const std::string got = FaceCountClass(row.label, a.faces.size());
            out_.tallies["face_count"].Add(row.file, row.label, got);
            item["got"] = got;
        }
        out_.items.push_back(std::move(item));
    }

    const Engine& engine_;
    const EvalFlags& flags_;
    fs::path root_;
    Collected out_;
};

json RatesToJson(const eval::ErrorRates& r, const std::optional<double>& auc) {
    json per = json::array();
    for (const auto& a : r.per_attack) {
        per.push_back({{"attack_type", a.attack_type},
                       {"attacks", a.attacks},
                       {"accepted", a.accepted},
                       {"apcer", JNum(a.apcer)}});
    }
    return {{"threshold", r.threshold},
            {"per_attack", per},
            {"max_apcer", JNum(r.max_apcer)},
            {"worst_attack", r.worst_attack},
            {"attacks", r.attacks},
            {"attacks_accepted", r.attacks_accepted},
            {"live", r.live},
            {"live_rejected", r.live_rejected},
            {"bpcer", JNum(r.bpcer)},
            {"acer", JNum(r.acer)},
            {"auc", JNum(auc)}};
}

json SweepToJson(const std::vector<eval::OperatingPoint>& sweep) {
    json out = json::array();
    for (const auto& p : sweep) {
        out.push_back({{"constraint", p.constraint},
                       {"target", p.target},
                       {"threshold", JNum(p.threshold)},
                       {"threshold_text", Num(p.threshold, 6)},
                       {"max_apcer", JNum(p.max_apcer)},
                       {"bpcer", JNum(p.bpcer)}});
    }
    return out;
}

json ReportToJson(const AntispoofReport& r) {
    return {{"name", r.name},
            {"items", r.items},
            {"no_face_live", r.no_face_live},
            {"no_face_attack", r.no_face_attack},
            {"no_face_files", r.no_face_files},
            {"excluded", RatesToJson(r.excluded, r.auc_excluded)},
            {"strict", RatesToJson(r.strict, r.auc_strict)},
            {"sweep", SweepToJson(r.sweep)},
            {"false_accepts", r.false_accepts},
            {"false_rejects", r.false_rejects}};
}

void PrintReport(std::ostream& out, const AntispoofReport& r) {
    const auto& e = r.excluded;
    out << "\n== " << r.name << " == threshold " << e.threshold << " (live iff P(real) >= t)\n";
    out << "  items " << r.items << ", no face " << (r.no_face_live + r.no_face_attack) << " (live "
        << r.no_face_live << ", attack " << r.no_face_attack
        << "): excluded from the rates below\n";
    Table t({"attack type", "attacks", "accepted", "APCER"});
    for (const auto& a : e.per_attack) {
        t.Add({a.attack_type, std::to_string(a.attacks), std::to_string(a.accepted), Pct(a.apcer)});
    }
    t.Print(out);
    out << "  APCER (worst type" << (e.worst_attack.empty() ? "" : ": " + e.worst_attack) << ") "
        << Pct(e.max_apcer) << "   BPCER " << Pct(e.bpcer) << " (" << Ratio(e.live_rejected, e.live)
        << ")   ACER " << Pct(e.acer) << "   AUC " << Num(r.auc_excluded) << "\n";
    const auto& s = r.strict;
    out << "  strict (no face = rejected): APCER " << Pct(s.max_apcer) << "   BPCER "
        << Pct(s.bpcer) << " (" << Ratio(s.live_rejected, s.live) << ")   ACER " << Pct(s.acer)
        << "   AUC " << Num(r.auc_strict) << "\n";
    if (!r.sweep.empty()) {
        Table sw({"operating point", "threshold", "APCER (worst)", "BPCER"});
        for (const auto& p : r.sweep) {
            sw.Add({p.constraint, Num(p.threshold, 4), Pct(p.max_apcer), Pct(p.bpcer)});
        }
        sw.Print(out);
    }
    auto list = [&out](const char* what, const std::vector<std::string>& files) {
        if (files.empty()) return;
        out << "  " << what << " (" << files.size() << "):";
        for (const auto& f : files) out << " " << f;
        out << "\n";
    };
    list("false accepts", r.false_accepts);
    list("false rejects", r.false_rejects);
    list("no face", r.no_face_files);
}

void PrintSources(std::ostream& out, const std::vector<AntispoofReport>& sources) {
    out << "\n== per source (no-face excluded) ==\n";
    Table t({"source", "live", "attacks", "no face", "BPCER", "APCER (worst)", "ACER", "AUC"});
    for (const auto& r : sources) {
        t.Add({r.name, std::to_string(r.excluded.live), std::to_string(r.excluded.attacks),
               std::to_string(r.no_face_live + r.no_face_attack), Pct(r.excluded.bpcer),
               Pct(r.excluded.max_apcer), Pct(r.excluded.acer), Num(r.auc_excluded)});
    }
    t.Print(out);
}

void PrintTally(std::ostream& out, const std::string& name, const AccuracyTally& t) {
    out << "\n== " << name << " == accuracy " << Pct(t.Accuracy()) << " (" << t.correct << "/"
        << t.total << ", no face " << t.no_face << ")\n";
    if (t.misses.empty()) return;
    Table m({"misclassified", "expected", "got"});
    for (const auto& x : t.misses) m.Add({x.file, x.expected, x.got});
    m.Print(out);
}

/// Current UTC time as "2024-05-01 12:34:56 UTC" (the report header), or in another strftime
/// format.
std::string UtcNow(const char* format = "%Y-%m-%d %H:%M:%S UTC") {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

/// Writes the whole page to a temporary file, then renames it, so a failed run never leaves a
/// half-written report that looks complete.
Expected<void> WriteTextFile(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return MakeError(ErrorCode::InvalidArgument, "cannot write " + tmp.string());
        out << text;
        out.flush();
        if (!out) return MakeError(ErrorCode::InvalidArgument, "cannot write " + tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return MakeError(ErrorCode::InvalidArgument, "cannot write " + path.string());
    }
    return {};
}

json TallyToJson(const AccuracyTally& t) {
    json misses = json::array();
    for (const auto& x : t.misses) {
        misses.push_back({{"file", x.file}, {"expected", x.expected}, {"got", x.got}});
    }
    return {{"total", t.total},
            {"correct", t.correct},
            {"no_face", t.no_face},
            {"accuracy", JNum(t.Accuracy())},
            {"misses", misses}};
}

int RunEvalOn(const EvalFlags& flags, const std::vector<eval::LabelRow>& rows);

/// Pose errors by the true |yaw|: frontal (< 30), turned (30-60), profile (> 60); where pose
/// estimation fails first (docs/accuracy.md).
std::vector<std::pair<std::string, eval::PoseErrors>> PoseByYawBand(
    const std::vector<eval::PosePair>& pairs) {
    const std::array<std::pair<const char*, std::pair<double, double>>, 3> kBands{
        {{"< 30", {0.0, 30.0}}, {"30-60", {30.0, 60.0}}, {"> 60", {60.0, 1e9}}}};
    std::vector<std::pair<std::string, eval::PoseErrors>> out;
    for (const auto& [name, range] : kBands) {
        std::vector<eval::PosePair> in;
        for (const auto& p : pairs) {
            const double a = std::abs(p.yaw_true);
            if (a >= range.first && a < range.second) in.push_back(p);
        }
        out.emplace_back(name, eval::ComputePoseErrors(in));
    }
    return out;
}

int RunEval(const EvalFlags& flags) {
    std::error_code ec;
    if (!fs::is_directory(flags.root, ec)) {
        std::cerr << "liveproof eval: --root is not a folder: " << flags.root << "\n";
        return 1;
    }
    auto rows = eval::ReadLabels(flags.labels);
    if (!rows) {
        std::cerr << "liveproof eval: " << flags.labels << ": " << rows.error().detail << "\n";
        return 1;
    }
    std::erase_if(*rows, [&](const eval::LabelRow& r) { return !RowInHalf(r.file, flags.half); });
    EvalFlags effective = flags;
    if (!flags.operating_point.empty()) {
        auto point = engine::ReadOperatingPoint(flags.operating_point);
        if (!point) {
            std::cerr << "liveproof eval: " << point.error().detail << "\n";
            return 1;
        }
        effective.threshold = point->liveness_threshold;
        std::cerr << "eval: operating point " << point->name << " (threshold "
                  << point->document["thresholds"]["liveness_threshold"] << ")\n";
    }
    return RunEvalOn(effective, *rows);
}

int RunEvalOn(const EvalFlags& flags, const std::vector<eval::LabelRow>& all_rows) {
    const auto* rows = &all_rows;
    std::vector<CalibrationTarget> calibrations;
    for (const auto& text : flags.threshold_for) {
        auto c = ParseCalibration(text);
        if (!c) {
            std::cerr << "liveproof eval: " << c.error().detail << "\n";
            return 1;
        }
        calibrations.push_back(*c);
    }
    auto engine = MakeEngine(flags.common);
    if (!engine) return 3;

    const auto started = std::chrono::steady_clock::now();
    Evaluator evaluator(*engine, flags);
    Collected c = evaluator.Run(*rows);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // Groups: each anti-spoofing task, their union, then every source on its own.
    std::vector<AntispoofReport> groups;
    std::vector<std::vector<AntispoofItem>> group_items;  // the scores behind each group
    std::vector<AntispoofItem> all;
    std::map<std::string, std::vector<AntispoofItem>> by_source;
    for (const std::string& task : {std::string("antispoof"), std::string("antispoof_crop")}) {
        const auto it = c.antispoof.find(task);
        if (it == c.antispoof.end()) continue;
        groups.push_back(eval::EvaluateAntispoof(task, it->second, flags.threshold, kAttackTypes,
                                                 kBpcerTargets, kApcerTargets));
        group_items.push_back(it->second);
        for (const auto& item : it->second) {
            all.push_back(item);
            by_source[item.source].push_back(item);
        }
    }
    if (c.antispoof.size() > 1) {
        groups.push_back(eval::EvaluateAntispoof("all anti-spoofing rows", all, flags.threshold,
                                                 kAttackTypes, kBpcerTargets, kApcerTargets));
        group_items.push_back(all);
    }
    std::vector<AntispoofReport> sources;
    for (const auto& [source, items] : by_source) {
        sources.push_back(eval::EvaluateAntispoof(source, items, flags.threshold));
    }
    const eval::PoseErrors pose = eval::ComputePoseErrors(c.pose_pairs);
    std::optional<double> roll_flipped;
    if (pose.n > 0) roll_flipped = c.roll_abs_sum_flipped / pose.n;

    // Calibration on the excluded set of each group.
    json calib_json = json::array();
    std::vector<eval::ReportCalibration> calib_report;
    std::ostringstream calib_text;
    for (const auto& cal : calibrations) {
        for (const std::string& task :
             {std::string("antispoof"), std::string("antispoof_crop"), std::string("all")}) {
            std::vector<AntispoofItem> items;
            if (task == "all") {
                items = all;
            } else if (c.antispoof.contains(task)) {
                items = c.antispoof.at(task);
            } else {
                continue;
            }
            if (task == "all" && c.antispoof.size() < 2) continue;
            const auto samples = eval::ToSamples(items, /*strict=*/false);
            const auto t = cal.metric == "BPCER" ? eval::ThresholdForBpcer(samples, cal.value)
                                                 : eval::ThresholdForApcer(samples, cal.value);
            std::optional<double> apcer, bpcer;
            if (t) {
                const auto r = eval::ComputeErrorRates(samples, *t);
                apcer = r.max_apcer;
                bpcer = r.bpcer;
            }
            calib_json.push_back({{"group", task},
                                  {"metric", cal.metric},
                                  {"target", cal.value},
                                  {"threshold", JNum(t)},
                                  {"threshold_text", Num(t, 6)},
                                  {"max_apcer", JNum(apcer)},
                                  {"bpcer", JNum(bpcer)}});
            calib_report.push_back({task, cal.metric, cal.value, t, apcer, bpcer});
            calib_text << "  " << task << ": threshold for " << cal.metric
                       << " <= " << Pct(cal.value) << " is " << Num(t, 6) << " (APCER "
                       << Pct(apcer) << ", BPCER " << Pct(bpcer) << ")\n";
        }
    }

    if (!flags.report.empty()) {
        eval::ReportData d;
        d.settings = {.labels = flags.labels,
                      .root = flags.root,
                      .date = UtcNow(),
                      .detector = flags.common.detector,
                      .detect_max_side = engine->options().detect_max_side,
                      .threshold = flags.threshold,
                      .crop_pad = flags.crop_pad,
                      .crop_border = flags.crop_border,
                      .files = c.items.size(),
                      .seconds = seconds};
        // With both tasks present the last group is their union (see above).
        const bool has_union = c.antispoof.size() > 1;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            d.groups.push_back({groups[i], group_items[i], has_union && i + 1 == groups.size()});
        }
        d.sources = sources;
        d.calibration = calib_report;
        d.pose = pose;
        d.roll_mae_if_sign_flipped = roll_flipped;
        for (std::size_t i = 0; i < c.pose_pairs.size(); ++i) {
            d.poses.push_back({c.pose_files[i], c.pose_pairs[i]});
        }
        d.pose_no_face = c.pose_no_face;
        d.tallies = c.tallies;
        d.errors = c.errors;
        const auto written = WriteTextFile(flags.report, eval::RenderReportHtml(d));
        if (!written) {
            std::cerr << "liveproof eval: " << written.error().detail << "\n";
            return 1;
        }
        std::cerr << "eval: report written to " << flags.report << "\n";
    }

    if (flags.json) {
        json j;
        j["labels"] = flags.labels;
        j["root"] = flags.root;
        j["threshold"] = flags.threshold;
        j["detect_max_side"] = engine->options().detect_max_side;
        j["detector"] = flags.common.detector;
        j["crop_padding"] = {{"fraction", flags.crop_pad}, {"border", flags.crop_border}};
        j["no_face_rule"] =
            "excluded: images without a face are left out of the rates and listed; strict: a "
            "missed face is a rejection (live -> BPCER error, attack -> correctly rejected)";
        j["antispoof"] = json::array();
        for (const auto& g : groups) j["antispoof"].push_back(ReportToJson(g));
        j["sources"] = json::array();
        for (const auto& s : sources) j["sources"].push_back(ReportToJson(s));
        j["calibration"] = calib_json;
        j["headpose"] = {{"n", pose.n},
                         {"mae_yaw", JNum(pose.yaw)},
                         {"mae_pitch", JNum(pose.pitch)},
                         {"mae_roll", JNum(pose.roll)},
                         {"roll_mae_if_sign_flipped", JNum(roll_flipped)},
                         {"no_face", c.pose_no_face},
                         {"by_yaw_band", json::array()}};
        for (const auto& [band, e] : PoseByYawBand(c.pose_pairs)) {
            j["headpose"]["by_yaw_band"].push_back({{"band", band},
                                                    {"n", e.n},
                                                    {"mae_yaw", JNum(e.yaw)},
                                                    {"mae_pitch", JNum(e.pitch)},
                                                    {"mae_roll", JNum(e.roll)}});
        }
        j["accuracy"] = json::object();
        for (const auto& [name, t] : c.tallies) j["accuracy"][name] = TallyToJson(t);
        json errors = json::array();
        for (const auto& [file, why] : c.errors) errors.push_back({{"file", file}, {"error", why}});
        j["errors"] = errors;
        j["items"] = c.items;
        j["seconds"] = seconds;
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "liveproof eval: " << flags.labels << " (root " << flags.root << "), "
                  << c.items.size() << " files in " << Num(seconds, 1) << " s, detect_max_side "
                  << engine->options().detect_max_side << ", crop padding " << flags.crop_pad << " "
                  << flags.crop_border << "\n";
        for (const auto& g : groups) PrintReport(std::cout, g);
        if (!sources.empty()) PrintSources(std::cout, sources);
        if (!calibrations.empty()) {
            std::cout << "\n== calibration (no-face excluded) ==\n" << calib_text.str();
        }
        if (pose.n > 0 || !c.pose_no_face.empty()) {
            std::cout << "\n== headpose == " << pose.n << " faces, no face "
                      << c.pose_no_face.size()
                      << " (AFLW2000 angles converted to our Euler order)\n";
            Table t({"angle", "MAE (deg)"});
            t.Add({"yaw", Num(pose.yaw, 2)});
            t.Add({"pitch", Num(pose.pitch, 2)});
            t.Add({"roll", Num(pose.roll, 2)});
            t.Add({"roll, sign flipped", Num(roll_flipped, 2)});
            t.Print(std::cout);
            Table bands({"true |yaw|", "faces", "yaw MAE", "pitch MAE", "roll MAE"});
            for (const auto& [band, e] : PoseByYawBand(c.pose_pairs)) {
                bands.Add(
                    {band, std::to_string(e.n), Num(e.yaw, 2), Num(e.pitch, 2), Num(e.roll, 2)});
            }
            bands.Print(std::cout);
            Table per({"file", "yaw true/ours", "pitch true/ours", "roll true/ours"});
            for (std::size_t i = 0; i < c.pose_pairs.size(); ++i) {
                const auto& p = c.pose_pairs[i];
                per.Add({c.pose_files[i], Num(p.yaw_true, 1) + " / " + Num(p.yaw, 1),
                         Num(p.pitch_true, 1) + " / " + Num(p.pitch, 1),
                         Num(p.roll_true, 1) + " / " + Num(p.roll, 1)});
            }
            per.Print(std::cout);
        }
        for (const auto& [name, t] : c.tallies) PrintTally(std::cout, name, t);
        if (!c.errors.empty()) {
            std::cout << "\n== errors ==\n";
            for (const auto& [file, why] : c.errors)
                std::cout << "  " << file << ": " << why << "\n";
        }
    }
    return c.errors.empty() ? 0 : 1;
}

struct CalibrateFlags {
    EvalFlags eval;
    std::string target;  // "BPCER=0.05"
    std::string out;     // the operating point file
    std::string name;    // "" = the labels file's name (and the half)
};

json Interval(const std::optional<std::pair<double, double>>& ci) {
    if (!ci) return nullptr;
    return json::array({ci->first, ci->second});
}

// `liveproof calibrate`: the threshold meeting the target on the operator's labelled images,
// written with what it was computed from and the error rates to expect (95% Wilson intervals).
int RunCalibrate(const CalibrateFlags& flags) {
    auto target = ParseCalibration(flags.target);
    if (!target) {
        std::cerr << "liveproof calibrate: " << target.error().detail << "\n";
        return 1;
    }
    std::error_code ec;
    if (!fs::is_directory(flags.eval.root, ec)) {
        std::cerr << "liveproof calibrate: --root is not a folder: " << flags.eval.root << "\n";
        return 1;
    }
    auto rows = eval::ReadLabels(flags.eval.labels);
    if (!rows) {
        std::cerr << "liveproof calibrate: " << flags.eval.labels << ": " << rows.error().detail
                  << "\n";
        return 1;
    }
    std::erase_if(*rows,
                  [&](const eval::LabelRow& r) { return !RowInHalf(r.file, flags.eval.half); });
    auto engine = MakeEngine(flags.eval.common);
    if (!engine) return 3;
    Evaluator evaluator(*engine, flags.eval);
    const Collected c = evaluator.Run(*rows);
    std::vector<AntispoofItem> items;
    for (const auto& [task, list] : c.antispoof)
        items.insert(items.end(), list.begin(), list.end());
    // Missed faces have no score to set a threshold by: counted, listed, left out (the
    // "excluded" rule of eval); a deployment rejects them whatever the threshold.
    const auto samples = eval::ToSamples(items, /*strict=*/false);
    const auto t = target->metric == "BPCER" ? eval::ThresholdForBpcer(samples, target->value)
                                             : eval::ThresholdForApcer(samples, target->value);
    if (!t || !std::isfinite(*t)) {
        std::cerr << "liveproof calibrate: no threshold in [0, 1] meets " << flags.target
                  << " on these images (live and attack samples are both needed)\n";
        return 1;
    }
    const double threshold = std::clamp(*t, 0.0, 1.0);
    const eval::ErrorRates r = eval::ComputeErrorRates(samples, threshold, kAttackTypes);
    json per_attack = json::object();
    int worst_accepted = 0, worst_n = 0;
    for (const auto& a : r.per_attack) {
        per_attack[a.attack_type] = {
            {"attacks", a.attacks},
            {"accepted", a.accepted},
            {"apcer", JNum(a.apcer)},
            {"apcer_ci95", Interval(eval::WilsonInterval(a.accepted, a.attacks))}};
        if (a.attack_type == r.worst_attack) {
            worst_accepted = a.accepted;
            worst_n = a.attacks;
        }
    }
    int no_face_live = 0, no_face_attack = 0;
    for (const auto& item : items) {
        if (item.score) continue;
        (item.is_live ? no_face_live : no_face_attack)++;
    }
    const std::string name = !flags.name.empty()
                                 ? flags.name
                                 : fs::path(flags.eval.labels).stem().string() +
                                       (flags.eval.half.empty() ? "" : " half " + flags.eval.half);
    json doc = {
        {"format", std::string(engine::kOperatingPointFormat)},
        {"name", name},
        {"created", UtcNow("%Y-%m-%dT%H:%M:%SZ")},
        {"target", {{"metric", target->metric}, {"value", target->value}}},
        // One P(real) threshold for every door; C's comparison is strict (> instead of >=).
        {"thresholds", {{"liveness_threshold", threshold}, {"c_liveness_threshold", threshold}}},
        {"data",
         {{"labels", flags.eval.labels},
          {"half", flags.eval.half.empty() ? "all" : flags.eval.half},
          {"tasks", flags.eval.tasks},
          {"live", r.live},
          {"attacks", r.attacks},
          {"no_face_live", no_face_live},
          {"no_face_attack", no_face_attack},
          {"detect_max_side", engine->options().detect_max_side}}},
        {"expected",
         {{"bpcer", JNum(r.bpcer)},
          {"bpcer_ci95", Interval(eval::WilsonInterval(r.live_rejected, r.live))},
          {"max_apcer", JNum(r.max_apcer)},
          {"max_apcer_ci95", Interval(eval::WilsonInterval(worst_accepted, worst_n))},
          {"worst_attack", r.worst_attack},
          {"per_attack", per_attack}}},
    };
    const std::string tmp = flags.out + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << doc.dump(2) << "\n";
        if (!out) {
            std::cerr << "liveproof calibrate: cannot write " << flags.out << "\n";
            return 1;
        }
    }
    fs::rename(tmp, flags.out, ec);
    if (ec) {
        std::cerr << "liveproof calibrate: cannot write " << flags.out << ": " << ec.message()
                  << "\n";
        return 1;
    }
    std::cout
        << "liveproof calibrate: " << name << ": threshold " << Num(threshold, 6) << " for "
        << target->metric << " <= " << Pct(target->value) << " on " << r.live << " live and "
        << r.attacks << " attack images (no face: " << no_face_live << " live, " << no_face_attack
        << " attack)\n"
        << "  expected BPCER " << Pct(r.bpcer) << " (95% CI "
        << Pct(eval::WilsonInterval(r.live_rejected, r.live).value_or(std::pair{0.0, 0.0}).first)
        << "-"
        << Pct(eval::WilsonInterval(r.live_rejected, r.live).value_or(std::pair{0.0, 0.0}).second)
        << "), worst APCER " << Pct(r.max_apcer) << " (" << r.worst_attack << ")\n"
        << "  written to " << flags.out << "; use it with serve --set operating_point=" << flags.out
        << "\n";
    return 0;
}

}  // namespace

void RegisterEval(CLI::App& root) {
    auto flags = std::make_shared<EvalFlags>();
    CLI::App* cmd = root.add_subcommand(
        "eval", "Error rates (ISO/IEC 30107-3 style) and attribute accuracy on a labelled set");
    AddCommonFlags(*cmd, flags->common);
    cmd->add_option("--labels", flags->labels, "labels CSV (file,task,label,...,extra)")
        ->required();
    cmd->add_option("--root", flags->root, "Folder the CSV's file paths are relative to")
        ->required();
    cmd->add_option("--tasks", flags->tasks, "Comma-separated tasks to run (default: all)")
        ->delimiter(',')
        ->check(CLI::IsMember(kAllTasks));
    cmd->add_option("--threshold", flags->threshold, "P(real) at or above which a face is live")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_flag("--json", flags->json, "One JSON document instead of text tables");
    cmd->add_option("--report", flags->report,
                    "Also write a self-contained HTML report (tables and charts) to this file");
    cmd->add_option("--threshold-for", flags->threshold_for,
                    "Calibrate: threshold meeting BPCER=x or APCER=x (x as 0.05 or 5%)");
    cmd->add_option("--crop-pad", flags->crop_pad,
                    "antispoof_crop: padding per side as a fraction of the crop size")
        ->check(CLI::Range(0.0, 4.0));
    cmd->add_option("--crop-border", flags->crop_border, "antispoof_crop: padding fill")
        ->check(CLI::IsMember({"replicate", "constant"}));
    cmd->add_option("--half", flags->half,
                    "Only one half of the rows (A or B, by a hash of each file's path)")
        ->check(CLI::IsMember({"A", "B"}));
    cmd->add_option("--operating-point", flags->operating_point,
                    "Judge at the threshold of this calibrate file (instead of --threshold)");
    cmd->callback([flags] {
        const int rc = RunEval(*flags);
        if (rc != 0) throw CLI::RuntimeError(rc);
    });
}

void RegisterCalibrate(CLI::App& root) {
    auto flags = std::make_shared<CalibrateFlags>();
    flags->eval.tasks = {"antispoof"};
    CLI::App* cmd = root.add_subcommand(
        "calibrate",
        "Write an operating point: the threshold meeting BPCER=x or APCER=x on your "
        "own labelled images (serve/eval/analyze load it)");
    AddCommonFlags(*cmd, flags->eval.common);
    cmd->add_option("--labels", flags->eval.labels, "labels CSV (file,task,label,...,extra)")
        ->required();
    cmd->add_option("--root", flags->eval.root, "Folder the CSV's file paths are relative to")
        ->required();
    cmd->add_option("--target", flags->target, "BPCER=x or APCER=x (x as 0.05 or 5%)")->required();
    cmd->add_option("--out,-o", flags->out, "The operating point file to write")->required();
    cmd->add_option("--name", flags->name, "Name of the data (default: the labels file's name)");
    cmd->add_option("--tasks", flags->eval.tasks,
                    "antispoof (full frames, the default) and/or antispoof_crop")
        ->delimiter(',')
        ->check(CLI::IsMember({"antispoof", "antispoof_crop"}));
    cmd->add_option("--half", flags->eval.half,
                    "Only one half of the rows (A or B, by a hash of each file's path)")
        ->check(CLI::IsMember({"A", "B"}));
    cmd->callback([flags] {
        const int rc = RunCalibrate(*flags);
        if (rc != 0) throw CLI::RuntimeError(rc);
    });
}

}  // namespace liveproof::cli
