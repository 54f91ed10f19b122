// Hand-computed checks of the evaluator's error rates, AUC, calibration and labels CSV reader.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "eval/labels_csv.hpp"
#include "eval/metrics.hpp"

namespace liveproof::eval {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

ScoredSample Live(double s) { return {s, true, ""}; }
ScoredSample Attack(double s, const char* type) { return {s, false, type}; }

const AttackRate* FindType(const ErrorRates& r, const std::string& type) {
    for (const auto& a : r.per_attack) {
        if (a.attack_type == type) return &a;
    }
    return nullptr;
}

TEST(EvalMetrics, TiesAtThresholdAreAccepted) {
    // live iff score >= 0.5: the 0.5 live is accepted, the 0.5 print attack is accepted too.
    const std::vector<ScoredSample> s = {Live(0.5),
                                         Live(0.4),
                                         Live(0.9),
                                         Attack(0.5, "print"),
                                         Attack(0.2, "print"),
                                         Attack(0.1, "replay")};
    const ErrorRates r = ComputeErrorRates(s, 0.5);
    EXPECT_EQ(r.live, 3);
    EXPECT_EQ(r.live_rejected, 1);
    ASSERT_TRUE(r.bpcer);
    EXPECT_DOUBLE_EQ(*r.bpcer, 1.0 / 3.0);
    ASSERT_NE(FindType(r, "print"), nullptr);
    EXPECT_DOUBLE_EQ(*FindType(r, "print")->apcer, 0.5);
    EXPECT_DOUBLE_EQ(*FindType(r, "replay")->apcer, 0.0);
    EXPECT_DOUBLE_EQ(*r.max_apcer, 0.5);
    EXPECT_EQ(r.worst_attack, "print");
    EXPECT_DOUBLE_EQ(*r.acer, (0.5 + 1.0 / 3.0) / 2.0);
    EXPECT_EQ(r.attacks, 3);
    EXPECT_EQ(r.attacks_accepted, 1);
}

TEST(EvalMetrics, ExpectedAttackTypeWithZeroSamplesIsListedButNotInTheMaximum) {
    const std::vector<ScoredSample> s = {Live(0.9), Attack(0.1, "print")};
    const std::vector<std::string> expected = {"mask", "print", "replay"};
    const ErrorRates r = ComputeErrorRates(s, 0.5, expected);
    ASSERT_EQ(r.per_attack.size(), 3u);
    const AttackRate* mask = FindType(r, "mask");
    ASSERT_NE(mask, nullptr);
    EXPECT_EQ(mask->attacks, 0);
    EXPECT_FALSE(mask->apcer);
    EXPECT_DOUBLE_EQ(*r.max_apcer, 0.0);
    EXPECT_EQ(r.worst_attack, "print");
    EXPECT_DOUBLE_EQ(*r.acer, 0.0);
}

TEST(EvalMetrics, MissingAttackTypeIsUnknown) {
    const std::vector<ScoredSample> s = {Attack(0.7, "")};
    const ErrorRates r = ComputeErrorRates(s, 0.5);
    ASSERT_EQ(r.per_attack.size(), 1u);
    EXPECT_EQ(r.per_attack[0].attack_type, "unknown");
    EXPECT_DOUBLE_EQ(*r.max_apcer, 1.0);
}

TEST(EvalMetrics, NoSpoofsAtAll) {
    const std::vector<ScoredSample> s = {Live(0.9), Live(0.3)};
    const ErrorRates r = ComputeErrorRates(s, 0.5);
    EXPECT_FALSE(r.max_apcer);
    EXPECT_EQ(r.worst_attack, "");
    EXPECT_DOUBLE_EQ(*r.bpcer, 0.5);
    EXPECT_FALSE(r.acer);
    EXPECT_FALSE(Auc(s));
    EXPECT_FALSE(ThresholdForApcer(s, 0.05));
}

TEST(EvalMetrics, NoLiveSamples) {
    const std::vector<ScoredSample> s = {Attack(0.9, "print"), Attack(0.3, "print")};
    const ErrorRates r = ComputeErrorRates(s, 0.5);
    EXPECT_FALSE(r.bpcer);
    EXPECT_FALSE(r.acer);
    EXPECT_DOUBLE_EQ(*r.max_apcer, 0.5);
    EXPECT_FALSE(Auc(s));
    EXPECT_FALSE(ThresholdForBpcer(s, 0.05));
}

TEST(EvalMetrics, AllFacesMissed) {
    const std::vector<AntispoofItem> items = {
        {"a.jpg", "src", true, "", std::nullopt},
        {"b.jpg", "src", true, "", std::nullopt},
        {"c.jpg", "src", false, "print", std::nullopt},
    };
    const AntispoofReport r = EvaluateAntispoof("all missed", items, 0.5);
    EXPECT_EQ(r.items, 3);
    EXPECT_EQ(r.no_face_live, 2);
    EXPECT_EQ(r.no_face_attack, 1);
    EXPECT_EQ(r.no_face_files.size(), 3u);
    // Excluded rule: nothing left to rate.
    EXPECT_EQ(r.excluded.live, 0);
    EXPECT_EQ(r.excluded.attacks, 0);
    EXPECT_FALSE(r.excluded.bpcer);
    EXPECT_FALSE(r.excluded.max_apcer);
    EXPECT_FALSE(r.excluded.acer);
    EXPECT_FALSE(r.auc_excluded);
    // Strict rule: a miss is a rejection, so every live is an error and every attack is stopped.
    EXPECT_DOUBLE_EQ(*r.strict.bpcer, 1.0);
    EXPECT_DOUBLE_EQ(*r.strict.max_apcer, 0.0);
    EXPECT_DOUBLE_EQ(*r.strict.acer, 0.5);
    EXPECT_DOUBLE_EQ(*r.auc_strict, 0.5);  // all tied at -infinity
}

TEST(EvalMetrics, SomeFacesMissedExcludedVersusStrict) {
    const std::vector<AntispoofItem> items = {
        {"l1", "s", true, "", 0.9},
        {"l2", "s", true, "", std::nullopt},
        {"a1", "s", false, "replay", 0.8},
        {"a2", "s", false, "replay", std::nullopt},
    };
    const AntispoofReport r = EvaluateAntispoof("mix", items, 0.5);
    EXPECT_DOUBLE_EQ(*r.excluded.bpcer, 0.0);
    EXPECT_DOUBLE_EQ(*r.excluded.max_apcer, 1.0);
    EXPECT_DOUBLE_EQ(*r.strict.bpcer, 0.5);
    EXPECT_DOUBLE_EQ(*r.strict.max_apcer, 0.5);
    ASSERT_EQ(r.false_accepts.size(), 1u);
    EXPECT_EQ(r.false_accepts[0], "a1");
    EXPECT_TRUE(r.false_rejects.empty());
}

TEST(EvalMetrics, AucPerfectReversedAndTied) {
    const std::vector<ScoredSample> perfect = {Live(0.9), Live(0.8), Attack(0.1, "p"),
                                               Attack(0.2, "r")};
    EXPECT_DOUBLE_EQ(*Auc(perfect), 1.0);
    const std::vector<ScoredSample> reversed = {Live(0.1), Live(0.2), Attack(0.9, "p"),
                                                Attack(0.8, "r")};
    EXPECT_DOUBLE_EQ(*Auc(reversed), 0.0);
    const std::vector<ScoredSample> tied = {Live(0.5), Attack(0.5, "p")};
    EXPECT_DOUBLE_EQ(*Auc(tied), 0.5);
    // Pairs: (0.5,0.5)=1/2, (0.5,0.1)=1, (0.7,0.5)=1, (0.7,0.1)=1 -> 3.5 / 4.
    const std::vector<ScoredSample> mixed = {Live(0.5), Live(0.7), Attack(0.5, "p"),
                                             Attack(0.1, "p")};
    EXPECT_DOUBLE_EQ(*Auc(mixed), 0.875);
}

TEST(EvalMetrics, CalibrationThresholdForBpcer) {
    std::vector<ScoredSample> s;
    for (int i = 1; i <= 10; ++i) s.push_back(Live(i / 10.0));  // 0.1 .. 1.0
    s.push_back(Attack(0.35, "print"));
    // 10% of 10 live = 1 may be rejected: threshold = 2nd lowest live score.
    EXPECT_DOUBLE_EQ(*ThresholdForBpcer(s, 0.10), 0.2);
    EXPECT_DOUBLE_EQ(*ComputeErrorRates(s, 0.2).bpcer, 0.1);
    // 5% of 10 = 0.5 -> none may be rejected: threshold = lowest live score.
    EXPECT_DOUBLE_EQ(*ThresholdForBpcer(s, 0.05), 0.1);
    EXPECT_DOUBLE_EQ(*ThresholdForBpcer(s, 0.0), 0.1);
    // 29% of 10 -> 2 (not 3): floor, guarded against rounding below.
    EXPECT_DOUBLE_EQ(*ThresholdForBpcer(s, 0.29), 0.3);
    EXPECT_DOUBLE_EQ(*ThresholdForBpcer(s, 0.30), 0.4);
    EXPECT_EQ(*ThresholdForBpcer(s, 1.0), kInf);
    EXPECT_FALSE(ThresholdForBpcer(s, 1.5));
    EXPECT_FALSE(ThresholdForBpcer(s, -0.1));
}

TEST(EvalMetrics, CalibrationWithTiedLiveScores) {
    const std::vector<ScoredSample> s = {Live(0.3), Live(0.3), Live(0.3), Live(0.9)};
    // One rejection allowed; any threshold above 0.3 would reject three, so 0.3 it is (BPCER 0).
    EXPECT_DOUBLE_EQ(*ThresholdForBpcer(s, 0.25), 0.3);
    EXPECT_DOUBLE_EQ(*ComputeErrorRates(s, 0.3).bpcer, 0.0);
}

TEST(EvalMetrics, ThresholdForApcerIsJustAboveTheFirstAttackToReject) {
    const std::vector<ScoredSample> s = {Attack(0.9, "print"),
                                         Attack(0.6, "print"),
                                         Attack(0.2, "print"),
                                         Attack(0.1, "print"),
                                         Attack(0.3, "replay"),
                                         Live(0.95),
                                         Live(0.7)};
    // print: 25% of 4 = 1 may pass -> reject 0.6 and below; replay: 0 may pass -> reject 0.3.
    const double t = *ThresholdForApcer(s, 0.25);
    EXPECT_GT(t, 0.6);
    EXPECT_LT(t, 0.6 + 1e-12);
    const ErrorRates r = ComputeErrorRates(s, t);
    EXPECT_DOUBLE_EQ(*r.max_apcer, 0.25);
    EXPECT_DOUBLE_EQ(*r.bpcer, 0.0);
    // Everything may pass at 100%: no constraint binds.
    EXPECT_EQ(*ThresholdForApcer(s, 1.0), -kInf);
}

TEST(EvalMetrics, SweepReportsBothDirections) {
    std::vector<ScoredSample> s;
    for (int i = 0; i < 20; ++i) s.push_back(Live(0.5 + i / 40.0));             // 0.5 .. 0.975
    for (int i = 0; i < 20; ++i) s.push_back(Attack(i / 40.0 + 0.3, "print"));  // 0.3 .. 0.775
    const std::vector<double> b = {0.05};
    const std::vector<double> a = {0.05};
    const auto points = Sweep(s, b, a);
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].constraint, "BPCER=5%");
    // 1 of 20 live may be rejected -> threshold 0.525; attacks >= 0.525: 0.525..0.775 = 11.
    EXPECT_DOUBLE_EQ(*points[0].threshold, 0.525);
    EXPECT_DOUBLE_EQ(*points[0].bpcer, 0.05);
    EXPECT_DOUBLE_EQ(*points[0].max_apcer, 11.0 / 20.0);
    EXPECT_EQ(points[1].constraint, "APCER=5%");
    // 1 of 20 attacks may pass -> just above 0.75; live below that: 0.5 .. 0.75 = 11.
    EXPECT_DOUBLE_EQ(*points[1].max_apcer, 0.05);
    EXPECT_DOUBLE_EQ(*points[1].bpcer, 11.0 / 20.0);
}

