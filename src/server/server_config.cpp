// Setting table: one entry per key with its parser, shared by file, environment and flags.
#include "server/server_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <type_traits>

#include "common/json_text.hpp"
#include "engine/operating_point.hpp"
#include "licence/licence.hpp"
#include "server/api_keys.hpp"
#include "server/front_doors.hpp"

namespace liveproof::server {

namespace {

using Setter = std::function<Expected<void>(ServerConfig&, const std::string&)>;
using Getter = std::function<nlohmann::json(const ServerConfig&)>;

// One setting: how to parse it (file, environment, flags) and how --print-config shows it.
struct Setting {
    Setter set;
    Getter get;
};

Unexpected Bad(const std::string& key, const std::string& why) {
    return MakeError(ErrorCode::InvalidArgument, "setting " + key + ": " + why);
}

// 1, 0.5, 65535: bounds as people write them.
std::string Compact(double x) {
    std::ostringstream out;
    out << x;
    return out.str();
}

// Where a field lives: the config itself or one of its parts (each works for const too).
constexpr auto kSelf = [](auto& c) -> auto& { return c; };
constexpr auto kCompatC = [](auto& c) -> auto& { return c.compat_c; };
constexpr auto kEngine = [](auto& c) -> auto& { return c.engine; };
constexpr auto kLimits = [](auto& c) -> auto& { return c.engine.limits; };
constexpr auto kAttributes = [](auto& c) -> auto& { return c.engine.attributes; };
constexpr auto kChallenge = [](auto& c) -> auto& { return c.challenge; };
constexpr auto kStream = [](auto& c) -> auto& { return c.stream; };
constexpr auto kFrameSignals = [](auto& c) -> auto& { return c.frame_signals; };

// Decimal only, the whole text: "0x50", " 80", "80abc", "inf" and "nan" are refused (std::stod
// read "0x50" as port 80).
std::optional<double> StrictNumber(const std::string& v) {
    double x = 0;
    const char* end = v.data() + v.size();
    const auto [ptr, ec] = std::from_chars(v.data(), end, x, std::chars_format::general);
    if (ec != std::errc() || ptr != end || !std::isfinite(x)) return std::nullopt;
    return x;
}

template <typename Owner, typename T, typename Where>
Setting Number(T Owner::*field, double lo, double hi, Where where) {
    Setter set = [=](ServerConfig& c, const std::string& v) -> Expected<void> {
        const std::optional<double> x = StrictNumber(v);
        // Range first: casting inf, nan or 1e300 to an integer is undefined.
        const bool ok =
            x && *x >= lo && *x <= hi && (!std::is_integral_v<T> || *x == std::floor(*x));
        if (!ok) {
            return MakeError(ErrorCode::InvalidArgument,
                             std::string(std::is_integral_v<T> ? "expected a whole number"
                                                               : "expected a number") +
                                 " from " + Compact(lo) + " to " + Compact(hi) + ", got '" +
                                 PrintableUtf8(v) + "'");
        }
        where(c).*field = static_cast<T>(*x);
        return {};
    };
    Getter get = [=](const ServerConfig& c) { return nlohmann::json(where(c).*field); };
    return {set, get};
}

using challenge::ChallengeConfig;

Setting Int(int ServerConfig::*field, int lo, int hi) { return Number(field, lo, hi, kSelf); }

template <typename T>
Setting Real(T ServerConfig::*field, double lo, double hi) {
    return Number(field, lo, hi, kSelf);
}

template <typename T>
Setting RealC(T CompatCThresholds::*field, double lo, double hi) {
    return Number(field, lo, hi, kCompatC);
}

// The allowed challenges, parsed when set (an unknown or repeated name is refused at once) and
// shown as their canonical names; BLINK in the list is what turns eye closure on.
Setting ChallengeList() {
    return {[](ServerConfig& c, const std::string& v) -> Expected<void> {
                auto allowed = challenge::ParseChallengeList(v);
                if (!allowed) return Unexpected{allowed.error()};
                c.challenge.SetAllowed(std::move(*allowed));
                return {};
            },
            [](const ServerConfig& c) {
                std::string text;
                for (const auto d : c.challenge.allowed) {
                    if (!text.empty()) text += ",";
                    text += challenge::DirectionName(d);
                }
                return nlohmann::json(text);
            }};
}

// Secrets are shown only as whether (or how many) they are set.
template <typename Owner, typename Where = decltype(kSelf)>
Setting Str(std::string Owner::*field, bool secret = false, Where where = kSelf) {
    return {[=](ServerConfig& c, const std::string& v) -> Expected<void> {
                where(c).*field = v;
                return {};
            },
            [=](const ServerConfig& c) {
                if (!secret) return nlohmann::json(where(c).*field);
                return nlohmann::json((where(c).*field).empty() ? "" : "(set)");
            }};
}

// true/false, 1/0, yes/no, on/off.
template <typename Owner, typename Where = decltype(kSelf)>
Setting Bool(bool Owner::*field, Where where = kSelf) {
    return {[=](ServerConfig& c, const std::string& v) -> Expected<void> {
                std::string t = v;
                std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) {
                    return static_cast<char>(std::tolower(ch));
                });
                if (t == "true" || t == "1" || t == "yes" || t == "on") {
                    where(c).*field = true;
                } else if (t == "false" || t == "0" || t == "no" || t == "off") {
                    where(c).*field = false;
                } else {
                    return MakeError(ErrorCode::InvalidArgument,
                                     "expected true or false, got '" + PrintableUtf8(v) + "'");
                }
                return {};
            },
            [=](const ServerConfig& c) { return nlohmann::json(where(c).*field); }};
}

