// Setting table: one entry per key with its parser, shared by file, environment and flags.
#include "server/server_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

namespace liveproof::server {

namespace {

using Setter = std::function<Expected<void>(ServerConfig&, const std::string&)>;

Unexpected Bad(const std::string& key, const std::string& why) {
    return MakeError(ErrorCode::InvalidArgument, "setting " + key + ": " + why);
}

Setter Int(int ServerConfig::*field, int lo, int hi) {
    return [=](ServerConfig& c, const std::string& v) -> Expected<void> {
        try {
            std::size_t used = 0;
            const long n = std::stol(v, &used);
            if (used != v.size() || n < lo || n > hi) throw std::out_of_range("range");
            c.*field = static_cast<int>(n);
            return {};
        } catch (const std::exception&) {
            return MakeError(ErrorCode::InvalidArgument,
                             "expected a whole number from " + std::to_string(lo) + " to " +
                                 std::to_string(hi) + ", got '" + v + "'");
        }
    };
}

template <typename Owner, typename T>
Setter Real(T Owner::*field, double lo, double hi, Owner& (*owner)(ServerConfig&)) {
    return [=](ServerConfig& c, const std::string& v) -> Expected<void> {
        try {
            std::size_t used = 0;
            const double x = std::stod(v, &used);
            if (used != v.size() || !(x >= lo && x <= hi)) throw std::out_of_range("range");
            owner(c).*field = static_cast<T>(x);
            return {};
        } catch (const std::exception&) {
            return MakeError(ErrorCode::InvalidArgument,
                             "expected a number from " + std::to_string(lo) + " to " +
                                 std::to_string(hi) + ", got '" + v + "'");
        }
    };
}

ServerConfig& Self(ServerConfig& c) { return c; }
CompatCThresholds& CompatC(ServerConfig& c) { return c.compat_c; }

Setter Str(std::string ServerConfig::*field) {
    return [=](ServerConfig& c, const std::string& v) -> Expected<void> {
        c.*field = v;
        return {};
    };
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

Setter List(std::vector<std::string> ServerConfig::*field) {
    return [=](ServerConfig& c, const std::string& v) -> Expected<void> {
        c.*field = SplitList(v);
        return {};
    };
}

const std::map<std::string, Setter>& Table() {
    static const std::map<std::string, Setter> table = {
        {"host", Str(&ServerConfig::host)},
        {"port", Int(&ServerConfig::port, 1, 65535)},
        {"io_threads", Int(&ServerConfig::io_threads, 1, 16)},
        {"workers", Int(&ServerConfig::workers, 0, 64)},
        {"queue_capacity", Int(&ServerConfig::queue_capacity, 0, 10000)},
        {"max_connections", Int(&ServerConfig::max_connections, 1, 100000)},
        {"header_limit_bytes", Int(&ServerConfig::header_limit_bytes, 1024, 1 << 20)},
        {"max_json_bytes", Int(&ServerConfig::max_json_bytes, 1024, 256 << 20)},
        {"max_image_bytes", Int(&ServerConfig::max_image_bytes, 1024, 256 << 20)},
        {"max_video_bytes", Int(&ServerConfig::max_video_bytes, 1024, 1 << 30)},
        {"max_small_body_bytes", Int(&ServerConfig::max_small_body_bytes, 256, 16 << 20)},
        {"request_timeout_seconds", Int(&ServerConfig::request_timeout_seconds, 1, 3600)},
        {"idle_timeout_seconds", Int(&ServerConfig::idle_timeout_seconds, 1, 3600)},
        {"shutdown_grace_seconds", Int(&ServerConfig::shutdown_grace_seconds, 0, 600)},
        {"api_keys", List(&ServerConfig::api_keys)},
        {"cors_origins", List(&ServerConfig::cors_origins)},
        {"confidence_threshold", Real(&ServerConfig::confidence_threshold, 0, 1, &Self)},
        {"liveness_threshold", Real(&ServerConfig::liveness_threshold, 0, 1, &Self)},
        {"c_liveness_threshold", Real(&CompatCThresholds::liveness, 0, 1, &CompatC)},
        {"c_angle_threshold", Real(&CompatCThresholds::angle, 0, 180, &CompatC)},
        {"c_occlusion_threshold", Real(&CompatCThresholds::occlusion, 0, 1, &CompatC)},
        {"c_eye_closed_threshold", Real(&CompatCThresholds::eye_closed, 0, 1, &CompatC)},
        {"c_mouth_open_threshold", Real(&CompatCThresholds::mouth_open, 0, 1, &CompatC)},
        {"c_small_eye_dist", Real(&CompatCThresholds::small_eye_dist, 0, 10000, &CompatC)},
        {"c_border_rate", Real(&CompatCThresholds::border_rate, 0, 0.5, &CompatC)},
        {"c_quality_low", Real(&CompatCThresholds::quality_low, 0, 1, &CompatC)},
        {"c_quality_high", Real(&CompatCThresholds::quality_high, 0, 1, &CompatC)},
        {"c_luminance_dark", Real(&CompatCThresholds::luminance_dark, 0, 255, &CompatC)},
        {"c_luminance_light", Real(&CompatCThresholds::luminance_light, 0, 255, &CompatC)},
        {"licence_public_key", Str(&ServerConfig::licence_public_key)},
        {"licence_file", Str(&ServerConfig::licence_file)},
        {"model_dir", Str(&ServerConfig::model_dir)},
        {"web_root", Str(&ServerConfig::web_root)},
        {"detect_max_side", Int(&ServerConfig::detect_max_side, 0, 8192)},
        {"max_video_seconds", Real(&ServerConfig::max_video_seconds, 0.5, 600, &Self)},
        {"log_level", Str(&ServerConfig::log_level)},
        {"required_successes", Int(&ServerConfig::required_successes, 1, 10)},
        {"challenge_timeout", Real(&ServerConfig::challenge_timeout, 0.5, 600, &Self)},
        {"session_timeout", Real(&ServerConfig::session_timeout, 1, 3600, &Self)},
        {"ws_idle_timeout", Real(&ServerConfig::ws_idle_timeout, 0.5, 3600, &Self)},
        {"max_wrong_attempts", Int(&ServerConfig::max_wrong_attempts, 1, 100)},
        {"challenges", Str(&ServerConfig::challenges)},
        {"center_yaw", Real(&ServerConfig::center_yaw, 1, 90, &Self)},
        {"center_pitch", Real(&ServerConfig::center_pitch, 1, 90, &Self)},
        {"action_yaw", Real(&ServerConfig::action_yaw, 1, 90, &Self)},
        {"action_pitch", Real(&ServerConfig::action_pitch, 1, 90, &Self)},
        {"action_hold_frames", Int(&ServerConfig::action_hold_frames, 1, 30)},
        {"ws_max_message_bytes", Int(&ServerConfig::ws_max_message_bytes, 1024, 64 << 20)},
        {"ws_max_frame_pixels", Int(&ServerConfig::ws_max_frame_pixels, 1024, 40000000)},
        {"ws_passive_every", Int(&ServerConfig::ws_passive_every, 1, 100)},
        {"ws_max_sessions", Int(&ServerConfig::ws_max_sessions, 1, 10000)},
    };
    return table;
}

std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

}  // namespace

std::vector<std::string> ServerConfig::Keys() {
    std::vector<std::string> keys;
    for (const auto& [k, _] : Table()) keys.push_back(k);
    return keys;
}

Expected<void> ServerConfig::Set(const std::string& key, const std::string& value) {
    const auto it = Table().find(key);
    if (it == Table().end()) return Bad(key, "unknown setting");
    auto r = it->second(*this, value);
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
                text += item.is_string() ? item.get<std::string>() : item.dump();
            }
        } else {
            text = value.dump();
        }
        auto r = Set(key, text);
        if (!r) return r;
    }
    return {};
}