TEST(EvalMetrics, AccuracyTallyListsMisses) {
    AccuracyTally t;
    t.Add("a", "eyes_open", "eyes_open");
    t.Add("b", "eyes_closed", "eyes_open");
    t.Add("c", "eyes_closed", "no_face");
    EXPECT_EQ(t.total, 3);
    EXPECT_EQ(t.correct, 1);
    EXPECT_EQ(t.no_face, 1);
    ASSERT_EQ(t.misses.size(), 2u);
    EXPECT_EQ(t.misses[0].file, "b");
    EXPECT_DOUBLE_EQ(*t.Accuracy(), 1.0 / 3.0);
    EXPECT_FALSE(AccuracyTally{}.Accuracy());
}

TEST(EvalMetrics, PoseErrorsWrapAround) {
    const std::vector<PosePair> p = {{179, 10, -5, -179, 12, 5}, {0, 0, 0, 4, -2, 1}};
    const PoseErrors e = ComputePoseErrors(p);
    EXPECT_EQ(e.n, 2);
    EXPECT_NEAR(*e.yaw, (2.0 + 4.0) / 2.0, 1e-9);
    EXPECT_NEAR(*e.pitch, (2.0 + 2.0) / 2.0, 1e-9);
    EXPECT_NEAR(*e.roll, (10.0 + 1.0) / 2.0, 1e-9);
    EXPECT_FALSE(ComputePoseErrors({}).yaw);
}