// The library that runs the networks (detector, anti-spoofing, Face Mesh, Iris), by name.
Setting Backend() {
    return {[](ServerConfig& c, const std::string& v) -> Expected<void> {
                const auto b = ParseInferenceBackend(v);
                if (!b) {
                    return MakeError(ErrorCode::InvalidArgument,
                                     "expected opencv or xnnpack, got '" + PrintableUtf8(v) + "'");
                }
                c.engine.inference_backend = *b;
                return {};
            },
            [](const ServerConfig& c) {
                return nlohmann::json(InferenceBackendName(c.engine.inference_backend));
            }};
}

// spdlog::level::from_str turns an unknown name into "off", which would silence every log
// (the "auth is off" warning too): only its own names are accepted.
Setting LogLevel() {
    return {[](ServerConfig& c, const std::string& v) -> Expected<void> {
                static const std::vector<std::string> kNames = {"trace", "debug",    "info", "warn",
                                                                "error", "critical", "off"};
                if (std::find(kNames.begin(), kNames.end(), v) == kNames.end()) {
                    return MakeError(ErrorCode::InvalidArgument,
                                     "expected trace, debug, info, warn, error, critical or off, "
                                     "got '" +
                                         v + "'");
                }
                c.log_level = v;
                return {};
            },
            [](const ServerConfig& c) { return nlohmann::json(c.log_level); }};
}

std::vector<std::string> SplitList(const std::string& v) {
    std::vector<std::string> out;
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto b = item.find_first_not_of(" \t");
        const auto e = item.find_last_not_of(" \t");
        if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    }
    return out;
}

Setting List(std::vector<std::string> ServerConfig::*field, bool secret = false) {
    return {[=](ServerConfig& c, const std::string& v) -> Expected<void> {
                std::vector<std::string> items = SplitList(v);
                // "API_KEY=' , '" used to mean "no keys", i.e. authentication silently off.
                if (items.empty() && v.find_first_not_of(" \t") != std::string::npos) {
                    return MakeError(ErrorCode::InvalidArgument,
                                     "the list holds only separators and blanks, no item");
                }
                c.*field = std::move(items);
                return {};
            },
            [=](const ServerConfig& c) {
                if (!secret) return nlohmann::json(c.*field);
                return nlohmann::json(std::to_string((c.*field).size()) + " key(s), not shown");
            }};
}

