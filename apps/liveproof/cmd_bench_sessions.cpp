// `liveproof bench sessions`: the backend's session flow against a running server: create, read
// the created sessions, optionally delete them, each phase timed and reported on its own.
#include <cmath>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "loadgen/load_client.hpp"

namespace liveproof::cli::bench {

namespace {

struct SessionFlags {
    std::string url = "http://127.0.0.1:8001";
    int connections = 2;
    double duration = 10;
    double timeout = 10;
    std::string mode = "passive";
    bool remove = false;
    std::string api_key;
    bool json = false;
    bool allow_remote = false;
};

// One phase as reported: what it sent, the route the server counts it under, its result.
struct PhaseView {
    std::string name;   // create, read, delete
    std::string what;   // "POST /v1/sessions"
    std::string route;  // the server's route label
    const load::HttpLoadResult* result = nullptr;
};

// The server's mean handling time of @p route over the run (histogram sum / count), if known.
std::optional<double> ServerMeanMs(const std::optional<std::map<std::string, double>>& server,
                                   const std::string& route) {
    if (!server) return std::nullopt;
    const std::string labels = "{route=\"" + route + "\"}";
    const auto sum = server->find("liveproof_http_request_duration_seconds_sum" + labels);
    const auto count = server->find("liveproof_http_request_duration_seconds_count" + labels);
    if (sum == server->end() || count == server->end() || count->second <= 0) return std::nullopt;
    return sum->second / count->second * 1000.0;
}

json PhaseJson(const PhaseView& p, const std::optional<std::map<std::string, double>>& server) {
    const load::HttpLoadResult& r = *p.result;
    json j = HttpRunJson(r, r.elapsed_s, "latency_ok_ms");
    const auto mean = ServerMeanMs(server, p.route);
    j.update(
        {{"request", p.what},
         {"elapsed_s", std::round(r.elapsed_s * 1000.0) / 1000.0},
         {"server_mean_ms", mean ? json(std::round(*mean * 1000.0) / 1000.0) : json(nullptr)}});
    return j;
}

void PrintPhases(const std::vector<PhaseView>& phases,
                 const std::optional<std::map<std::string, double>>& server) {
    std::vector<std::string> header = {"measure"};
    for (const auto& p : phases) header.push_back(p.name + " (" + p.what + ")");
    Table t(header);
    std::vector<std::vector<std::string>> rows;
    const auto add = [&](std::size_t row, const std::string& measure, const std::string& value) {
        if (rows.size() <= row) rows.push_back({measure});
        rows[row].push_back(value);
    };
    for (const auto& p : phases) {
        const load::HttpLoadResult& r = *p.result;
        std::size_t row = 0;
        add(row++, "seconds", Fixed(r.elapsed_s, 2));
        for (auto& [measure, value] : HttpRunMeasures(r, r.elapsed_s)) add(row++, measure, value);
        const load::LatencySummary& ok = r.latency_ok;
        const auto ms = [&](double v) { return ok.count == 0 ? std::string("-") : Fixed(v); };
        add(row++, "success answers", std::to_string(ok.count));
        add(row++, "  p50 ms", ms(ok.p50_ms));
        add(row++, "  p95 ms", ms(ok.p95_ms));
        add(row++, "  p99 ms", ms(ok.p99_ms));
        add(row++, "  max ms", ms(ok.max_ms));
        const auto mean = ServerMeanMs(server, p.route);
        add(row++, "server mean ms", mean ? Fixed(*mean, 2) : "-");
    }
    for (auto& row : rows) t.Add(std::move(row));
    t.Print(std::cout);
}

int RunBenchSessions(const SessionFlags& f) {
    const std::string cmd = "sessions";
    CheckRange(cmd, "--connections", f.connections, 1, kMaxClients);
    CheckRange(cmd, "--duration", f.duration, kMinDurationS, kMaxDurationS);
    CheckRange(cmd, "--timeout", f.timeout, kMinTimeoutS, kMaxTimeoutS);
    if (f.mode != "active" && f.mode != "passive" && f.mode != "blink") {
        Refuse(cmd, "--mode must be active, passive or blink (got " + f.mode + ")");
    }
    CheckApiKey(cmd, f.api_key);
    load::SessionLoadOptions o;
    o.target = ResolvedTarget(cmd, f.url, "http", f.allow_remote);
    if (o.target.url.target.find('?') != std::string::npos) {
        Refuse(cmd, "--url is the server's base URL (a path prefix at most, no query)");
    }
    Probe(cmd, o.target);
    // external_ref marks the bench's sessions in the store and the audit trail.
    o.create_body = json{{"mode", f.mode}, {"external_ref", "liveproof-bench"}}.dump();
    o.connections = f.connections;
    o.duration_s = f.duration;
    o.remove = f.remove;
    o.api_key = f.api_key;
    o.connect_timeout_s = kConnectTimeoutS;
    o.request_timeout_s = f.timeout;

    std::cerr << "bench sessions: " << f.connections << " connection(s), " << f.duration
              << " s per phase: create, read" << (f.remove ? ", delete" : "") << " at " << f.url
              << "\n";
    const load::SessionLoadResult r = load::RunSessionLoad(o);
    std::vector<PhaseView> phases = {
        {"create", "POST /v1/sessions", "v1_sessions_create", &r.create},
        {"read", "GET /v1/sessions/{id}", "v1_session_read", &r.read}};
    if (r.remove) {
        phases.push_back({"delete", "DELETE /v1/sessions/{id}", "v1_session_delete", &*r.remove});
    }

    if (f.json) {
        json by_phase = json::object();
        for (const auto& p : phases) by_phase[p.name] = PhaseJson(p, r.server);
        if (!r.remove) by_phase["delete"] = nullptr;
        json j = {{"mode", "sessions"},
                  {"url", f.url},
                  {"addresses", o.target.addresses},
                  {"connections", f.connections},
                  {"duration_s", f.duration},
                  {"session_mode", f.mode},
                  {"delete", f.remove},
                  {"sessions_created", r.ids_created},
                  {"sessions_kept", r.ids_kept},
                  {"phases", by_phase},
                  {"server_metrics", ServerJson(r.server)}};
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "liveproof bench sessions: " << f.url << ", " << f.connections
                  << " connection(s), " << f.duration << " s per phase, " << f.mode
                  << " sessions; created " << r.ids_created;
        if (r.ids_kept < r.ids_created) std::cout << " (" << r.ids_kept << " kept to read)";
        std::cout << "\n";
        PrintPhases(phases, r.server);
        PrintServer(r.server);
    }
    if (r.create.requests == 0) Fail(cmd, "no answer at all from " + f.url);
    if (r.ids_created == 0) {
        Fail(cmd, "no session was created (answers by status: " + Counts(r.create.status) +
                      "; does the server want --api-key?)");
    }
    return 0;
}

}  // namespace

void RegisterSessions(CLI::App& bench) {
    auto sf = std::make_shared<SessionFlags>();
    CLI::App* sessions = bench.add_subcommand(
        "sessions",
        "The session API: create, read (and --delete) sessions in timed phases; rates, latency");
    AddCommonLoadFlags(*sessions, sf->url, sf->api_key, sf->json, sf->allow_remote);
    sessions->add_option("--connections", sf->connections, "Concurrent connections (1..256)")
        ->capture_default_str();
    sessions->add_option("--duration", sf->duration, "Seconds per phase (1..600)")
        ->capture_default_str();
    sessions->add_option("--timeout", sf->timeout, "Seconds per request (1..120)")
        ->capture_default_str();
    sessions->add_option("--mode", sf->mode, "The sessions' mode: active, passive or blink")
        ->capture_default_str();
    sessions->add_flag("--delete", sf->remove,
                       "Then delete every created session (a third phase, at most --duration)");
    sessions->callback([sf] {
        const int rc = RunBenchSessions(*sf);
        if (rc != 0) throw CLI::RuntimeError(rc);
    });
}

}  // namespace liveproof::cli::bench
