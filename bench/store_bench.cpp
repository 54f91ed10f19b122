// Latency of the session store's calls on a real SQLite file (WAL, synchronous=FULL), one
// thread: p50/p99 of Create, Get, Start, Finish, Delete and Audit, the calls behind the session
// routes.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "store/session_store.hpp"

namespace liveproof::bench {
namespace {

namespace fs = std::filesystem;
using store::SessionRecord;
using store::SessionStore;

// Sessions already in the file before the timed calls, so that the tables and their indexes are
// not empty (LIVEPROOF_BENCH_STORE_ROWS changes it).
constexpr int kDefaultRows = 2000;

// A settings object and a result of the sizes a passive session writes (about 300 and 200 bytes);
// a verdict as long as an Ed25519 compact JWS with its claims (about 900 bytes).
const std::string kSettings =
    R"({"audit_images":2,"challenge_timeout":10.0,"challenges":["LEFT","RIGHT","UP","DOWN"],)"
    R"("device_id":"","external_ref":"liveproof-bench","mode":"passive","nonce":"",)"
    R"("reference_image":true,"required_successes":3,"session_timeout":60.0,"ttl":180.0})";
const std::string kResult =
    R"({"confidence":0.9731,"faces":1,"frames_analysed":1,"frames_received":1,)"
    R"("challenges":[],"signals":{"too_fast":false,"injection_suspected":false}})";
const std::string kVerdict(900, 'v');

std::string Env(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

// The shared store, opened once for every benchmark: a fresh file in LIVEPROOF_BENCH_STORE_DIR
// (default: the temporary directory). Put it on the disk a server would use: on tmpfs an fsync
// costs nothing and the numbers mean little.
class StoreFixture {
  public:
    static StoreFixture& Get() {
        static StoreFixture f;
        return f;
    }
    ~StoreFixture() {
        store_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    StoreFixture(const StoreFixture&) = delete;
    StoreFixture& operator=(const StoreFixture&) = delete;

    SessionStore& store() { return *store_; }
    const std::vector<std::string>& ids() const { return ids_; }

    // A new CREATED session with a fresh random id (not stored yet).
    SessionRecord NewRecord() {
        SessionRecord s;
        s.id = Hex(rng_()) + Hex(rng_());
        s.mode = "passive";
        s.token_hash = Hex(rng_()) + Hex(rng_()) + Hex(rng_()) + Hex(rng_());
        s.external_ref = "liveproof-bench";
        s.settings_json = kSettings;
        s.created_ms = NowMs();
        s.expires_ms = s.created_ms + 600'000;
        return s;
    }

    // Stores a new session and returns it (the untimed part of the Start and Finish benchmarks).
    SessionRecord Stored() {
        SessionRecord s = NewRecord();
        if (auto r = store_->Create(s); !r) Die("create", r.error().detail);
        return s;
    }

    std::size_t Pick() { return rng_() % ids_.size(); }

    [[noreturn]] static void Die(const std::string& what, const std::string& detail) {
        std::fprintf(stderr, "store bench: %s: %s\n", what.c_str(), detail.c_str());
        std::exit(2);
    }

    static std::int64_t NowMs() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

  private:
    StoreFixture() : rng_(std::random_device{}()) {
        const std::string tmp = fs::temp_directory_path().string();
        const fs::path base = Env("LIVEPROOF_BENCH_STORE_DIR", tmp.c_str());
        dir_ = base / ("liveproof-store-bench-" + Hex(rng_()));
        std::error_code ec;
        fs::create_directories(dir_, ec);
        if (ec) Die(dir_.string(), ec.message());
        auto opened = store::OpenSqliteStore((dir_ / "liveproof.db").string());
        if (!opened) Die("open", opened.error().detail);
        store_ = std::move(*opened);
        const std::string rows = Env("LIVEPROOF_BENCH_STORE_ROWS", "");
        // At least one: the Get and Audit benchmarks pick among them.
        const int n = rows.empty() ? kDefaultRows : std::max(1, std::atoi(rows.c_str()));
        for (int i = 0; i < n; ++i) ids_.push_back(Stored().id);
    }

    static std::string Hex(std::uint64_t v) {
        char out[17];
        std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(v));
        return out;
    }

    fs::path dir_;
    std::unique_ptr<SessionStore> store_;
    std::vector<std::string> ids_;
    std::mt19937_64 rng_;
};

// Google Benchmark reports a mean per run; a store's tail is in its fsyncs, so every call's time
// is kept and its percentiles become the run's counters.
class Latencies {
  public:
    // Times @p call, hands the time to the benchmark (manual timing: the untimed set-up of each
    // iteration stays out) and keeps it for the percentiles.
    template <typename Call>
    void Time(benchmark::State& state, Call&& call) {
        const auto t0 = std::chrono::steady_clock::now();
        call();
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        state.SetIterationTime(s);
        seconds_.push_back(s);
    }

    // Nearest-rank p50 and p99 (and the max) in microseconds.
    void Report(benchmark::State& state) {
        if (seconds_.empty()) return;
        std::sort(seconds_.begin(), seconds_.end());
        const auto at = [&](double p) {
            const auto rank =
                static_cast<std::size_t>(std::ceil(p * static_cast<double>(seconds_.size())));
            return seconds_[std::clamp<std::size_t>(rank, 1, seconds_.size()) - 1] * 1e6;
        };
        state.counters["p50_us"] = at(0.50);
        state.counters["p99_us"] = at(0.99);
        state.counters["max_us"] = seconds_.back() * 1e6;
    }

  private:
    std::vector<double> seconds_;
};

// One store call per iteration on what @p prepare made (untimed), only the call timed.
template <typename Prepare, typename Call>
void Measure(benchmark::State& state, Prepare&& prepare, Call&& call) {
    Latencies lat;
    for (auto _ : state) {
        auto input = prepare();
        lat.Time(state, [&] { call(input); });
    }
    lat.Report(state);
}

void BM_StoreCreate(benchmark::State& state) {
    auto& f = StoreFixture::Get();
    Measure(
        state, [&] { return f.NewRecord(); },
        [&](const SessionRecord& s) {
            if (auto r = f.store().Create(s); !r) StoreFixture::Die("create", r.error().detail);
        });
}
BENCHMARK(BM_StoreCreate)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_StoreGet(benchmark::State& state) {
    auto& f = StoreFixture::Get();
    Measure(
        state, [&] { return f.ids()[f.Pick()]; },
        [&](const std::string& id) {
            auto r = f.store().Get(id);
            if (!r || !*r) StoreFixture::Die("get", r ? "no such session" : r.error().detail);
            benchmark::DoNotOptimize(r);
        });
}
BENCHMARK(BM_StoreGet)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_StoreStart(benchmark::State& state) {
    auto& f = StoreFixture::Get();
    Measure(
        state, [&] { return f.Stored(); },
        [&](const SessionRecord& s) {
            auto r = f.store().Start(s.id, s.token_hash, "bench", StoreFixture::NowMs());
            if (!r || *r != store::StartOutcome::Started) StoreFixture::Die("start", "refused");
        });
}
BENCHMARK(BM_StoreStart)->UseManualTime()->Unit(benchmark::kMicrosecond);

// A passive run's end: the terminal state, its result and the signed verdict, synchronously.
void BM_StoreFinish(benchmark::State& state) {
    auto& f = StoreFixture::Get();
    store::Terminal t;
    t.status = store::SessionStatus::Succeeded;
    t.decision = "live";
    t.result_json = kResult;
    t.verdict = kVerdict;
    Measure(
        state,
        [&] {
            const SessionRecord s = f.Stored();
            auto r = f.store().Start(s.id, s.token_hash, "bench", StoreFixture::NowMs());
            if (!r || *r != store::StartOutcome::Started) StoreFixture::Die("start", "refused");
            t.finished_ms = StoreFixture::NowMs();
            return s.id;
        },
        [&](const std::string& id) {
            auto r = f.store().Finish(id, t);
            if (!r || !*r) StoreFixture::Die("finish", "refused");
        });
}
BENCHMARK(BM_StoreFinish)->UseManualTime()->Unit(benchmark::kMicrosecond);

// DELETE /v1/sessions/{id}: the row, its images (none here) and their pages overwritten
// (secure_delete).
void BM_StoreDelete(benchmark::State& state) {
    auto& f = StoreFixture::Get();
    Measure(
        state, [&] { return f.Stored().id; },
        [&](const std::string& id) {
            auto r = f.store().Delete(id);
            if (!r || !*r) StoreFixture::Die("delete", "refused");
        });
}
BENCHMARK(BM_StoreDelete)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Every backend call (a read too) appends one audit line.
void BM_StoreAudit(benchmark::State& state) {
    auto& f = StoreFixture::Get();
    Measure(
        state,
        [&] {
            store::AuditEvent e;
            e.session_id = f.ids()[f.Pick()];
            e.at_ms = StoreFixture::NowMs();
            e.action = "read";
            e.key_id = "key-0123abcd";
            e.remote = "127.0.0.1";
            return e;
        },
        [&](const store::AuditEvent& e) {
            if (auto r = f.store().Audit(e); !r) StoreFixture::Die("audit", r.error().detail);
        });
}
BENCHMARK(BM_StoreAudit)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace liveproof::bench

BENCHMARK_MAIN();