const std::map<std::string, Setting>& Table() {
    static const std::map<std::string, Setting> table = {
        {"host", Str(&ServerConfig::host)},
        {"port", Int(&ServerConfig::port, 1, 65535)},
        {"io_threads", Int(&ServerConfig::io_threads, 1, 16)},
        {"workers", Number(&EngineOptions::workers, 0, 64, kEngine)},
        {"inference_backend", Backend()},
        {"queue_capacity", Int(&ServerConfig::queue_capacity, 0, 10000)},
        {"admission_wait_ms", Int(&ServerConfig::admission_wait_ms, 0, 60000)},
        {"pin_workers", Bool(&ServerConfig::pin_workers)},
        {"max_connections", Int(&ServerConfig::max_connections, 1, 100000)},
        {"max_connections_per_client", Int(&ServerConfig::max_connections_per_client, 1, 100000)},
        {"header_limit_bytes", Int(&ServerConfig::header_limit_bytes, 1024, 1 << 20)},
        {"max_json_bytes", Int(&ServerConfig::max_json_bytes, 1024, 256 << 20)},
        {"max_image_bytes", Number(&MediaLimits::max_image_bytes, 1024, 256 << 20, kLimits)},
        {"max_video_bytes", Number(&MediaLimits::max_video_bytes, 1024, 1 << 30, kLimits)},
        {"max_small_body_bytes", Int(&ServerConfig::max_small_body_bytes, 256, 16 << 20)},
        {"request_timeout_seconds", Int(&ServerConfig::request_timeout_seconds, 1, 3600)},
        {"idle_timeout_seconds", Int(&ServerConfig::idle_timeout_seconds, 1, 3600)},
        {"header_timeout_seconds", Int(&ServerConfig::header_timeout_seconds, 1, 3600)},
        {"shutdown_grace_seconds", Int(&ServerConfig::shutdown_grace_seconds, 0, 600)},
        {"api_keys", List(&ServerConfig::api_keys, /*secret=*/true)},
        {"cors_origins", List(&ServerConfig::cors_origins)},
        {"public_routes", List(&ServerConfig::public_routes)},
        {"operating_point", Str(&ServerConfig::operating_point)},
        {"metrics_enabled", Bool(&ServerConfig::metrics_enabled)},
        {"trusted_proxies", List(&ServerConfig::trusted_proxies)},
        {"confidence_threshold", Real(&ServerConfig::confidence_threshold, 0, 1)},
        {"liveness_threshold", Number(&EngineOptions::liveness_threshold, 0, 1, kEngine)},
        {"c_liveness_threshold", RealC(&CompatCThresholds::liveness, 0, 1)},
        {"c_angle_threshold", RealC(&CompatCThresholds::angle, 0, 180)},
        {"c_occlusion_threshold", RealC(&CompatCThresholds::occlusion, 0, 1)},
        {"c_eye_closed_threshold", RealC(&CompatCThresholds::eye_closed, 0, 1)},
        {"c_mouth_open_threshold", RealC(&CompatCThresholds::mouth_open, 0, 1)},
        // is_small and is_boundary_face are the engine's flags (one rule, in the pipeline).
        {"c_small_eye_dist", Number(&AttributeOptions::small_face_eye_dist, 0, 10000, kAttributes)},
        {"c_border_rate", Number(&AttributeOptions::border_rate, 0, 0.5, kAttributes)},
        {"c_quality_low", RealC(&CompatCThresholds::quality_low, 0, 1)},
        {"c_quality_high", RealC(&CompatCThresholds::quality_high, 0, 1)},
        {"c_luminance_dark", RealC(&CompatCThresholds::luminance_dark, 0, 255)},
        {"c_luminance_light", RealC(&CompatCThresholds::luminance_light, 0, 255)},
        {"licence_public_key", Str(&ServerConfig::licence_public_key, /*secret=*/true)},
        {"licence_file", Str(&ServerConfig::licence_file)},
        {"model_dir", Str(&EngineOptions::model_dir, /*secret=*/false, kEngine)},
        {"web_root", Str(&ServerConfig::web_root)},
        {"detect_max_side", Number(&EngineOptions::detect_max_side, 0, 8192, kEngine)},
        {"max_video_seconds", Number(&MediaLimits::max_video_seconds, 0.5, 600, kLimits)},
        {"analysis_budget_seconds",
         Number(&EngineOptions::time_budget_seconds, 0.1, 3600, kEngine)},
        {"video_budget_seconds",
         Number(&EngineOptions::video_time_budget_seconds, 0.5, 3600, kEngine)},
        {"video_slice_seconds", Real(&ServerConfig::video_slice_seconds, 0.01, 10)},
        {"max_jpeg_scans", Number(&MediaLimits::max_jpeg_scans, 1, 100000, kLimits)},
        {"log_level", LogLevel()},
        {"required_successes", Number(&ChallengeConfig::required_successes, 1, 10, kChallenge)},
        {"challenge_timeout", Number(&ChallengeConfig::challenge_timeout_s, 0.5, 600, kChallenge)},
        {"session_timeout", Number(&ChallengeConfig::session_timeout_s, 1, 3600, kChallenge)},
        {"ws_idle_timeout", Number(&ChallengeConfig::idle_timeout_s, 0.5, 3600, kChallenge)},
        {"max_wrong_attempts", Number(&ChallengeConfig::max_wrong_attempts, 1, 100, kChallenge)},
        {"challenges", ChallengeList()},
        {"center_yaw", Number(&ChallengeConfig::center_yaw, 1, 90, kChallenge)},
        {"center_pitch", Number(&ChallengeConfig::center_pitch, 1, 90, kChallenge)},
        {"action_yaw", Number(&ChallengeConfig::action_yaw, 1, 90, kChallenge)},
        {"action_pitch", Number(&ChallengeConfig::action_pitch, 1, 90, kChallenge)},
        {"action_hold_frames", Number(&ChallengeConfig::action_hold_frames, 1, 30, kChallenge)},
        {"ws_max_message_bytes", Int(&ServerConfig::ws_max_message_bytes, 1024, 64 << 20)},
        {"ws_max_frame_pixels", Int(&ServerConfig::ws_max_frame_pixels, 1024, 40000000)},
        {"ws_passive_every", Number(&StreamOptions::passive_every, 1, 100, kStream)},
        {"ws_detect_max_side", Number(&StreamOptions::detect_max_side, 0, 4096, kStream)},
        {"ws_max_sessions", Int(&ServerConfig::ws_max_sessions, 1, 10000)},
        {"poll_max_sessions", Int(&ServerConfig::poll_max_sessions, 1, 100000)},
        {"poll_session_ttl", Real(&ServerConfig::poll_session_ttl, 5, 3600)},
        {"min_action_seconds", Number(&ChallengeConfig::min_action_s, 0, 10, kChallenge)},
        {"min_transition_frames",
         Number(&ChallengeConfig::min_transition_frames, 0, 30, kChallenge)},
        {"session_min_action_seconds", Real(&ServerConfig::session_min_action_seconds, 0, 10)},
        {"session_min_transition_frames", Int(&ServerConfig::session_min_transition_frames, 0, 30)},
        {"max_duplicate_frames",
         Number(&active::FrameSignalRules::max_duplicate_frames, -1, 1000, kFrameSignals)},
        {"near_duplicate_points",
         Number(&active::FrameSignalRules::near_duplicate_points, -1, 768, kFrameSignals)},
        {"fail_on_source_change",
         Bool(&active::FrameSignalRules::fail_on_source_change, kFrameSignals)},
        {"data_dir", Str(&ServerConfig::data_dir)},
        {"store_url", Str(&ServerConfig::store_url, /*secret=*/true)},
        {"signing_key_file", Str(&ServerConfig::signing_key_file)},
        {"store_threads", Int(&ServerConfig::store_threads, 1, 64)},
        {"store_pool_size", Int(&ServerConfig::store_pool_size, 1, 256)},
        {"store_queue", Int(&ServerConfig::store_queue, 1, 1000000)},
        {"node_id", Str(&ServerConfig::node_id)},
        {"public_url", Str(&ServerConfig::public_url)},
        {"verdict_issuer", Str(&ServerConfig::verdict_issuer)},
        {"verdict_audience", Str(&ServerConfig::verdict_audience)},
        {"verdict_ttl", Real(&ServerConfig::verdict_ttl, 10, 86400)},
        {"session_ttl", Real(&ServerConfig::session_ttl, 10, 3600)},
        {"session_max_ttl", Real(&ServerConfig::session_max_ttl, 10, 86400)},
        {"require_sessions", Bool(&ServerConfig::require_sessions)},
        {"stale_run_grace", Real(&ServerConfig::stale_run_grace, 1, 86400)},
        {"retention_hours", Real(&ServerConfig::retention_hours, 0.01, 24 * 3650)},
        {"attempt_max_failures", Int(&ServerConfig::attempt_max_failures, 0, 100000)},
        {"attempt_max_key_failures", Int(&ServerConfig::attempt_max_key_failures, 0, 10000000)},
        {"attempt_window", Real(&ServerConfig::attempt_window, 1, 86400)},
        {"session_list_max", Int(&ServerConfig::session_list_max, 1, 1000)},
    };
    return table;
}

