// The session API over the store: creation with its checks, the single run, the signed verdict,
// reads, deletion, listing, attempt limits and the sweeper.
#include "server/session_service.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_text.hpp"
#include "engine/models.hpp"
#include "server/public_url.hpp"

namespace liveproof::server {

namespace {

namespace fs = std::filesystem;
using store::SessionStatus;

constexpr std::size_t kMaxOpaqueChars = 256;  // nonce, external_ref
constexpr std::size_t kMaxDeviceChars = 128;
constexpr int kMaxAuditImages = 4;  // AWS's range is 0-4

std::string Hex(const unsigned char* bytes, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0xF];
    }
    return out;
}

std::string RandomHex(std::size_t bytes) {
    std::vector<unsigned char> b(bytes);
    randombytes_buf(b.data(), b.size());
    return Hex(b.data(), b.size());
}

std::string Sha256Hex(std::string_view text) {
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    return Hex(d, sizeof d);
}

// The client token: 256 random bits, base64url (what a browser puts in a query string).
std::string NewClientToken() {
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(out, sizeof out, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
    return out;
}

}  // namespace

bool ClientTokenMatches(const std::string& token_hash, const std::string& token) {
    const std::string hash = Sha256Hex(token);
    return token_hash.size() == hash.size() &&
           sodium_memcmp(token_hash.data(), hash.data(), hash.size()) == 0;
}

void KeepSessionImage(const nlohmann::json& settings, const challenge::Event& event,
                      const std::vector<std::uint8_t>& jpeg, const nlohmann::json& box,
                      std::vector<RunOutcome::Image>& images) {
    if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return;
    const bool want_reference = settings.value("reference_image", false);
    const int want_audit = settings.value("audit_images", 0);
    const bool has_reference = !images.empty() && images.front().kind == "reference";
    // The reference is the centred face that earned the first challenge; the audit images are
    // the frames that passed challenges (the decisive ones), up to the session's count.
    if (event.type == challenge::EventType::Challenge && want_reference && !has_reference) {
        images.insert(images.begin(), {"reference", jpeg, box});
        return;
    }
    const bool decisive =
        event.type == challenge::EventType::Success || event.type == challenge::EventType::Complete;
    const auto audits = static_cast<int>(images.size()) - (has_reference ? 1 : 0);
    if (decisive && audits < want_audit) images.push_back({"audit", jpeg, box});
}

