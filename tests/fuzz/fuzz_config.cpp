// libFuzzer target: server settings (src/server/server_config): config file text, --set pairs and
// the environment; nothing throws, secrets are never shown, printed settings read back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_text.hpp"
#include "engine/operating_point.hpp"
#include "fuzz_support.hpp"
#include "server/server_config.hpp"

namespace {

using liveproof::fuzz::Fail;
using liveproof::server::ServerConfig;

// Every setting name, from the settings' own table (ToJson shows each key once).
const std::vector<std::string>& Keys() {
    static const std::vector<std::string> keys = [] {
        liveproof::fuzz::QuietProcess();
        std::vector<std::string> out;
        const nlohmann::json shown = ServerConfig{}.ToJson();
        for (const auto& [k, v] : shown.items()) out.push_back(k);
        return out;
    }();
    return keys;
}

std::string EnvName(std::string_view name) {
    for (const char* seed : {"API_KEY", "MODEL_PATH", "CONFIDENCE_THRESHOLD", "ENABLE_METRICS",
                             "PORT", "FACESDK_PORT", "FACESDK_BIND_HOST"}) {
        if (name == seed) return std::string(name);
    }
    std::string upper = "LIVEPROOF_";
    for (const char c : name)
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const auto& k : Keys()) {
        std::string want = "LIVEPROOF_";
        for (const char c : k)
            want += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        // "port=1" and "LIVEPROOF_PORT=1" both name LIVEPROOF_PORT.
        if (upper == want || name == want) return want;
    }
    return "";
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        const auto p = s.find(sep);
        out.push_back(s.substr(0, p));
        if (p == std::string_view::npos) return out;
        s.remove_prefix(p + 1);
    }
}

bool Blank(std::string_view v) { return v.find_first_not_of(" \t") == std::string_view::npos; }

void CheckShown(const ServerConfig& c, std::string_view where) {
    const nlohmann::json j = c.ToJson();
    // Keys and the licence key are shown only as a count / "(set)" (README: never printed).
    const auto& keys = j.at("api_keys");
    if (!keys.is_string() ||
        keys.get<std::string>() != std::to_string(c.api_keys.size()) + " key(s), not shown")
        Fail(where, "api_keys shown: " + liveproof::ToJsonText(keys));
    const auto& pk = j.at("licence_public_key");
    if (!pk.is_string() || (pk != "" && pk != "(set)")) Fail(where, "licence key shown");
    // `liveproof serve --print-config` prints ToJsonText(ToJson(), 2): valid UTF-8 JSON text
    // even when a setting (a path) holds bytes that are not UTF-8, which are replaced there.
    liveproof::fuzz::RequireJsonText(liveproof::ToJsonText(j, 2), where);
}

// What Finalize() promises for a server that starts.
void CheckFinal(const ServerConfig& c) {
    if (c.engine.workers < 1 || c.engine.workers > 64) Fail("finalize", "workers out of range");
    if (c.queue_capacity < 1) Fail("finalize", "queue_capacity < 1");
    for (const auto& k : c.api_keys) {
        if (k.size() < 8) Fail("finalize", "a short API key was accepted");
    }
    if (c.compat_c.quality_low > c.compat_c.quality_high) Fail("finalize", "quality order");
    if (c.compat_c.luminance_dark > c.compat_c.luminance_light) Fail("finalize", "luminance");
    if (!c.challenge.Validate()) Fail("finalize", "challenges invalid");
    if (c.stream.detect_max_side != 0 && c.stream.detect_max_side < 64) Fail("finalize", "ws side");
    if (c.stream.liveness_threshold != c.engine.liveness_threshold)
        Fail("finalize", "the stream's threshold is not the engine's");
}