Expected<void> ServerConfig::ApplyEnvironment() {
    // The seeds' own variables first, so that LIVEPROOF_* (more specific) wins over them.
    if (const char* v = std::getenv("API_KEY"); v && *v) api_keys = SplitList(v);
    if (const char* v = std::getenv("MODEL_PATH"); v && *v) {
        // System B's MODEL_PATH names a model file; ours is a folder: accept either.
        std::filesystem::path p(v);
        model_dir = std::filesystem::is_regular_file(p) ? p.parent_path().string() : p.string();
    }
    if (const char* v = std::getenv("CONFIDENCE_THRESHOLD"); v && *v) {
        auto r = Set("confidence_threshold", v);
        if (!r) return r;
    }
    for (const auto& [key, _] : Table()) {
        const std::string name = "LIVEPROOF_" + Upper(key);
        if (const char* v = std::getenv(name.c_str()); v != nullptr) {
            auto r = Set(key, v);
            if (!r) return MakeError(ErrorCode::InvalidArgument, name + ": " + r.error().detail);
        }
    }
    // The engine's own variable name for the model folder.
    if (const char* v = std::getenv("LIVEPROOF_MODEL_DIR"); v && *v) model_dir = v;
    return {};
}

Expected<void> ServerConfig::Finalize() {
    if (workers == 0) workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (queue_capacity == 0) queue_capacity = 2 * workers;  // waits stay within ~2 service times
    if (compat_c.quality_low > compat_c.quality_high) {
        return Bad("c_quality_low", "must not exceed c_quality_high");
    }
    if (compat_c.luminance_dark > compat_c.luminance_light) {
        return Bad("c_luminance_dark", "must not exceed c_luminance_light");
    }
    for (const auto& k : api_keys) {
        if (k.size() < 8) return Bad("api_keys", "each key must have at least 8 characters");
    }
    return {};
}