namespace {

bool LooksLikeSessionId(const std::string& id) {
    return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string Iso8601(std::int64_t ms) {
    if (ms <= 0) return "";
    const std::time_t s = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[40];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

nlohmann::json TimeOrNull(std::int64_t ms) {
    return ms > 0 ? nlohmann::json(Iso8601(ms)) : nlohmann::json(nullptr);
}

HttpResponse Refuse(int status, const std::string& code, const std::string& detail) {
    return HttpResponse::Error(status, code, detail);
}

HttpResponse StoreError(const Error& e) {
    spdlog::error("session store: {}", PrintableUtf8(e.detail));
    HttpResponse r = Refuse(503, "store_unavailable", "the session store did not answer; retry");
    r.headers.emplace_back("Retry-After", "2");
    return r;
}

// A number field of the creation body within [lo, hi].
Expected<double> NumberField(const nlohmann::json& body, const char* key, double lo, double hi) {
    const auto& v = body[key];
    if (!v.is_number())
        return MakeError(ErrorCode::InvalidArgument, std::string(key) + ": expected a number");
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) {
        std::ostringstream m;
        m << key << ": expected " << lo << " to " << hi << " (the server's limits), got " << x;
        return MakeError(ErrorCode::InvalidArgument, m.str());
    }
    return x;
}

Expected<std::string> TextField(const nlohmann::json& body, const char* key, std::size_t max) {
    const auto& v = body[key];
    if (!v.is_string())
        return MakeError(ErrorCode::InvalidArgument, std::string(key) + ": expected a string");
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > max || !IsValidUtf8(s)) {
        return MakeError(ErrorCode::InvalidArgument,
                         std::string(key) + ": at most " + std::to_string(max) + " bytes of UTF-8");
    }
    return s;
}

// The creation body, checked field by field against the server's caps, as the session's
// settings (every field filled, so a run never needs the defaults again).
Expected<nlohmann::json> ParseCreateBody(const nlohmann::json& body, const ServerConfig& c) {
    static const std::vector<std::string> kKnown = {"mode",
                                                    "challenges",
                                                    "required_successes",
                                                    "challenge_timeout",
                                                    "session_timeout",
                                                    "audit_images",
                                                    "reference_image",
                                                    "nonce",
                                                    "external_ref",
                                                    "device_id",
                                                    "ttl"};
    for (const auto& [key, _] : body.items()) {
        if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
            return MakeError(ErrorCode::InvalidArgument,
                             "unknown field '" + PrintableUtf8(key) + "'");
        }
    }
    nlohmann::json s;
    s["mode"] = "active";
    if (body.contains("mode")) {
        auto m = TextField(body, "mode", 16);
        if (!m) return Unexpected{m.error()};
        if (*m != "active" && *m != "passive" && *m != "blink") {
            return MakeError(ErrorCode::InvalidArgument, "mode: expected active, passive or blink");
        }
        s["mode"] = *m;
    }
    std::vector<challenge::Direction> allowed = c.challenge.allowed;
    if (body.contains("challenges")) {
        std::string list;
        const auto& v = body["challenges"];
        if (v.is_string()) {
            list = v.get<std::string>();
        } else if (v.is_array() && v.size() <= 8) {
            for (const auto& item : v) {
                if (!item.is_string())
                    return MakeError(ErrorCode::InvalidArgument, "challenges: expected names");
                list += (list.empty() ? "" : ",") + item.get<std::string>();
            }
        } else {
            return MakeError(ErrorCode::InvalidArgument, "challenges: expected a list of names");
        }
        auto parsed = challenge::ParseChallengeList(list);
        if (!parsed)
            return MakeError(ErrorCode::InvalidArgument, "challenges: " + parsed.error().detail);
        allowed = *parsed;
    }
    nlohmann::json names = nlohmann::json::array();
    for (const auto d : allowed) names.push_back(challenge::DirectionName(d));
    s["challenges"] = names;
    s["required_successes"] = c.challenge.required_successes;
    if (body.contains("required_successes")) {
        auto n = NumberField(body, "required_successes", 1, 10);
        if (!n) return Unexpected{n.error()};
        if (*n != std::floor(*n))
            return MakeError(ErrorCode::InvalidArgument,
                             "required_successes: expected a whole number");
        s["required_successes"] = static_cast<int>(*n);
    }
    s["challenge_timeout"] = c.challenge.challenge_timeout_s;
    if (body.contains("challenge_timeout")) {
        auto n = NumberField(body, "challenge_timeout", 0.5, c.challenge.challenge_timeout_s);
        if (!n) return Unexpected{n.error()};
        s["challenge_timeout"] = *n;
    }
    s["session_timeout"] = c.challenge.session_timeout_s;
    if (body.contains("session_timeout")) {
        auto n = NumberField(body, "session_timeout", 1, c.challenge.session_timeout_s);
        if (!n) return Unexpected{n.error()};
        s["session_timeout"] = *n;
    }
    s["audit_images"] = 2;
    if (body.contains("audit_images")) {
        auto n = NumberField(body, "audit_images", 0, kMaxAuditImages);
        if (!n) return Unexpected{n.error()};
        if (*n != std::floor(*n))
            return MakeError(ErrorCode::InvalidArgument, "audit_images: expected a whole number");
        s["audit_images"] = static_cast<int>(*n);
    }
    s["reference_image"] = true;
    if (body.contains("reference_image")) {
        if (!body["reference_image"].is_boolean())
            return MakeError(ErrorCode::InvalidArgument, "reference_image: expected true or false");
        s["reference_image"] = body["reference_image"].get<bool>();
    }
    for (const auto& [key, max] :
         {std::pair{"nonce", kMaxOpaqueChars}, std::pair{"external_ref", kMaxOpaqueChars},
          std::pair{"device_id", kMaxDeviceChars}}) {
        s[key] = "";
        if (body.contains(key)) {
            auto t = TextField(body, key, max);
            if (!t) return Unexpected{t.error()};
            s[key] = *t;
        }
    }
    s["ttl"] = c.session_ttl;
    if (body.contains("ttl")) {
        auto n = NumberField(body, "ttl", 1, c.session_max_ttl);
        if (!n) return Unexpected{n.error()};
        s["ttl"] = *n;
    }
    // A session whose challenge cannot validate would fail at its first frame: refuse now.
    challenge::ChallengeConfig probe = c.challenge;
    probe.SetAllowed(allowed);
    probe.required_successes = s["required_successes"].get<int>();
    probe.challenge_timeout_s = s["challenge_timeout"].get<double>();
    probe.session_timeout_s = s["session_timeout"].get<double>();
    if (auto v = probe.Validate(); !v)
        return MakeError(ErrorCode::InvalidArgument, v.error().detail);
    return s;
}

