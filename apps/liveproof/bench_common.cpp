// Shared helpers of the bench subcommands.
#include "bench_common.hpp"

#include <cmath>
#include <iostream>

#include "cli_common.hpp"

namespace liveproof::cli::bench {

[[noreturn]] void Refuse(const std::string& command, const std::string& message) {
    std::cerr << "liveproof bench " << command << ": " << message << "\n";
    throw CLI::RuntimeError(2);
}

[[noreturn]] void Fail(const std::string& command, const std::string& message) {
    std::cerr << "liveproof bench " << command << ": " << message << "\n";
    throw CLI::RuntimeError(1);
}

std::string Fixed(double v, int precision) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v;
    return s.str();
}

std::string KiB(double bytes) { return Fixed(bytes / 1024.0) + " KiB"; }

void CheckApiKey(const std::string& command, const std::string& key) {
    for (const char c : key) {
        if (c <= 0x20 || c >= 0x7f) Refuse(command, "--api-key must be printable ASCII");
    }
}

load::LoadTarget ResolvedTarget(const std::string& command, const std::string& url,
                                const std::string& scheme, bool allow_remote) {
    auto parsed = load::ParseLoadUrl(url, scheme);
    if (!parsed) Refuse(command, parsed.error().detail);
    auto target = load::ResolveLoadTarget(*parsed, allow_remote);
    if (!target) Refuse(command, target.error().detail);
    return *target;
}

void Probe(const std::string& command, const load::LoadTarget& target) {
    if (auto ok = load::ProbeTarget(target, kConnectTimeoutS); !ok) {
        Fail(command, ok.error().detail);
    }
}

std::vector<std::uint8_t> ReadCapped(const std::string& command, const std::string& path,
                                     std::size_t cap) {
    auto bytes = ReadInputFile(path, cap);
    if (!bytes) Refuse(command, bytes.error().detail);
    if (bytes->empty()) Refuse(command, path + " is empty");
    return std::move(*bytes);
}

json LatencyJson(const load::LatencySummary& s) {
    const auto ms = [&](double v) -> json {
        if (s.count == 0) return nullptr;
        return std::round(v * 1000.0) / 1000.0;
    };
    return {{"count", s.count},    {"p50", ms(s.p50_ms)}, {"p95", ms(s.p95_ms)},
            {"p99", ms(s.p99_ms)}, {"max", ms(s.max_ms)}, {"mean", ms(s.mean_ms)}};
}

std::vector<std::string> LatencyRow(const std::string& name, const load::LatencySummary& s) {
    if (s.count == 0) return {name, "0", "-", "-", "-", "-"};
    return {
        name,           std::to_string(s.count), Fixed(s.p50_ms), Fixed(s.p95_ms), Fixed(s.p99_ms),
        Fixed(s.max_ms)};
}

namespace {

std::map<std::string, std::uint64_t> StatusCounts(const load::HttpLoadResult& r) {
    std::map<std::string, std::uint64_t> status;
    for (const auto& [code, n] : r.status) status[std::to_string(code)] = n;
    return status;
}

double PerSecond(std::uint64_t n, double window_s) {
    return window_s > 0 ? static_cast<double>(n) / window_s : 0.0;
}

}  // namespace

json HttpRunJson(const load::HttpLoadResult& r, double window_s, const std::string& ok_key) {
    return {{"requests", r.requests},
            {"requests_per_s", std::round(PerSecond(r.requests, window_s) * 100.0) / 100.0},
            {"status", StatusCounts(r)},
            {"errors", r.errors},
            {"errors_total", Total(r.errors)},
            {"in_flight_at_end", r.in_flight_at_end},
            {"reconnects", r.reconnects},
            {"latency_ms", LatencyJson(r.latency)},
            {ok_key, LatencyJson(r.latency_ok)}};
}

std::vector<std::pair<std::string, std::string>> HttpRunMeasures(const load::HttpLoadResult& r,
                                                                 double window_s) {
    return {{"requests (answers)", std::to_string(r.requests)},
            {"requests/s", Fixed(PerSecond(r.requests, window_s))},
            {"by status", Counts(StatusCounts(r))},
            {"errors", Counts(r.errors)},
            {"in flight at the end", std::to_string(r.in_flight_at_end)},
            {"reconnects", std::to_string(r.reconnects)}};
}

json ServerJson(const std::optional<std::map<std::string, double>>& server) {
    if (!server) return nullptr;
    return *server;
}

void PrintServer(const std::optional<std::map<std::string, double>>& server) {
    if (!server) {
        std::cout << "\n  server /metrics: not readable (skipped)\n";
        return;
    }
    std::cout << "\n  server /metrics, change over the run:" << (server->empty() ? " none" : "")
              << "\n";
    for (const auto& [series, delta] : *server) {
        std::cout << "    " << series << " " << (delta > 0 ? "+" : "") << delta << "\n";
    }
}

void AddCommonLoadFlags(CLI::App& cmd, std::string& url, std::string& api_key, bool& as_json,
                        bool& allow_remote) {
    cmd.add_option("--url", url, "Server URL")->capture_default_str();
    cmd.add_option("--api-key", api_key, "Sent as X-API-KEY (also for /metrics)");
    cmd.add_flag("--json", as_json, "One JSON object instead of the tables");
    cmd.add_flag("--allow-remote", allow_remote,
                 "Allow a host that is not a loopback address (default: refused)");
}

}  // namespace liveproof::cli::bench
