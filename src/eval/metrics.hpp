// ISO/IEC 30107-3 style presentation-attack error rates, AUC, operating points and accuracy
// tallies. Pure functions over scores: no engine, no files, so every number can be checked by hand.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace liveproof::eval {

/// @brief One scored presentation: score = P(real); live iff score >= threshold.
struct ScoredSample {
    double score = 0;         ///< P(real) from the engine (or -infinity for a strict miss)
    bool is_live = false;     ///< bona fide presentation
    std::string attack_type;  ///< print / replay / mask / ...; ignored for live samples
};

/// @brief APCER of one attack type (presentation attack instrument species).
struct AttackRate {
    std::string attack_type;      ///< species name
    int attacks = 0;              ///< attack presentations of this type
    int accepted = 0;             ///< of those, classified live (score >= threshold)
    std::optional<double> apcer;  ///< accepted / attacks; absent when attacks == 0
};

/// @brief Error rates at one threshold.
struct ErrorRates {
    double threshold = 0.5;              ///< live iff score >= threshold
    std::vector<AttackRate> per_attack;  ///< sorted by attack type name
    std::optional<double> max_apcer;     ///< worst APCER over types with samples (the headline)
    std::string worst_attack;            ///< type giving max_apcer ("" when none)
    int attacks = 0;                     ///< all attack presentations
    int attacks_accepted = 0;            ///< all attacks classified live
    int live = 0;                        ///< bona fide presentations
    int live_rejected = 0;               ///< bona fide classified attack (score < threshold)
    std::optional<double> bpcer;         ///< live_rejected / live; absent when live == 0
    std::optional<double> acer;          ///< (max_apcer + bpcer) / 2; absent unless both exist
};

/// @brief Counts errors at a threshold. Types listed in expected_attack_types appear in
/// per_attack even with zero samples (APCER absent, excluded from the maximum), so a report
/// says "no mask samples" instead of silently dropping the row.
ErrorRates ComputeErrorRates(std::span<const ScoredSample> samples, double threshold,
                             std::span<const std::string> expected_attack_types = {});

/// @brief Area under the ROC curve: P(live score > attack score), ties counted half
/// (Mann-Whitney U with mid-ranks). Absent when there are no live or no attack samples.
std::optional<double> Auc(std::span<const ScoredSample> samples);

/// @brief Calibration: the highest threshold whose BPCER is at most target_bpcer (the highest
/// such threshold gives the lowest APCER). With live scores sorted ascending l_0..l_{n-1} and
/// k = floor(target * n) live rejections allowed, that is l_k (only scores strictly below it are
/// rejected); when k >= n every live may be rejected and the result is +infinity.
/// Absent when there are no live samples or target is outside [0, 1].
std::optional<double> ThresholdForBpcer(std::span<const ScoredSample> samples, double target_bpcer);

/// @brief The lowest threshold whose worst APCER is at most target_apcer (the lowest gives the
/// lowest BPCER): per type with n attacks, a = floor(target * n) may be accepted, so the threshold
/// must lie just above the (a+1)-th highest attack score; the result is the maximum over types,
/// nudged up by one ulp. -infinity when no constraint binds. Absent without attack samples.
std::optional<double> ThresholdForApcer(std::span<const ScoredSample> samples, double target_apcer);

/// @brief The 95% Wilson score interval of a proportion k/n (better than k/n +- 1.96 s.e. for
/// the small counts and rates near 0 of error rates). Absent when n == 0.
std::optional<std::pair<double, double>> WilsonInterval(int k, int n, double z = 1.959964);

/// @brief A point of the threshold sweep.
struct OperatingPoint {
    std::string constraint;           ///< e.g. "BPCER=1%"
    double target = 0;                ///< the constrained rate
    std::optional<double> threshold;  ///< threshold meeting it (absent when undefined)
    std::optional<double> max_apcer;  ///< worst APCER at that threshold
    std::optional<double> bpcer;      ///< BPCER at that threshold
};