// The printed settings (secrets aside) are a config file that gives the same settings back.
void CheckReadBack(const ServerConfig& c) {
    nlohmann::json shown = c.ToJson();
    shown.erase("api_keys");
    shown.erase("licence_public_key");
    ServerConfig again;
    again.api_keys = c.api_keys;
    again.licence_public_key = c.licence_public_key;
    if (auto r = again.ApplyJson(shown); !r) Fail("read back", r.error().detail);
    if (auto r = again.Finalize(); !r) Fail("read back finalize", r.error().detail);
    if (again.ToJson() != c.ToJson())
        Fail("read back",
             "printed settings read back differently: " + liveproof::ToJsonText(again.ToJson()) +
                 " vs " + liveproof::ToJsonText(c.ToJson()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Keys();
    // Sections separated by NUL: config file text (also parsed as an operating point file),
    // KEY=VALUE lines for Set (--set), NAME=VALUE lines for the environment (NAME a setting
    // name, LIVEPROOF_<KEY>, or one of the seeds' variables).
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const auto sections = Split(all, '\0');
    std::vector<std::string> set_env;
    try {
        ServerConfig c;
        bool ok = true;
        const std::string file(sections[0]);  // exact-size copy: ASan sees over-reads
        // The same text as an operating point file (engine/operating_point): accepted only with
        // both thresholds in [0, 1] and a name, never thrown out of.
        if (auto point = liveproof::engine::ParseOperatingPoint(file, "")) {
            if (!(point->liveness_threshold >= 0 && point->liveness_threshold <= 1) ||
                !(point->c_liveness_threshold >= 0 && point->c_liveness_threshold <= 1) ||
                point->name.empty()) {
                Fail("operating point", "accepted a point outside its rules");
            }
            (void)liveproof::engine::OperatingPointSummary(*point).dump();
        }
        if (auto r = c.ApplyJsonText(file, "fuzz"); !r) {
            if (r.error().code != liveproof::ErrorCode::InvalidArgument) Fail("file", "code");
            ok = false;
        }
        CheckShown(c, "after file");
        if (sections.size() > 1) {
            for (const auto line : Split(sections[1], '\n')) {
                const auto eq = line.find('=');
                if (eq == std::string_view::npos) continue;
                const std::string key(line.substr(0, eq)), value(line.substr(eq + 1));
                const nlohmann::json before = c.ToJson();
                const auto keys_before = c.api_keys;
                auto r = c.Set(key, value);
                if (!r) {
                    ok = false;
                    if (c.api_keys != keys_before || c.ToJson() != before)
                        Fail("set", "a refused value changed a setting");
                } else if (key == "api_keys" && !Blank(value) && c.api_keys.empty()) {
                    Fail("set", "a non-blank key list switched authentication off");
                }
            }
            CheckShown(c, "after set");
        }
        if (sections.size() > 2) {
            // A variable set twice keeps its last value: only that decides whether keys were
            // given (the first long run flagged "KEYS=k" then "KEYS=  " as a lost key).
            std::map<std::string, std::string> final_value;
            for (const auto line : Split(sections[2], '\n')) {
                const auto eq = line.find('=');
                if (eq == std::string_view::npos) continue;
                const std::string name = EnvName(line.substr(0, eq));
                if (name.empty()) continue;
                const std::string value(line.substr(eq + 1));
                setenv(name.c_str(), value.c_str(), 1);
                set_env.push_back(name);
                final_value[name] = value;
            }
            bool api_key_given = false;
            for (const char* name : {"API_KEY", "LIVEPROOF_API_KEYS"}) {
                const auto it = final_value.find(name);
                if (it != final_value.end() && !Blank(it->second)) api_key_given = true;
            }
            const bool had_keys = !c.api_keys.empty();
            if (auto r = c.ApplyEnvironment(); !r) {
                ok = false;
            } else if ((api_key_given || had_keys) && c.api_keys.empty()) {
                // An empty variable counts as unset, and so does one of blanks
                // (api_keys_blank_env, fixed): keys given elsewhere stay on.
                Fail("environment", "a blank key variable switched authentication off");
            }
            for (const auto& n : set_env) unsetenv(n.c_str());
            set_env.clear();
            CheckShown(c, "after environment");
        }
        if (ok && c.Finalize()) {
            CheckFinal(c);
            CheckShown(c, "after finalize");
            CheckReadBack(c);
        }
    } catch (const std::exception& e) {
        Fail("config threw", e.what());
    }
    for (const auto& n : set_env) unsetenv(n.c_str());
    return 0;
}