// The digest of the model manifest every verdict names (which models judged it).
std::string ModelDigest(const std::string& model_dir) {
    std::ifstream in(fs::path(model_dir) / engine::kManifestName, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return in ? Sha256Hex(text.str()) : std::string();
}

std::string HostName() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "node";
    return name;
}

}  // namespace

std::int64_t UnixMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Expected<std::unique_ptr<SessionService>> SessionService::Open(ServerContext& ctx) {
    const ServerConfig& c = ctx.config;
    std::error_code ec;
    fs::create_directories(c.data_dir, ec);
    if (ec)
        return MakeError(ErrorCode::InvalidArgument,
                         "data_dir " + c.data_dir + ": " + ec.message());
    fs::permissions(c.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    const bool shared = StoreKindOf(c.store_url) == "postgresql";
    const std::string db = shared ? store::RedactedPgUrl(c.store_url)
                           : c.store_url.empty()
                               ? (fs::path(c.data_dir) / "liveproof.db").string()
                               : c.store_url.substr(std::string("sqlite:").size());
    auto store =
        shared ? store::OpenPostgresStore(c.store_url, static_cast<std::size_t>(c.store_pool_size))
               : store::OpenSqliteStore(db);
    if (!store) return Unexpected{store.error()};
    const std::string key_file = c.signing_key_file.empty()
                                     ? (fs::path(c.data_dir) / "signing_keys.json").string()
                                     : c.signing_key_file;
    bool created = false;
    auto keys = verdict::KeyRing::LoadOrCreate(key_file, &created);
    if (!keys) return MakeError(keys.error().code, "signing keys: " + keys.error().detail);
    if (created) {
        spdlog::warn(
            "no signing key file: created {} (kid {}); keep it, back it up, and give every "
            "node the same file",
            key_file, keys->active().kid);
    }
    auto service = std::unique_ptr<SessionService>(new SessionService(
        ctx, std::move(*store), std::move(*keys), ModelDigest(c.engine.model_dir)));
    auto interrupted = service->store_->InterruptRunning(service->node_, UnixMillis());
    if (!interrupted) return Unexpected{interrupted.error()};
    if (*interrupted > 0) {
        spdlog::warn(
            "{} session(s) this node left running when it stopped are now FAILED "
            "interrupted",
            *interrupted);
    }
    spdlog::info("sessions: store {} ({}), signing key {}", db, service->store_->kind(),
                 service->keys_.active().kid);
    return service;
}

SessionService::SessionService(ServerContext& ctx, std::unique_ptr<store::SessionStore> store,
                               verdict::KeyRing keys, std::string model_digest)
    : ctx_(ctx),
      store_(std::move(store)),
      keys_(std::move(keys)),
      model_digest_(std::move(model_digest)),
      node_(ctx.config.node_id.empty() ? HostName() : ctx.config.node_id) {
    sweeper_ = std::thread([this] { SweepLoop(); });
}

SessionService::~SessionService() {
    {
        std::lock_guard lock(sweep_mutex_);
        stopping_ = true;
    }
    sweep_wake_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
}

void SessionService::SweepLoop() {
    std::unique_lock lock(sweep_mutex_);
    while (!stopping_) {
        lock.unlock();
        try {
            Sweep();
        } catch (const std::exception& e) {
            spdlog::error("session sweeper: {}", PrintableUtf8(e.what()));
        } catch (...) {
            spdlog::error("session sweeper: a non-standard exception");
        }
        lock.lock();
        sweep_wake_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; });
    }
}

