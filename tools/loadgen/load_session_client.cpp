// `bench sessions`: the backend's session flow (create, read, delete) as three timed phases of
// the keep-alive HTTP load, each request prepared before its phase's clock starts.
#include <array>
#include <nlohmann/json.hpp>

#include "loadgen/load_client.hpp"
#include "loadgen/load_phase.hpp"

namespace liveproof::loadgen {

namespace {

// The ids a run keeps to read and delete: 600 s at 400 creations/s, about 30 MiB of requests per
// phase; creations past it are counted but neither read nor deleted.
constexpr std::size_t kMaxKeptIds = 250'000;
constexpr std::size_t kSessionIdChars = 32;
constexpr double kSettleS = 0.5;  // before the second /metrics read: cut requests finish
// The server's own view of the phases: answers by route and status, session events, and the
// request-duration histogram's sum and count by route (so a mean per phase).
constexpr std::array<std::string_view, 5> kServerCounters = {
    "liveproof_http_requests_total", "liveproof_rejections_total", "liveproof_sessions_total",
    "liveproof_http_request_duration_seconds_sum", "liveproof_http_request_duration_seconds_count"};

detail::HttpPhase Phase(const SessionLoadOptions& o, int ok_status) {
    detail::HttpPhase p;
    p.target = &o.target;
    p.connections = o.connections;
    p.duration_s = o.duration_s;
    p.connect_timeout_s = o.connect_timeout_s;
    p.request_timeout_s = o.request_timeout_s;
    p.ok_status = ok_status;
    return p;
}

// The session id of a 201 answer, or "" when the body does not hold one.
std::string CreatedId(std::string_view body) {
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return "";
    const auto it = j.find("session_id");
    if (it == j.end() || !it->is_string()) return "";
    std::string id = it->get<std::string>();
    return id.size() == kSessionIdChars ? id : "";
}

}  // namespace

SessionLoadResult RunSessionLoad(const SessionLoadOptions& options) {
    std::string base = options.target.url.target;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string collection = base + "/v1/sessions";
    const LoadUrl& url = options.target.url;
    SessionLoadResult result;
    std::vector<std::string> ids;

    const auto before = detail::ScrapeMetrics(options.target, options.api_key, kServerCounters);
    detail::HttpPhase create = Phase(options, 201);
    create.requests.push_back(detail::RequestText(url, "POST", collection, options.api_key,
                                                  "application/json", options.create_body));
    create.on_answer = [&](int status, std::string_view body) {
        if (status != 201) return;
        std::string id = CreatedId(body);
        if (id.empty()) return;
        ++result.ids_created;
        if (ids.size() < kMaxKeptIds) ids.push_back(std::move(id));
    };
    result.create = detail::RunHttpPhase(create);
    result.ids_kept = ids.size();

    detail::HttpPhase read = Phase(options, 200);
    for (const auto& id : ids) {
        read.requests.push_back(
            detail::RequestText(url, "GET", collection + "/" + id, options.api_key, "", ""));
    }
    result.read = detail::RunHttpPhase(read);

    if (options.remove) {
        detail::HttpPhase remove = Phase(options, 204);
        remove.each_once = true;
        for (const auto& id : ids) {
            remove.requests.push_back(
                detail::RequestText(url, "DELETE", collection + "/" + id, options.api_key, "", ""));
        }
        result.remove = detail::RunHttpPhase(remove);
    }
    result.server = detail::ServerDeltasSince(before, options.target, options.api_key,
                                              kServerCounters, kSettleS);
    return result;
}

}  // namespace liveproof::loadgen