TEST(LabelsCsv, QuotedFieldsCommasDoubledQuotesAndLineBreaks) {
    const std::string text =
        "file,task,label,extra\r\n"
        "a.jpg,antispoof,live,\"{\"\"attack\"\": \"\"\"\"}\"\r\n"
        "\"b,c.jpg\",antispoof,spoof,\"{\"\"attack\"\": \"\"paper mask, \\\"\"cut\\\"\"\"\"}\"\n"
        "d.jpg,eyes,\"multi\nline\",\n";
    auto records = ParseCsv(text);
    ASSERT_TRUE(records) << records.error().detail;
    ASSERT_EQ(records->size(), 4u);
    EXPECT_EQ((*records)[1][3], "{\"attack\": \"\"}");
    EXPECT_EQ((*records)[2][0], "b,c.jpg");
    EXPECT_EQ((*records)[2][3], "{\"attack\": \"paper mask, \\\"cut\\\"\"}");
    EXPECT_EQ((*records)[3][2], "multi\nline");
    EXPECT_EQ((*records)[3][3], "");
    auto rows = RowsFromCsv(*records);
    ASSERT_TRUE(rows) << rows.error().detail;
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ((*rows)[0].extra["attack"], "");
    EXPECT_EQ((*rows)[1].file, "b,c.jpg");
    EXPECT_EQ((*rows)[1].extra["attack"], "paper mask, \"cut\"");
    EXPECT_TRUE((*rows)[2].extra.is_object());
}