nlohmann::json ServerConfig::ToJson() const {
    nlohmann::json j = {
        {"host", host},
        {"port", port},
        {"io_threads", io_threads},
        {"workers", workers},
        {"queue_capacity", queue_capacity},
        {"max_connections", max_connections},
        {"header_limit_bytes", header_limit_bytes},
        {"max_json_bytes", max_json_bytes},
        {"max_image_bytes", max_image_bytes},
        {"max_video_bytes", max_video_bytes},
        {"max_small_body_bytes", max_small_body_bytes},
        {"request_timeout_seconds", request_timeout_seconds},
        {"idle_timeout_seconds", idle_timeout_seconds},
        {"shutdown_grace_seconds", shutdown_grace_seconds},
        {"api_keys", std::to_string(api_keys.size()) + " key(s), not shown"},
        {"cors_origins", cors_origins},
        {"confidence_threshold", confidence_threshold},
        {"liveness_threshold", liveness_threshold},
        {"c_liveness_threshold", compat_c.liveness},
        {"c_angle_threshold", compat_c.angle},
        {"c_occlusion_threshold", compat_c.occlusion},
        {"c_eye_closed_threshold", compat_c.eye_closed},
        {"c_mouth_open_threshold", compat_c.mouth_open},
        {"c_small_eye_dist", compat_c.small_eye_dist},
        {"c_border_rate", compat_c.border_rate},
        {"c_quality_low", compat_c.quality_low},
        {"c_quality_high", compat_c.quality_high},
        {"c_luminance_dark", compat_c.luminance_dark},
        {"c_luminance_light", compat_c.luminance_light},
        {"licence_public_key", licence_public_key.empty() ? "" : "(set)"},
        {"licence_file", licence_file},
        {"model_dir", model_dir},
        {"web_root", web_root},
        {"detect_max_side", detect_max_side},
        {"max_video_seconds", max_video_seconds},
        {"log_level", log_level},
        {"required_successes", required_successes},
        {"challenge_timeout", challenge_timeout},
        {"session_timeout", session_timeout},
        {"ws_idle_timeout", ws_idle_timeout},
        {"max_wrong_attempts", max_wrong_attempts},
        {"challenges", challenges},
        {"center_yaw", center_yaw},
        {"center_pitch", center_pitch},
        {"action_yaw", action_yaw},
        {"action_pitch", action_pitch},
        {"action_hold_frames", action_hold_frames},
        {"ws_max_message_bytes", ws_max_message_bytes},
        {"ws_max_frame_pixels", ws_max_frame_pixels},
        {"ws_passive_every", ws_passive_every},
        {"ws_max_sessions", ws_max_sessions},
    };
    return j;
}

}  // namespace liveproof::server