// Empty or only blanks: an environment variable like that counts as unset.
bool Blank(std::string_view v) { return v.find_first_not_of(" \t\r\n") == std::string_view::npos; }

std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

}  // namespace

Expected<void> ServerConfig::Set(const std::string& key, const std::string& value) {
    const auto it = Table().find(key);
    if (it == Table().end()) return Bad(key, "unknown setting");
    auto r = it->second.set(*this, value);
    if (!r) return Bad(key, r.error().detail);
    return {};
}

Expected<void> ServerConfig::ApplyJson(const nlohmann::json& j) {
    if (!j.is_object())
        return MakeError(ErrorCode::InvalidArgument, "config file: expected a JSON object");
    for (const auto& [key, value] : j.items()) {
        std::string text;
        if (value.is_string()) {
            text = value.get<std::string>();
        } else if (value.is_array()) {
            for (const auto& item : value) {
                if (!text.empty()) text += ",";
                text += item.is_string() ? item.get<std::string>() : ToJsonText(item);
            }
        } else {
            text = ToJsonText(value);
        }
        auto r = Set(key, text);
        if (!r) return r;
    }
    return {};
}

Expected<void> ServerConfig::ApplyJsonText(std::string_view text, const std::string& source) {
    auto j = ParseJsonObject(text);
    if (!j) return MakeError(ErrorCode::InvalidArgument, source + ": " + j.error().detail);
    auto r = ApplyJson(*j);
    if (!r) return MakeError(ErrorCode::InvalidArgument, source + ": " + r.error().detail);
    return {};
}