void SessionService::Sweep() {
    const std::int64_t now = UnixMillis();
    // A run lasts at most its session timeout; one still open well after that lost its node.
    const auto run_limit = static_cast<std::int64_t>(
        (ctx_.config.challenge.session_timeout_s + ctx_.config.stale_run_grace) * 1000);
    if (auto n = store_->ExpireDue(now, run_limit); !n) {
        spdlog::error("session sweeper: {}", PrintableUtf8(n.error().detail));
    } else if (*n > 0) {
        ctx_.metrics->Inc("liveproof_sessions_total", {{"event", "expired"}},
                          static_cast<double>(*n));
    }
    const auto keep = static_cast<std::int64_t>(ctx_.config.retention_hours * 3600 * 1000);
    if (auto n = store_->Purge(now - keep); !n) {
        spdlog::error("session retention: {}", PrintableUtf8(n.error().detail));
    }
}

void SessionService::Audit(const std::string& session_id, const std::string& action,
                           const std::string& key, const std::string& remote,
                           const std::string& detail) {
    store::AuditEvent e;
    e.at_ms = UnixMillis();
    e.session_id = session_id;
    e.action = action;
    e.key_id = key;
    e.remote = remote;
    e.detail = detail;
    if (auto r = store_->Audit(e); !r) {
        spdlog::error("audit trail: {}", PrintableUtf8(r.error().detail));
    }
}

std::optional<HttpResponse> SessionService::AttemptLockout(const std::string& key_id,
                                                           const std::string& device_id) {
    const ServerConfig& c = ctx_.config;
    const std::int64_t since = UnixMillis() - static_cast<std::int64_t>(c.attempt_window * 1000);
    const auto locked = [&](store::AttemptScope scope, const std::string& who, int max,
                            const char* what) -> std::optional<HttpResponse> {
        if (max <= 0 || who.empty()) return std::nullopt;
        auto n = store_->CountFailures(scope, who, since);
        if (!n) return StoreError(n.error());
        if (*n < max) return std::nullopt;
        ctx_.metrics->Inc("liveproof_sessions_total", {{"event", "locked_out"}});
        HttpResponse r = Refuse(429, "too_many_failures",
                                std::string(what) + " had " + std::to_string(*n) +
                                    " failed sessions in the last " +
                                    std::to_string(static_cast<int>(c.attempt_window)) +
                                    " s (limit " + std::to_string(max) + "); retry later");
        r.headers.emplace_back("Retry-After", std::to_string(static_cast<int>(c.attempt_window)));
        return r;
    };
    if (auto r = locked(store::AttemptScope::Device, device_id, c.attempt_max_failures,
                        "this device_id")) {
        return r;
    }
    return locked(store::AttemptScope::Key, key_id, c.attempt_max_key_failures, "this API key");
}

HttpResponse SessionService::Create(const HttpRequest& request) {
    nlohmann::json body = nlohmann::json::object();
    if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
        auto parsed = ParseJsonObject(request.body);
        if (!parsed) return Refuse(400, "invalid_json", parsed.error().detail);
        body = std::move(*parsed);
    }
    auto settings = ParseCreateBody(body, ctx_.config);
    if (!settings) return Refuse(400, "invalid_argument", settings.error().detail);
    const std::string device = (*settings)["device_id"].get<std::string>();
    if (auto lockout = AttemptLockout(request.key_id, device)) {
        Audit("", "refused", request.key_id, request.remote, "attempt limit");
        return *lockout;
    }
    const std::string token = NewClientToken();
    store::SessionRecord s;
    s.id = RandomHex(16);
    s.key_id = request.key_id;
    s.mode = (*settings)["mode"].get<std::string>();
    s.token_hash = Sha256Hex(token);
    s.device_id = device;
    s.nonce = (*settings)["nonce"].get<std::string>();
    s.external_ref = (*settings)["external_ref"].get<std::string>();
    s.settings_json = ToJsonText(*settings);
    s.created_ms = UnixMillis();
    s.expires_ms =
        s.created_ms + static_cast<std::int64_t>((*settings)["ttl"].get<double>() * 1000);
    if (auto r = store_->Create(s); !r) return StoreError(r.error());
    Audit(s.id, "created", request.key_id, request.remote, s.mode);
    ctx_.metrics->Inc("liveproof_sessions_total", {{"event", "created"}});

    const std::string base = PublicBaseUrl(request, ctx_.config);
    std::string ws_base = base;
    if (ws_base.rfind("https://", 0) == 0) {
        ws_base = "wss://" + ws_base.substr(8);
    } else if (ws_base.rfind("http://", 0) == 0) {
        ws_base = "ws://" + ws_base.substr(7);
    }
    nlohmann::ordered_json j;
    j["session_id"] = s.id;
    j["client_token"] = token;
    j["mode"] = s.mode;
    j["expires_at"] = Iso8601(s.expires_ms);
    j["ws_url"] = ws_base + "/v1/sessions/" + s.id + "/ws";
    // System A's polling door: /start then /frame, each with the client token.
    j["start_url"] = base + "/start?session_id=" + s.id;
    j["frame_url"] = base + "/frame?session_id=" + s.id;
    j["image_url"] = base + "/v1/sessions/" + s.id + "/image";
    j["video_url"] = base + "/v1/sessions/" + s.id + "/video";
    HttpResponse r;
    r.status = 201;
    r.body = ToJsonText(j);
    r.headers.emplace_back("Cache-Control", "no-store");  // the token is shown once
    r.headers.emplace_back("Location", "/v1/sessions/" + s.id);
    return r;
}

