// MetricsRegistry: exact Prometheus text, escaping, ordering, misuse, concurrency, label cap.
#include "server/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <thread>

namespace liveproof::server {
namespace {

// The "# HELP" line of `family` and everything up to the next family's "# HELP".
std::string Block(const std::string& text, std::string_view family) {
    const std::size_t begin = text.find("# HELP " + std::string(family) + " ");
    if (begin == std::string::npos) return "<no family " + std::string(family) + ">";
    const std::size_t end = text.find("# HELP ", begin + 1);
    return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// Value of liveproof_metrics_errors_total{reason="..."} in the rendered text.
std::string Errors(const MetricsRegistry& r, std::string_view reason) {
    const std::string text = r.Render();
    const std::string key =
        std::string(MetricsRegistry::kErrorsFamily) + "{reason=\"" + std::string(reason) + "\"} ";
    const std::size_t at = text.find(key);
    if (at == std::string::npos) return "<missing>";
    return text.substr(at + key.size(), text.find('\n', at) - at - key.size());
}

// prefix + i, appended rather than "u" + to_string(i), which trips GCC 12's -Wrestrict bug.
std::string Id(std::string_view prefix, int i) {
    std::string s(prefix);
    s += std::to_string(i);
    return s;
}

TEST(MetricsRegistry, FreshRegistryRendersOnlyTheErrorsFamilyAtZero) {
    MetricsRegistry r;
    EXPECT_EQ(r.Render(),
              "# HELP liveproof_metrics_errors_total Metric updates or declarations dropped by "
              "the registry, by reason.\n"
              "# TYPE liveproof_metrics_errors_total counter\n"
              "liveproof_metrics_errors_total{reason=\"invalid_describe\"} 0\n"
              "liveproof_metrics_errors_total{reason=\"invalid_labels\"} 0\n"
              "liveproof_metrics_errors_total{reason=\"invalid_value\"} 0\n"
              "liveproof_metrics_errors_total{reason=\"label_set_cap\"} 0\n"
              "liveproof_metrics_errors_total{reason=\"type_mismatch\"} 0\n"
              "liveproof_metrics_errors_total{reason=\"undeclared\"} 0\n");
}

TEST(MetricsRegistry, CounterExactText) {
    MetricsRegistry r;
    r.Describe("http_requests_total", MetricType::Counter, "HTTP requests by route and status.");
    r.Inc("http_requests_total", {{"route", "/v1/analyze"}, {"status", "200"}});
    r.Inc("http_requests_total", {{"status", "200"}, {"route", "/v1/analyze"}}, 2);
    r.Inc("http_requests_total", {{"route", "/health"}, {"status", "200"}}, 0.5);
    r.Inc("http_requests_total");
    EXPECT_EQ(Block(r.Render(), "http_requests_total"),
              "# HELP http_requests_total HTTP requests by route and status.\n"
              "# TYPE http_requests_total counter\n"
              "http_requests_total 1\n"
              "http_requests_total{route=\"/health\",status=\"200\"} 0.5\n"
              "http_requests_total{route=\"/v1/analyze\",status=\"200\"} 3\n");
}

TEST(MetricsRegistry, GaugeExactText) {
    MetricsRegistry r;
    r.Describe("inflight", MetricType::Gauge, "Requests in flight.");
    r.Set("inflight", {}, 5);
    r.Inc("inflight", {}, -2);
    r.Set("temperature", {}, 1);  // undeclared: ignored
    r.Describe("queue_seconds", MetricType::Gauge, "Oldest queued job.");
    r.Set("queue_seconds", {{"pool", "b"}}, 1e-05);
    r.Set("queue_seconds", {{"pool", "a"}}, 1234567.25);
    r.Set("queue_seconds", {{"pool", "c"}}, -3);
    r.Set("queue_seconds", {{"pool", "d"}}, 1e20);
    const std::string text = r.Render();
    EXPECT_EQ(Block(text, "inflight"),
              "# HELP inflight Requests in flight.\n"
              "# TYPE inflight gauge\n"
              "inflight 3\n");
    EXPECT_EQ(Block(text, "queue_seconds"),
              "# HELP queue_seconds Oldest queued job.\n"
              "# TYPE queue_seconds gauge\n"
              "queue_seconds{pool=\"a\"} 1234567.25\n"
              "queue_seconds{pool=\"b\"} 1e-05\n"
              "queue_seconds{pool=\"c\"} -3\n"
              "queue_seconds{pool=\"d\"} 1e+20\n");
    EXPECT_EQ(Errors(r, "undeclared"), "1");
}

TEST(MetricsRegistry, HistogramExactTextWithCumulativeBuckets) {
    MetricsRegistry r;
    r.Describe("latency_seconds", MetricType::Histogram, "Request latency.", {0.1, 0.5, 1});
    for (double v : {0.05, 0.1, 0.2, 0.5, 0.7, 3.0}) r.Observe("latency_seconds", {}, v);
    r.Observe("latency_seconds", {{"route", "x"}}, 2);
    EXPECT_EQ(Block(r.Render(), "latency_seconds"),
              "# HELP latency_seconds Request latency.\n"
              "# TYPE latency_seconds histogram\n"
              "latency_seconds_bucket{le=\"0.1\"} 2\n"  // 0.05 and 0.1 (le is inclusive)
              "latency_seconds_bucket{le=\"0.5\"} 4\n"
              "latency_seconds_bucket{le=\"1\"} 5\n"
              "latency_seconds_bucket{le=\"+Inf\"} 6\n"
              "latency_seconds_sum 4.55\n"
              "latency_seconds_count 6\n"
              "latency_seconds_bucket{route=\"x\",le=\"0.1\"} 0\n"
              "latency_seconds_bucket{route=\"x\",le=\"0.5\"} 0\n"
              "latency_seconds_bucket{route=\"x\",le=\"1\"} 0\n"
              "latency_seconds_bucket{route=\"x\",le=\"+Inf\"} 1\n"
              "latency_seconds_sum{route=\"x\"} 2\n"
              "latency_seconds_count{route=\"x\"} 1\n");
}

TEST(MetricsRegistry, HistogramDefaultBuckets) {
    MetricsRegistry r;
    r.Describe("d", MetricType::Histogram, "Default buckets.");
    r.Observe("d", {}, 0.3);
    const std::string text = r.Render();
    std::string les;
    for (std::size_t at = text.find("le=\""); at != std::string::npos;
         at = text.find("le=\"", at + 1)) {
        les += text.substr(at + 4, text.find('"', at + 4) - at - 4) + " ";
    }
    EXPECT_EQ(les, "0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf ");
    EXPECT_NE(text.find("d_bucket{le=\"0.25\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("d_bucket{le=\"0.5\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("d_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistry, InvalidBucketsOrNamesAreIgnoredAndCounted) {
    MetricsRegistry r;
    r.Describe("h1", MetricType::Histogram, "", {1, 0.5});
    r.Describe("h2", MetricType::Histogram, "", {1, 1});
    r.Describe("h3", MetricType::Histogram, "", {std::numeric_limits<double>::quiet_NaN()});
    r.Describe("1bad", MetricType::Counter, "");
    r.Describe("bad-name", MetricType::Counter, "");
    r.Describe("", MetricType::Gauge, "");
    EXPECT_EQ(Errors(r, "invalid_describe"), "6");
    r.Describe("ok:name_1", MetricType::Histogram, "",
               {1, std::numeric_limits<double>::infinity()});
    EXPECT_NE(r.Render().find("# TYPE ok:name_1 histogram\n"), std::string::npos);
    r.Observe("ok:name_1", {}, 1);
    EXPECT_NE(r.Render().find("ok:name_1_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
    EXPECT_EQ(r.Render().find("le=\"+Inf\",le"), std::string::npos);
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
    MetricsRegistry r;
    r.Describe("esc", MetricType::Counter, "Help with \\ backslash,\nnewline and \"quotes\".");
    r.Inc("esc", {{"path", "C:\\dir\\\"x\"\nend"}});
    EXPECT_EQ(Block(r.Render(), "esc"),
              "# HELP esc Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
              "# TYPE esc counter\n"
              "esc{path=\"C:\\\\dir\\\\\\\"x\\\"\\nend\"} 1\n");
}

TEST(MetricsRegistry, FamiliesAndLabelSetsAreSorted) {
    MetricsRegistry r;
    r.Describe("zeta", MetricType::Counter, "z");
    r.Describe("alpha", MetricType::Counter, "a");
    r.Describe("mid", MetricType::Gauge, "m");
    r.Inc("alpha", {{"k", "b"}});
    r.Inc("alpha", {{"k", "a"}, {"j", "z"}});
    r.Inc("alpha", {{"k", "a"}});
    r.Set("mid", {}, 1);
    r.Inc("zeta");
    const std::string text = r.Render();
    const std::size_t a = text.find("# HELP alpha");
    const std::size_t l = text.find("# HELP liveproof_metrics_errors_total");
    const std::size_t m = text.find("# HELP mid");
    const std::size_t z = text.find("# HELP zeta");
    EXPECT_LT(a, l);
    EXPECT_LT(l, m);
    EXPECT_LT(m, z);
    EXPECT_EQ(Block(text, "alpha"),
              "# HELP alpha a\n# TYPE alpha counter\n"
              "alpha{j=\"z\",k=\"a\"} 1\n"
              "alpha{k=\"a\"} 1\n"
              "alpha{k=\"b\"} 1\n");
    EXPECT_EQ(text, r.Render());  // stable
}

TEST(MetricsRegistry, RedeclaringIsANoOpAndAnotherTypeIsCounted) {
    MetricsRegistry r;
    r.Describe("c", MetricType::Counter, "first");
    r.Inc("c");
    r.Describe("c", MetricType::Counter, "second");
    EXPECT_EQ(Block(r.Render(), "c"), "# HELP c first\n# TYPE c counter\nc 1\n");
    EXPECT_EQ(Errors(r, "type_mismatch"), "0");
    r.Describe("c", MetricType::Gauge, "third");
    EXPECT_EQ(Errors(r, "type_mismatch"), "1");
    EXPECT_EQ(Block(r.Render(), "c"), "# HELP c first\n# TYPE c counter\nc 1\n");
}

TEST(MetricsRegistry, MisuseIsIgnoredAndCountedByReason) {
    MetricsRegistry r;
    r.Describe("c", MetricType::Counter, "c");
    r.Describe("g", MetricType::Gauge, "g");
    r.Describe("h", MetricType::Histogram, "h", {1});
    r.Inc("nope");
    r.Observe("nope2", {}, 1);
    r.Set("nope3", {}, 1);
    EXPECT_EQ(Errors(r, "undeclared"), "3");

    r.Set("c", {}, 5);      // counters cannot be set
    r.Observe("c", {}, 5);  // nor observed
    r.Inc("h");             // histograms cannot be incremented
    r.Observe("g", {}, 1);  // gauges cannot be observed
    EXPECT_EQ(Errors(r, "type_mismatch"), "4");

    r.Inc("c", {}, -1);  // counters only go up
    r.Inc("c", {}, std::numeric_limits<double>::quiet_NaN());
    r.Set("g", {}, std::numeric_limits<double>::infinity());
    r.Observe("h", {}, std::numeric_limits<double>::quiet_NaN());
    EXPECT_EQ(Errors(r, "invalid_value"), "4");

    r.Inc("c", {{"1x", "v"}});
    r.Inc("c", {{"__reserved", "v"}});
    r.Inc("c", {{"a", "1"}, {"a", "2"}});
    r.Inc("c", {{"", "v"}});
    r.Observe("h", {{"le", "1"}}, 1);  // le is the histogram's own label
    EXPECT_EQ(Errors(r, "invalid_labels"), "5");

    const std::string text = r.Render();
    EXPECT_EQ(Block(text, "c"), "# HELP c c\n# TYPE c counter\n");
    EXPECT_EQ(Block(text, "g"), "# HELP g g\n# TYPE g gauge\n");
    EXPECT_EQ(Block(text, "h").find("h_count"), std::string::npos);
    r.Inc("c", {{"le", "fine on a counter"}});
    EXPECT_NE(r.Render().find("c{le=\"fine on a counter\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistry, ConcurrentIncrementsAreExact) {
    MetricsRegistry r;
    r.Describe("hits_total", MetricType::Counter, "hits");
    r.Describe("lat", MetricType::Histogram, "lat", {0.5});
    constexpr int kThreads = 8;
    constexpr int kPerThread = 20000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&r, t] {
            const Labels mine = {{"worker", std::to_string(t % 2)}};
            for (int i = 0; i < kPerThread; ++i) {
                r.Inc("hits_total");
                r.Inc("hits_total", mine);
                r.Observe("lat", {}, (i % 2) ? 0.25 : 1.0);
                if (i % 1000 == 0) (void)r.Render();  // readers interleave with writers
            }
        });
    }
    for (auto& th : threads) th.join();
    const std::string text = r.Render();
    EXPECT_NE(text.find("hits_total 160000\n"), std::string::npos) << text;
    EXPECT_NE(text.find("hits_total{worker=\"0\"} 80000\n"), std::string::npos);
    EXPECT_NE(text.find("hits_total{worker=\"1\"} 80000\n"), std::string::npos);
    EXPECT_NE(text.find("lat_bucket{le=\"0.5\"} 80000\n"), std::string::npos);
    EXPECT_NE(text.find("lat_bucket{le=\"+Inf\"} 160000\n"), std::string::npos);
    EXPECT_NE(text.find("lat_sum 100000\n"), std::string::npos);
    EXPECT_NE(text.find("lat_count 160000\n"), std::string::npos);
}

TEST(MetricsRegistry, LabelSetCapDropsNewSeriesButKeepsUpdatingExistingOnes) {
    MetricsRegistry r(3);
    r.Describe("by_user", MetricType::Counter, "per user");
    for (int i = 0; i < 10; ++i) r.Inc("by_user", {{"user", Id("u", i)}});
    r.Inc("by_user", {{"user", "u0"}}, 5);  // an existing series still counts
    EXPECT_EQ(Block(r.Render(), "by_user"),
              "# HELP by_user per user\n# TYPE by_user counter\n"
              "by_user{user=\"u0\"} 6\n"
              "by_user{user=\"u1\"} 1\n"
              "by_user{user=\"u2\"} 1\n");
    EXPECT_EQ(Errors(r, "label_set_cap"), "7");
    // The cap is per family: another family still has room.
    r.Describe("other", MetricType::Gauge, "o");
    r.Set("other", {{"user", "u9"}}, 1);
    EXPECT_NE(r.Render().find("other{user=\"u9\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistry, DefaultCapIsAThousandLabelSets) {
    MetricsRegistry r;
    r.Describe("many", MetricType::Gauge, "m");
    for (int i = 0; i < 1500; ++i) r.Set("many", {{"id", std::to_string(i)}}, i);
    const std::string text = r.Render();
    std::size_t samples = 0;
    for (std::size_t at = text.find("\nmany{"); at != std::string::npos;
         at = text.find("\nmany{", at + 1)) {
        ++samples;
    }
    EXPECT_EQ(samples, MetricsRegistry::kDefaultMaxLabelSets);
    EXPECT_EQ(Errors(r, "label_set_cap"), "500");
}

}  // namespace
}  // namespace liveproof::server