Expected<void> ServerConfig::ApplyEnvironment() {
    // The seeds' own variables first, so that LIVEPROOF_* (more specific) wins over them.
    if (const char* v = std::getenv("API_KEY"); v && *v) {
        auto r = Set("api_keys", v);
        if (!r) return MakeError(ErrorCode::InvalidArgument, "API_KEY: " + r.error().detail);
    }
    if (const char* v = std::getenv("MODEL_PATH"); v && *v) {
        // System B's MODEL_PATH names a model file; ours is a folder: accept either.
        std::filesystem::path p(v);
        // The error_code overload: a name the file system refuses (too long) must not throw.
        std::error_code ec;
        engine.model_dir =
            std::filesystem::is_regular_file(p, ec) ? p.parent_path().string() : p.string();
    }
    if (const char* v = std::getenv("CONFIDENCE_THRESHOLD"); v && *v) {
        auto r = Set("confidence_threshold", v);
        if (!r) return r;
    }
    // System B's ENABLE_METRICS; system C's PORT (older app) and FACESDK_PORT / FACESDK_BIND_HOST
    // (the rewrite), the later ones winning.
    constexpr std::pair<const char*, const char*> kSeedVariables[] = {
        {"ENABLE_METRICS", "metrics_enabled"},
        {"PORT", "port"},
        {"FACESDK_PORT", "port"},
        {"FACESDK_BIND_HOST", "host"},
    };
    for (const auto& [variable, key] : kSeedVariables) {
        if (const char* v = std::getenv(variable); v && !Blank(v)) {
            auto r = Set(key, v);
            if (!r)
                return MakeError(ErrorCode::InvalidArgument,
                                 std::string(variable) + ": " + r.error().detail);
        }
    }
    for (const auto& [key, _] : Table()) {
        const std::string name = "LIVEPROOF_" + Upper(key);
        // An empty variable counts as unset, as for the seeds' variables above: an empty
        // LIVEPROOF_API_KEYS must not silently switch authentication off.
        if (const char* v = std::getenv(name.c_str()); v && !Blank(v)) {
            auto r = Set(key, v);
            if (!r) return MakeError(ErrorCode::InvalidArgument, name + ": " + r.error().detail);
        }
    }
    return {};
}

