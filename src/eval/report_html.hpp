// One self-contained HTML page (inline CSS and SVG, no scripts, no external assets) for eval.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eval/metrics.hpp"

namespace liveproof::eval {

/// @brief How the run was made, shown in the report's header.
struct ReportSettings {
    std::string labels;       ///< labels CSV path as given
    std::string root;         ///< data folder the file paths are relative to
    std::string date;         ///< when the report was made (caller's clock keeps this pure)
    std::string detector;     ///< detector name
    int detect_max_side = 0;  ///< detector input size (0 = full resolution)
    double threshold = 0.5;   ///< live iff P(real) >= threshold
    double crop_pad = 0;      ///< antispoof_crop padding per side, fraction of the crop
    std::string crop_border;  ///< antispoof_crop padding fill
    std::size_t files = 0;    ///< rows evaluated
    double seconds = 0;       ///< wall time of the run
};

/// @brief One anti-spoofing group: the rates at the threshold and the scores behind them
/// (the DET curve, histograms and worst-scored lists need every score, not only the counts).
struct ReportGroup {
    AntispoofReport report;            ///< rates, sweep, no-face list
    std::vector<AntispoofItem> items;  ///< the scored items of the group
    bool is_union = false;             ///< the union of the other groups (skipped in file lists)
};

/// @brief One `--threshold-for` calibration result.
struct ReportCalibration {
    std::string group;                ///< antispoof / antispoof_crop / all
    std::string metric;               ///< "BPCER" or "APCER"
    double target = 0;                ///< the constrained rate
    std::optional<double> threshold;  ///< threshold meeting it
    std::optional<double> max_apcer;  ///< worst APCER there
    std::optional<double> bpcer;      ///< BPCER there
};

/// @brief One head-pose comparison with its file.
struct ReportPose {
    std::string file;  ///< the image
    PosePair pair;     ///< truth and engine angles
};

/// @brief Everything the report shows; the caller fills it from its eval results.
struct ReportData {
    ReportSettings settings;                                  ///< header
    std::vector<ReportGroup> groups;                          ///< antispoof, antispoof_crop, all
    std::vector<AntispoofReport> sources;                     ///< per-source rates
    std::vector<ReportCalibration> calibration;               ///< --threshold-for results
    PoseErrors pose;                                          ///< head-pose MAE
    std::optional<double> roll_mae_if_sign_flipped;           ///< sign convention check
    std::vector<ReportPose> poses;                            ///< per-file head pose
    std::vector<std::string> pose_no_face;                    ///< head-pose images without a face
    std::map<std::string, AccuracyTally> tallies;             ///< eyes, mouth, face_count
    std::vector<std::pair<std::string, std::string>> errors;  ///< file, reason
    int worst_listed = 10;                                    ///< rows in each worst-scored list
};

/// @brief Escapes & < > " ' so any text is safe in HTML/SVG text and quoted attribute values.
std::string EscapeHtml(std::string_view text);

/// @brief A rate as the text report prints it: "12.5%", or "n/a" when absent.
std::string FormatPercent(const std::optional<double>& rate);

/// @brief One point of a DET curve: error rates when live iff score >= threshold.
struct DetPoint {
    double threshold = 0;  ///< decision threshold
    double apcer = 0;      ///< attacks accepted / attacks, all types pooled
    double bpcer = 0;      ///< live rejected / live
};

/// @brief The DET curve of the scored items (no-face excluded), thresholds at every distinct
/// score plus +infinity, in increasing threshold order (BPCER rising, APCER falling). Empty when
/// there are no live or no attack items with a score.
std::vector<DetPoint> DetCurve(std::span<const AntispoofItem> items);

/// @brief Counts of scores in `bins` equal bins over [0, 1]; 1.0 falls in the last bin and
/// values outside [0, 1] are clamped into the end bins.
std::vector<int> HistogramCounts(std::span<const double> scores, int bins);

/// @brief Inline SVG: DET curves of every group (log(1 + x) scaled axes), the operating point at
/// `threshold` marked on each.
std::string DetCurveSvg(std::span<const ReportGroup> groups, double threshold);

/// @brief Inline SVG: 20-bin histograms of P(real), live and each attack type as small multiples
/// with a shared x axis, the threshold drawn across them.
std::string ScoreHistogramSvg(const ReportGroup& group, double threshold);

/// @brief The whole page: a complete HTML5 document with no script and no external reference.
std::string RenderReportHtml(const ReportData& data);

}  // namespace liveproof::eval
