// Shared by `liveproof bench http`, `bench ws` and `bench sessions`: caps, refusals, URL checks,
// tables, JSON.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "loadgen/load_client.hpp"
#include "text_table.hpp"

namespace liveproof::cli::bench {

namespace load = loadgen;
using nlohmann::json;

// Caps: a load generator that can be pointed at the wrong place must stay small and short.
inline constexpr int kMaxClients = 256;
inline constexpr double kMinDurationS = 1, kMaxDurationS = 600;
inline constexpr double kMinFps = 1, kMaxFps = 60;
inline constexpr int kMinSide = 16, kMaxSide = 4096;
inline constexpr double kMinTimeoutS = 1, kMaxTimeoutS = 120;
inline constexpr std::size_t kMaxImages = 64;
inline constexpr std::size_t kMaxPreparedBytes = 256u << 20;  // every prepared body or message
inline constexpr int kJpegQuality = 75;
inline constexpr double kConnectTimeoutS = 3;
inline constexpr double kClipFpsFallback = 30;  // when the container does not say
inline const std::vector<std::string> kBodyKinds = {"base64json", "multipart", "raw"};

/// A refused invocation: the message on stderr, exit status 2.
[[noreturn]] void Refuse(const std::string& command, const std::string& message);

/// The run could not happen (server unreachable, nothing answered): exit status 1.
[[noreturn]] void Fail(const std::string& command, const std::string& message);

std::string Fixed(double v, int precision = 1);

std::string KiB(double bytes);

template <typename T>
void CheckRange(const std::string& command, const std::string& flag, T value, T lo, T hi) {
    if (!(value >= lo && value <= hi)) {
        std::ostringstream s;
        s << flag << " must be in " << lo << ".." << hi << " (got " << value << ")";
        Refuse(command, s.str());
    }
}

void CheckApiKey(const std::string& command, const std::string& key);

/// Parses and resolves the URL, refusing a non-loopback host unless --allow-remote.
load::LoadTarget ResolvedTarget(const std::string& command, const std::string& url,
                                const std::string& scheme, bool allow_remote);

void Probe(const std::string& command, const load::LoadTarget& target);

std::vector<std::uint8_t> ReadCapped(const std::string& command, const std::string& path,
                                     std::size_t cap);

json LatencyJson(const load::LatencySummary& s);

std::vector<std::string> LatencyRow(const std::string& name, const load::LatencySummary& s);

template <typename Map>
std::string Counts(const Map& m) {
    if (m.empty()) return "none";
    std::ostringstream s;
    bool first = true;
    for (const auto& [k, v] : m) {
        s << (first ? "" : ", ") << k << " " << v;
        first = false;
    }
    return s.str();
}

template <typename Map>
std::uint64_t Total(const Map& m) {
    std::uint64_t n = 0;
    for (const auto& [k, v] : m) n += v;
    return n;
}

/// @brief The answers of one keep-alive HTTP run or phase, for --json: requests, requests_per_s
/// (over
/// @p window_s), status, errors, errors_total, in_flight_at_end, reconnects, latency_ms, and the
/// success answers' latency under @p ok_key.
json HttpRunJson(const load::HttpLoadResult& r, double window_s, const std::string& ok_key);

/// @brief The same for the tables, as (measure, value): answers, answers/s, by status, errors, cut,
/// reconnects.
std::vector<std::pair<std::string, std::string>> HttpRunMeasures(const load::HttpLoadResult& r,
                                                                 double window_s);

json ServerJson(const std::optional<std::map<std::string, double>>& server);

void PrintServer(const std::optional<std::map<std::string, double>>& server);

void AddCommonLoadFlags(CLI::App& cmd, std::string& url, std::string& api_key, bool& as_json,
                        bool& allow_remote);

/// @brief Adds the subcommand registration of `bench http` to `bench`.
void RegisterHttp(CLI::App& bench);
/// @brief Adds the subcommand registration of `bench ws` to `bench`.
void RegisterWs(CLI::App& bench);
/// @brief Adds the subcommand registration of `bench sessions` to `bench`.
void RegisterSessions(CLI::App& bench);

}  // namespace liveproof::cli::bench