Expected<void> ServerConfig::Finalize() {
    if (engine.workers == 0) {
        // One per core, within the engine's cap of 64 pipelines.
        engine.workers = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
    }
    if (stream.detect_max_side != 0 && stream.detect_max_side < 64) {
        return Bad("ws_detect_max_side", "must be 0 (the engine's detect_max_side) or >= 64");
    }
    if (!operating_point.empty()) {
        auto point = engine::ReadOperatingPoint(operating_point);
        if (!point) return Bad("operating_point", point.error().detail);
        engine.liveness_threshold = point->liveness_threshold;
        compat_c.liveness = point->c_liveness_threshold;
        operating_point_summary = engine::OperatingPointSummary(*point);
    }
    stream.liveness_threshold = engine.liveness_threshold;
    // waits stay within ~2 service times
    if (queue_capacity == 0) queue_capacity = 2 * engine.workers;
    if (compat_c.quality_low > compat_c.quality_high) {
        return Bad("c_quality_low", "must not exceed c_quality_high");
    }
    if (compat_c.luminance_dark > compat_c.luminance_light) {
        return Bad("c_luminance_dark", "must not exceed c_luminance_light");
    }
    if (auto r = CheckPublicRoutes(public_routes); !r)
        return Bad("public_routes", r.error().detail);
    if (!public_url.empty() && public_url.rfind("http://", 0) != 0 &&
        public_url.rfind("https://", 0) != 0) {
        return Bad("public_url", "must start with http:// or https://");
    }
    while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
    for (const auto& k : api_keys) {
        if (ParseApiKey(k).secret.size() < 8) {
            return Bad("api_keys", "each key (the secret after 'id:') needs at least 8 characters");
        }
    }
    if (session_ttl > session_max_ttl) return Bad("session_ttl", "must not exceed session_max_ttl");
    if (!store_url.empty() && StoreKindOf(store_url).empty()) {
        return Bad("store_url", "must be sqlite:PATH or postgresql://... (postgres://...)");
    }
    // Cross-field rules (centre inside action angles): a server whose every challenge would
    // close 1011 does not start.
    if (auto v = challenge.Validate(); !v) {
        return MakeError(ErrorCode::InvalidArgument, "challenge settings: " + v.error().detail);
    }
    if (!licence_public_key.empty() && !licence::LicenceKeyWellFormed(licence_public_key)) {
        return Bad("licence_public_key", "expected the base64 of a 32-byte Ed25519 public key");
    }
    return {};
}

EngineOptions ServerEngineDefaults() {
    EngineOptions o;
    o.opencv_threads = 1;  // parallelism comes from the workers, not inside one inference
    o.limits.max_image_bytes = 16u << 20;  // a raw or multipart upload; JSON has its own cap
    // A request holds a worker: 2 s of CPU for one image or frame, 20 s for a blink video.
    o.time_budget_seconds = 2.0;
    o.video_time_budget_seconds = 20.0;
    return o;
}

nlohmann::json ServerConfig::ToJson() const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, setting] : Table()) j[key] = setting.get(*this);
    return j;
}

std::string_view StoreKindOf(std::string_view store_url) {
    if (store_url.empty() || store_url.rfind("sqlite:", 0) == 0) return "sqlite";
    if (store_url.rfind("postgresql://", 0) == 0 || store_url.rfind("postgres://", 0) == 0)
        return "postgresql";
    return "";
}

}  // namespace liveproof::server