/// @brief APCER at BPCER = x for each x in bpcer_targets, then BPCER at APCER = y for each y.
std::vector<OperatingPoint> Sweep(std::span<const ScoredSample> samples,
                                  std::span<const double> bpcer_targets,
                                  std::span<const double> apcer_targets);

/// @brief One anti-spoofing evaluation item before scoring: score absent when no face was found.
struct AntispoofItem {
    std::string file;             ///< for listing
    std::string source;           ///< folder under antispoof/ (nuaa, crops_Apfol, ...)
    bool is_live = false;         ///< bona fide
    std::string attack_type;      ///< normalised species for attacks
    std::optional<double> score;  ///< P(real) of the largest face; absent = no face found
};

/// @brief Error rates of a set of items under both no-face rules.
///
/// NO-FACE RULE. Primary ("excluded"): items without a face are left out of every rate and listed
/// separately, so detector misses do not masquerade as anti-spoofing performance. Secondary
/// ("strict", what a deployment sees): a missed face is a rejection, i.e. scored -infinity; a
/// missed live face then counts against BPCER and a missed attack counts as correctly rejected.
struct AntispoofReport {
    std::string name;                        ///< "antispoof", "source nuaa", ...
    int items = 0;                           ///< all items
    int no_face_live = 0;                    ///< live items with no face
    int no_face_attack = 0;                  ///< attack items with no face
    std::vector<std::string> no_face_files;  ///< their files
    ErrorRates excluded;                     ///< rates over items with a face
    std::optional<double> auc_excluded;      ///< AUC over items with a face
    ErrorRates strict;                       ///< rates with misses as rejections
    std::optional<double> auc_strict;        ///< AUC with misses scored -infinity
    std::vector<OperatingPoint> sweep;       ///< on the excluded set
    std::vector<std::string> false_accepts;  ///< attacks accepted at the threshold (excluded set)
    std::vector<std::string> false_rejects;  ///< live rejected at the threshold (excluded set)
};

/// @brief Builds an AntispoofReport at threshold over items (see the no-face rule above).
AntispoofReport EvaluateAntispoof(std::string name, std::span<const AntispoofItem> items,
                                  double threshold,
                                  std::span<const std::string> expected_attack_types = {},
                                  std::span<const double> bpcer_targets = {},
                                  std::span<const double> apcer_targets = {});

/// @brief The scored subset (excluded rule) or all items with misses at -infinity (strict rule).
std::vector<ScoredSample> ToSamples(std::span<const AntispoofItem> items, bool strict);

/// @brief Accuracy of a labelled classification with the mistakes listed.
struct AccuracyTally {
    /// @brief One wrong answer.
    struct Miss {
        std::string file;      ///< the item
        std::string expected;  ///< its label
        std::string got;       ///< what the engine said ("no_face" when nothing was found)
    };
    int total = 0;             ///< items seen (including no-face)
    int correct = 0;           ///< items answered right
    int no_face = 0;           ///< items where no face was found (counted wrong)
    std::vector<Miss> misses;  ///< every wrong item

    /// @brief Records one item.
    void Add(const std::string& file, const std::string& expected, const std::string& got);
    /// @brief correct / total; absent when total == 0.
    [[nodiscard]] std::optional<double> Accuracy() const;
};

/// @brief Mean absolute errors of head-pose angles in degrees.
struct PoseErrors {
    int n = 0;                    ///< faces compared
    std::optional<double> yaw;    ///< MAE of yaw
    std::optional<double> pitch;  ///< MAE of pitch
    std::optional<double> roll;   ///< MAE of roll
};

/// @brief One head-pose comparison, both already in the project's convention.
struct PosePair {
    double yaw_true = 0, pitch_true = 0, roll_true = 0;  ///< ground truth
    double yaw = 0, pitch = 0, roll = 0;                 ///< engine
};

/// @brief MAE over pairs; angle differences wrapped into [-180, 180).
PoseErrors ComputePoseErrors(std::span<const PosePair> pairs);

}  // namespace liveproof::eval