nlohmann::ordered_json SessionService::RecordJson(const store::SessionRecord& s,
                                                  const std::string& base) {
    nlohmann::ordered_json j;
    j["session_id"] = s.id;
    j["status"] = store::SessionStatusName(s.status);
    j["mode"] = s.mode;
    j["decision"] =
        s.decision.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.decision);
    j["reason"] =
        s.reason.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.reason);
    auto result = ParseJsonObject(s.result_json.empty() ? "{}" : s.result_json);
    const nlohmann::json r = result ? *result : nlohmann::json::object();
    j["confidence"] = r.value("confidence", nlohmann::json(nullptr));
    j["nonce"] = s.nonce;
    j["external_ref"] = s.external_ref;
    j["device_id"] = s.device_id;
    j["created_at"] = TimeOrNull(s.created_ms);
    j["expires_at"] = TimeOrNull(s.expires_ms);
    j["started_at"] = TimeOrNull(s.started_ms);
    j["finished_at"] = TimeOrNull(s.finished_ms);
    j["model_manifest_sha256"] = model_digest_;
    for (const char* key : {"challenges", "frames_received", "frames_analysed", "signals"}) {
        j[key] = r.value(key, nlohmann::json(nullptr));
    }
    auto settings = ParseJsonObject(s.settings_json.empty() ? "{}" : s.settings_json);
    j["settings"] = settings ? *settings : nlohmann::json::object();
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    if (auto list = store_->Images(s.id, false)) {
        for (const auto& im : *list) {
            auto box = ParseJson(im.box_json.empty() ? "null" : im.box_json);
            images.push_back(
                {{"index", im.index},
                 {"kind", im.kind},
                 {"box", box ? *box : nlohmann::json(nullptr)},
                 {"sha256", im.sha256_hex},
                 {"url", base + "/v1/sessions/" + s.id + "/images/" + std::to_string(im.index)}});
        }
    }
    j["images"] = images;
    j["verdict"] =
        s.verdict.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.verdict);
    nlohmann::ordered_json audit = nlohmann::ordered_json::array();
    if (auto trail = store_->AuditTrail(s.id)) {
        for (const auto& e : *trail) {
            audit.push_back({{"at", Iso8601(e.at_ms)},
                             {"action", e.action},
                             {"by", e.key_id},
                             {"from", e.remote},
                             {"detail", e.detail}});
        }
    }
    j["audit"] = audit;
    return j;
}