TEST(LabelsCsv, MalformedInputIsRejected) {
    EXPECT_FALSE(ParseCsv("a,\"b\nc"));    // unterminated quote
    EXPECT_FALSE(ParseCsv("a,b\"c\n"));    // stray quote mid-field
    EXPECT_FALSE(ParseCsv("a,\"b\"c\n"));  // text after the closing quote
    auto no_header = ParseCsv("x,y\n1,2\n");
    ASSERT_TRUE(no_header);
    EXPECT_FALSE(RowsFromCsv(*no_header));  // no file/task/label columns
    auto bad_json = ParseCsv("file,task,label,extra\na,b,c,{not json\n");
    ASSERT_TRUE(bad_json);
    EXPECT_FALSE(RowsFromCsv(*bad_json));
}

TEST(LabelsCsv, CapsAreEnforced) {
    CsvLimits tiny;
    tiny.max_bytes = 8;
    EXPECT_EQ(ParseCsv("file,task,label\n", tiny).error().code, ErrorCode::InputTooLarge);
    CsvLimits rows;
    rows.max_rows = 2;
    EXPECT_TRUE(ParseCsv("h\n1\n2\n", rows));
    EXPECT_EQ(ParseCsv("h\n1\n2\n3\n", rows).error().code, ErrorCode::InputTooLarge);
    CsvLimits fields;
    fields.max_fields = 2;
    EXPECT_FALSE(ParseCsv("a,b,c\n", fields));
    CsvLimits field_bytes;
    field_bytes.max_field_bytes = 3;
    EXPECT_FALSE(ParseCsv("abcd\n", field_bytes));
}

TEST(LabelsCsv, AttackTypeMapping) {
    EXPECT_EQ(NormalizeAttackType("print"), "print");
    EXPECT_EQ(NormalizeAttackType("printed photo cut-out held over face"), "print");
    EXPECT_EQ(NormalizeAttackType("Replay"), "replay");
    EXPECT_EQ(NormalizeAttackType("paper mask (printed face cut-out worn on head)"), "mask");
    EXPECT_EQ(NormalizeAttackType(""), "unknown");
    EXPECT_EQ(NormalizeAttackType("makeup"), "other");
}

}  // namespace
}  // namespace liveproof::eval

// Reference values: Wilson (1927) as tabulated by Newcombe (1998), Stat. Med. 17:857, Table I
// (method 3): 81/263 -> 0.2553-0.3662; 15/148 -> 0.0624-0.1605; 0/20 -> 0-0.1611; 1/29 ->
// 0.0061-0.1718.
TEST(WilsonIntervalTest, MatchesNewcombesTable) {
    struct Case {
        int k, n;
        double lo, hi;
    };
    for (const Case c : {Case{81, 263, 0.2553, 0.3662}, Case{15, 148, 0.0624, 0.1605},
                         Case{0, 20, 0.0, 0.1611}, Case{1, 29, 0.0061, 0.1718}}) {
        const auto ci = liveproof::eval::WilsonInterval(c.k, c.n);
        ASSERT_TRUE(ci.has_value());
        EXPECT_NEAR(ci->first, c.lo, 5e-5) << c.k << "/" << c.n;
        EXPECT_NEAR(ci->second, c.hi, 5e-5) << c.k << "/" << c.n;
    }
    EXPECT_FALSE(liveproof::eval::WilsonInterval(0, 0).has_value());
    EXPECT_FALSE(liveproof::eval::WilsonInterval(3, 2).has_value());
}