HttpResponse SessionService::Read(const HttpRequest& request, const std::string& id) {
    if (!LooksLikeSessionId(id)) return Refuse(404, "not_found", "no such session");
    auto s = store_->Get(id);
    if (!s) return StoreError(s.error());
    // Another key's session is as unknown as one that never existed.
    if (!*s || (*s)->key_id != request.key_id) return Refuse(404, "not_found", "no such session");
    Audit(id, "read", request.key_id, request.remote, "");
    HttpResponse r;
    r.body = ToJsonText(RecordJson(**s, PublicBaseUrl(request, ctx_.config)));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

HttpResponse SessionService::ReadImage(const HttpRequest& request, const std::string& id,
                                       int index) {
    if (!LooksLikeSessionId(id)) return Refuse(404, "not_found", "no such session");
    auto s = store_->Get(id);
    if (!s) return StoreError(s.error());
    if (!*s || (*s)->key_id != request.key_id) return Refuse(404, "not_found", "no such session");
    auto image = store_->Image(id, index);
    if (!image) return StoreError(image.error());
    if (!*image)
        return Refuse(404, "not_found", "this session has no image " + std::to_string(index));
    Audit(id, "image_read", request.key_id, request.remote, std::to_string(index));
    HttpResponse r;
    r.content_type = "image/jpeg";
    r.body.assign((*image)->jpeg.begin(), (*image)->jpeg.end());
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

HttpResponse SessionService::Remove(const HttpRequest& request, const std::string& id) {
    if (!LooksLikeSessionId(id)) return Refuse(404, "not_found", "no such session");
    auto s = store_->Get(id);
    if (!s) return StoreError(s.error());
    if (!*s || (*s)->key_id != request.key_id) return Refuse(404, "not_found", "no such session");
    auto removed = store_->Delete(id);
    if (!removed) return StoreError(removed.error());
    Audit(id, "deleted", request.key_id, request.remote, "");
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

HttpResponse SessionService::List(const HttpRequest& request) {
    store::ListQuery q;
    q.key_id = request.key_id;
    if (const auto status = request.Query("status")) {
        q.status = store::ParseSessionStatus(*status);
        if (!q.status) {
            return Refuse(400, "invalid_argument",
                          "status: expected CREATED, IN_PROGRESS, SUCCEEDED, FAILED or EXPIRED");
        }
    }
    const auto whole = [&](const char* name, long long lo, long long hi,
                           long long fallback) -> std::optional<long long> {
        const auto v = request.Query(name);
        if (!v) return fallback;
        long long x = 0;
        const auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
        if (ec != std::errc() || ptr != v->data() + v->size() || x < lo || x > hi)
            return std::nullopt;
        return x;
    };
    const auto since = whole("since", 0, 1LL << 50, 0);
    if (!since) return Refuse(400, "invalid_argument", "since: expected Unix milliseconds");
    const auto limit = whole("limit", 1, ctx_.config.session_list_max, 50);
    if (!limit) {
        return Refuse(400, "invalid_argument",
                      "limit: expected 1 to " + std::to_string(ctx_.config.session_list_max));
    }
    q.since_ms = *since;
    q.limit = static_cast<std::size_t>(*limit);
    q.cursor = request.Query("cursor").value_or("");
    auto page = store_->List(q);
    if (!page) {
        if (page.error().code == ErrorCode::InvalidArgument)
            return Refuse(400, "invalid_argument", page.error().detail);
        return StoreError(page.error());
    }
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const auto& s : page->sessions) {
        items.push_back(
            {{"session_id", s.id},
             {"status", store::SessionStatusName(s.status)},
             {"mode", s.mode},
             {"decision",
              s.decision.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.decision)},
             {"reason", s.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.reason)},
             {"external_ref", s.external_ref},
             {"created_at", TimeOrNull(s.created_ms)},
             {"finished_at", TimeOrNull(s.finished_ms)}});
    }
    nlohmann::ordered_json j;
    j["sessions"] = items;
    j["next_cursor"] = page->next_cursor.empty() ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json(page->next_cursor);
    HttpResponse r;
    r.body = ToJsonText(j);
    return r;
}

HttpResponse SessionService::Jwks() const {
    HttpResponse r = HttpResponse::Json(200, keys_.Jwks());
    r.content_type = "application/jwk-set+json";
    r.headers.emplace_back("Cache-Control", "max-age=300");
    return r;
}

std::variant<store::SessionRecord, HttpResponse> SessionService::CheckToken(
    const std::string& id, const std::string& token, const std::string& remote) {
    if (token.empty()) {
        return Refuse(401, "unauthorized", "the session's client token is required (?token=)");
    }
    if (!LooksLikeSessionId(id)) return Refuse(404, "not_found", "no such session");
    auto s = store_->Get(id);
    if (!s) return StoreError(s.error());
    if (!*s) return Refuse(404, "not_found", "no such session");
    // Checked before anything about the session is revealed.
    if (!ClientTokenMatches((*s)->token_hash, token)) {
        Audit(id, "refused", "client", remote, "wrong token");
        return Refuse(401, "unauthorized", "this token does not belong to this session");
    }
    return std::move(**s);
}

std::variant<SessionRun, HttpResponse> SessionService::BeginRun(const std::string& id,
                                                                const std::string& token,
                                                                std::string_view mode,
                                                                const std::string& remote) {
    auto checked = CheckToken(id, token, remote);
    if (auto* refusal = std::get_if<HttpResponse>(&checked)) return std::move(*refusal);
    const auto s =
        std::optional<store::SessionRecord>(std::get<store::SessionRecord>(std::move(checked)));
    if (s->mode != mode) {
        return Refuse(409, "wrong_mode",
                      "this is a " + s->mode + " session; use its " + s->mode + " door");
    }
    auto started = store_->Start(id, Sha256Hex(token), node_, UnixMillis());
    if (!started) return StoreError(started.error());
    switch (*started) {
        case store::StartOutcome::Started:
            break;
        case store::StartOutcome::NotFound:
            return Refuse(404, "not_found", "no such session");
        case store::StartOutcome::BadToken:
            return Refuse(401, "unauthorized", "this token does not belong to this session");
        case store::StartOutcome::AlreadyStarted:
            Audit(id, "refused", "client", remote, "second run");
            return Refuse(409, "already_used", "this session has already been run; create another");
        case store::StartOutcome::Expired:
            return Refuse(410, "expired", "this session expired before it was run");
    }
    Audit(id, "started", "client", remote, std::string(mode));
    ctx_.metrics->Inc("liveproof_sessions_total", {{"event", "started"}});
    SessionRun run;
    run.record = *s;
    run.record.status = SessionStatus::InProgress;
    auto settings = ParseJsonObject(run.record.settings_json);
    run.settings = settings ? *settings : nlohmann::json::object();
    return run;
}

Expected<SessionRun> SessionService::BeginAnonymous(const std::string& key_id,
                                                    const std::string& remote,
                                                    std::string_view door) {
    store::SessionRecord s;
    s.id = RandomHex(16);
    s.key_id = key_id;
    s.mode = "active";
    // A token nobody knows: the session exists only for this run.
    s.token_hash = Sha256Hex(NewClientToken());
    s.created_ms = UnixMillis();
    s.expires_ms = s.created_ms + 60 * 1000;
    nlohmann::json settings = {
        {"mode", "active"}, {"door", door}, {"audit_images", 0}, {"reference_image", false}};
    s.settings_json = ToJsonText(settings);
    if (auto r = store_->Create(s); !r) return Unexpected{r.error()};
    auto started = store_->Start(s.id, s.token_hash, node_, s.created_ms);
    if (!started) return Unexpected{started.error()};
    if (*started != store::StartOutcome::Started) {
        return MakeError(ErrorCode::Internal, "a new anonymous session did not start");
    }
    Audit(s.id, "started", key_id, remote, std::string(door));
    SessionRun run;
    run.record = s;
    run.record.status = SessionStatus::InProgress;
    run.settings = settings;
    run.anonymous = true;
    return run;
}

Expected<std::string> SessionService::FinishRun(const SessionRun& run, RunOutcome outcome) {
    const std::int64_t now = UnixMillis();
    nlohmann::json image_digests = nlohmann::json::array();
    std::vector<store::StoredImage> images;
    for (auto& im : outcome.images) {
        store::StoredImage s;
        s.index = static_cast<int>(images.size());
        s.kind = im.kind;
        s.box_json = ToJsonText(im.box);
        s.sha256_hex = Sha256Hex(
            std::string_view(reinterpret_cast<const char*>(im.jpeg.data()), im.jpeg.size()));
        s.jpeg = std::move(im.jpeg);
        image_digests.push_back(s.sha256_hex);
        images.push_back(std::move(s));
    }
    // A run ended before any frame (abandoned, refused) has no details at all.
    const nlohmann::json challenges =
        outcome.details.is_object() ? outcome.details.value("challenges", nlohmann::json::array())
                                    : nlohmann::json::array();
    nlohmann::json claims;
    claims["iss"] = ctx_.config.verdict_issuer;
    claims["aud"] = ctx_.config.verdict_audience;
    claims["sub"] = run.record.id;
    claims["iat"] = now / 1000;
    claims["exp"] = now / 1000 + static_cast<std::int64_t>(ctx_.config.verdict_ttl);
    claims["jti"] = RandomHex(16);
    claims["nonce"] = run.record.nonce;
    claims["external_ref"] = run.record.external_ref;
    claims["decision"] = outcome.decision;
    claims["reason"] =
        outcome.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(outcome.reason);
    claims["confidence"] =
        outcome.confidence ? nlohmann::json(*outcome.confidence) : nlohmann::json(nullptr);
    claims["mode"] = run.record.mode;
    claims["challenges"] = challenges;
    claims["audit_images_sha256"] = image_digests;
    claims["model_manifest_sha256"] = model_digest_;
    // Which calibrated thresholds judged the run (null: the defaults).
    const nlohmann::json& point = ctx_.config.operating_point_summary;
    claims["operating_point"] =
        point.is_object() ? nlohmann::json{{"name", point["name"]}, {"sha256", point["sha256"]}}
                          : nlohmann::json(nullptr);
    const std::string jws = keys_.Sign(claims);

    nlohmann::ordered_json result = outcome.details;
    result["confidence"] = claims["confidence"];
    // Images first: once the state is terminal the session is complete as read.
    for (const auto& im : images) {
        if (auto r = store_->PutImage(run.record.id, im); !r) return Unexpected{r.error()};
    }
    store::Terminal t;
    t.status = outcome.decision == "live" ? SessionStatus::Succeeded : SessionStatus::Failed;
    t.decision = outcome.decision;
    t.reason = outcome.reason;
    t.result_json = ToJsonText(result);
    t.verdict = jws;
    t.finished_ms = now;
    auto finished = store_->Finish(run.record.id, t);
    if (!finished) return Unexpected{finished.error()};
    if (!*finished) {
        return MakeError(ErrorCode::InvalidArgument,
                         "the session was no longer in progress (expired, interrupted or deleted)");
    }
    Audit(run.record.id, outcome.decision == "live" ? "completed" : "failed", "client", "",
          outcome.reason);
    ctx_.metrics->Inc("liveproof_sessions_total",
                      {{"event", outcome.decision == "live" ? "succeeded" : "failed"}});
    return jws;
}

RunOutcome ChallengeOutcome(const challenge::Event& last, const active::ChallengeRun& run,
                            const active::ReplaySignals& signals, int frames_analysed) {
    RunOutcome o;
    if (last.type == challenge::EventType::Complete) {
        o.decision = "live";
    } else if (last.reason == challenge::FailReason::SpoofDetected ||
               last.reason == challenge::FailReason::InjectionSuspected ||
               last.reason == challenge::FailReason::TooFast) {
        // Evidence of an attack (the model, the frames' source, a reaction no person has), not
        // a run that merely did not finish: the integrator's backend counts these differently.
        o.decision = "spoof";
        o.reason = std::string(challenge::FailReasonName(*last.reason));
    } else {
        o.decision = "failed";
        o.reason = last.reason ? std::string(challenge::FailReasonName(*last.reason)) : "unknown";
    }
    const StreamEvidence evidence = run.evidence();
    if (evidence.frames_scored > 0) o.confidence = evidence.mean_p_real;
    nlohmann::ordered_json recorded = signals.ToJson(run.session());
    o.details["challenges"] = recorded["challenges"];
    o.details["frames_received"] = signals.frames();
    o.details["frames_analysed"] = frames_analysed;
    o.details["frames_scored"] = evidence.frames_scored;
    recorded.erase("challenges");
    o.details["signals"] = recorded;
    return o;
}

challenge::ChallengeConfig SessionService::ChallengeFor(const SessionRun& run) const {
    challenge::ChallengeConfig c = ctx_.config.challenge;
    const nlohmann::json& s = run.settings;
    if (s.contains("challenges") && s["challenges"].is_array()) {
        std::string list;
        for (const auto& n : s["challenges"]) {
            if (n.is_string()) list += (list.empty() ? "" : ",") + n.get<std::string>();
        }
        if (auto parsed = challenge::ParseChallengeList(list)) c.SetAllowed(*parsed);
    }
    if (s.contains("required_successes") && s["required_successes"].is_number_integer())
        c.required_successes = s["required_successes"].get<int>();
    if (s.contains("challenge_timeout") && s["challenge_timeout"].is_number())
        c.challenge_timeout_s = s["challenge_timeout"].get<double>();
    if (s.contains("session_timeout") && s["session_timeout"].is_number())
        c.session_timeout_s = s["session_timeout"].get<double>();
    if (!run.anonymous) {
        // A backend's session is judged by the replay rules too (docs/sessions.md).
        c.min_action_s = std::max(c.min_action_s, ctx_.config.session_min_action_seconds);
        c.min_transition_frames =
            std::max(c.min_transition_frames, ctx_.config.session_min_transition_frames);
    }
    return c;
}

}  // namespace liveproof::server
