// The server's settings and how they are layered: defaults < config file < environment < flags.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "active/replay_signals.hpp"
#include "liveproof/challenge_config.hpp"
#include "liveproof/expected.hpp"
#include "liveproof/face_stream.hpp"
#include "liveproof/options.hpp"

namespace liveproof::server {

/// @brief System C's decision thresholds (docs/compat.md §3.3), all configurable.
struct CompatCThresholds {
    float liveness = 0.7f;          ///< result "Real" iff liveness > this
    float angle = 10.0f;            ///< is_not_front unless |yaw|,|roll|,|pitch| < this
    float occlusion = 0.9f;         ///< is_occluded iff face_occlusion > this
    float eye_closed = 0.8f;        ///< eye_closed iff either eye > this
    float mouth_open = 0.5f;        ///< mouth_opened iff > this
    float quality_low = 0.3f;       ///< quality "Low" below this
    float quality_high = 0.7f;      ///< "Medium" below this, else "High"
    float luminance_dark = 50.f;    ///< "Dark" below this
    float luminance_light = 200.f;  ///< "Normal" below this, else "Light"
};

/// @brief The engine settings a server starts with: the engine's own defaults except where a
/// service needs tighter ones (a request must not hold a worker for long, and bodies are capped
/// by the transport before the engine sees them).
EngineOptions ServerEngineDefaults();

/// @brief Every server setting, with its default. Settings that belong to the engine, the
/// challenge or the stream core live in their own structs (engine, challenge, stream), whose
/// defaults are written once there; the setting table points into them.
struct ServerConfig {
    std::string host = "0.0.0.0";  ///< listen address
    int port = 8001;               ///< listen port (system A/B compose default)
    int io_threads = 1;            ///< Asio threads (network only)
    int queue_capacity = 0;        ///< waiting inference jobs; 0 = 2 x workers
    /// How long a request for the workers may wait, body unread, for one of the workers +
    /// queue_capacity admission slots before it is answered 503 (AdmissionGate).
    int admission_wait_ms = 2000;
    bool pin_workers = false;             ///< pin inference worker i to CPU i (WorkerThreadOptions)
    int max_connections = 256;            ///< open connections; more get 503 and are closed
    int max_connections_per_client = 16;  ///< open connections from one client address
    int header_limit_bytes = 16 * 1024;   ///< request line + headers
    int max_json_bytes = 24 << 20;        ///< JSON bodies (base64 images)
    int max_small_body_bytes = 64 * 1024;   ///< bodies of non-media routes
    int request_timeout_seconds = 30;       ///< time to receive one whole request
    int idle_timeout_seconds = 60;          ///< keep-alive idle time
    int header_timeout_seconds = 10;        ///< a new connection's first request header
    int shutdown_grace_seconds = 20;        ///< SIGTERM: time given to in-flight requests
    std::vector<std::string> api_keys;      ///< empty = auth off
    std::vector<std::string> cors_origins;  ///< allowed Origins; empty = same origin only
    /// Front doors callers may use without a key when api_keys are set (front_doors.hpp):
    /// system_a, system_b, system_c, licence, native, metrics. Empty = every door needs a key.
    std::vector<std::string> public_routes;
    bool metrics_enabled = true;         ///< false: GET /metrics is 404 (system B's ENABLE_METRICS)
    float confidence_threshold = 0.85f;  ///< system B: requires_active_check below this
    CompatCThresholds compat_c;          ///< system C's face_state rules
    std::string licence_public_key;      ///< base64 Ed25519 key; empty = no enforcement
    std::string licence_file;            ///< where an accepted licence is kept
    /// A file of `liveproof calibrate` ("" = none): its thresholds replace liveness_threshold
    /// and c_liveness_threshold; GET / and every verdict name it (operating_point_summary).
    std::string operating_point;
    nlohmann::json operating_point_summary;  ///< set by Finalize; null without a file
    std::string web_root;                    ///< built web assets (openapi.json, docs/)
    std::string log_level = "info";          ///< trace, debug, info, warn, error
    double video_slice_seconds = 0.5;        ///< longest a video holds a worker at a time

    /// The engine: models, workers (0 = one per core), detector side, liveness threshold, media
    /// caps (limits.max_image_bytes and max_video_bytes are also the transport's body caps for
    /// raw and multipart uploads), time budgets.
    EngineOptions engine = ServerEngineDefaults();
    /// System A's challenge (WebSocket and HTTP polling); `mirrored` is per connection.
    challenge::ChallengeConfig challenge;
    /// The stream core of a challenge (detector side, passive sampling); its liveness threshold
    /// is the engine's (Finalize copies it: one setting).
    StreamOptions stream;
    int ws_max_message_bytes = 4 << 20;     ///< one WebSocket message (a base64 frame)
    int ws_max_frame_pixels = 1920 * 1088;  ///< challenge frame pixel cap (checked from the header)
    int ws_max_sessions = 64;               ///< concurrent WebSocket sessions
    int poll_max_sessions = 256;            ///< open sessions of A's HTTP polling door
    /// Seconds a polling session is kept after /start; never less than the challenge's
    /// session_timeout (a longer challenge keeps its session that long).
    double poll_session_ttl = 120;
    /// The replay signals on a run's frames (repeats, a change of camera), enforced on the
    /// backend's sessions and recorded on the anonymous doors' runs: docs/sessions.md.
    active::FrameSignalRules frame_signals;
    /// A backend session's challenge passed sooner than this after it was issued: too_fast.
    double session_min_action_seconds = 0.35;
    /// A backend session's head turn shown with fewer intermediate poses: injection_suspected.
    /// Off by default: at the 5-7 frames/s of a stop-and-wait client a real turn of the shared
    /// head-turn clip can go from -2 to +22 degrees between two frames (measured), so only a
    /// client that streams at 10 frames/s or more can be held to it.
    int session_min_transition_frames = 0;

    // Liveness sessions (docs/sessions.md).
    std::string data_dir = "liveproof-data";  ///< the SQLite store and the signing keys
    /// "" = SQLite <data_dir>/liveproof.db; sqlite:PATH; postgresql://... (or postgres://) for
    /// the store several nodes share.
    std::string store_url;
    int store_pool_size = 4;       ///< PostgreSQL connections per node at most
    std::string signing_key_file;  ///< "" = <data_dir>/signing_keys.json, made at first start
    /// Threads that make the store calls, so that no network thread waits on the store (a
    /// commit waits on the disk); SQLite serialises writes anyway, PostgreSQL can use more.
    int store_threads = 2;
    int store_queue = 1024;  ///< store calls waiting for those threads; past it 503 store_busy
    std::string node_id;     ///< this node's name in the store; "" = the host name
    /// How clients reach this server ("https://liveness.example.com"): the base of the URLs in
    /// answers (sessions' ws_url..., system B's upload_url); "" = http://<Host header>.
    std::string public_url;
    /// Addresses of the reverse proxies in front (nginx): a request from one of them is the
    /// client's whose address the proxy appended to X-Forwarded-For (the last entry), and their
    /// connections are not held to max_connections_per_client (they carry many clients).
    std::vector<std::string> trusted_proxies;
    std::string verdict_issuer = "liveproof";            ///< the verdict's iss
    std::string verdict_audience = "liveproof-backend";  ///< the verdict's aud
    double verdict_ttl = 600;                            ///< seconds from iat to exp
    double session_ttl = 180;       ///< default seconds a created session may wait for its run
    double session_max_ttl = 600;   ///< the most a backend may ask for
    bool require_sessions = false;  ///< close the anonymous doors (/ws, /start, /frame)
    double retention_hours = 24;    ///< sessions and images are erased this long after creation
    /// Seconds past session_timeout after which a run still in progress is taken for lost (its
    /// node died) and ended FAILED "interrupted" by any node's sweeper.
    double stale_run_grace = 60;
    int attempt_max_failures = 5;      ///< failed sessions of one device_id in the window: 429
    int attempt_max_key_failures = 0;  ///< the same per API key; 0 = no limit
    double attempt_window = 180;       ///< seconds (AWS: 5 failures in 3 minutes)
    int session_list_max = 100;        ///< largest page of GET /v1/sessions

    /// @brief Applies one setting by its snake_case name (as in the config file).
    Expected<void> Set(const std::string& key, const std::string& value);
    /// @brief Applies every key of a JSON object (a config file's content).
    Expected<void> ApplyJson(const nlohmann::json& j);
    /// @brief Parses a config file's text (bounded JSON) and applies it; errors name @p source.
    Expected<void> ApplyJsonText(std::string_view text, const std::string& source);
    /// @brief Applies LIVEPROOF_<KEY> variables and the seeds' API_KEY, MODEL_PATH,
    /// CONFIDENCE_THRESHOLD.
    Expected<void> ApplyEnvironment();
    /// @brief Checks what no single key can (cross-key rules, the challenge settings, the
    /// licence key) and fills derived values (workers, queue capacity, the stream's threshold):
    /// a server that would start broken does not start.
    Expected<void> Finalize();
    /// @brief The effective settings; API keys are shown only as a count.
    [[nodiscard]] nlohmann::json ToJson() const;
};

/// @brief Which store a store_url names: "sqlite" (sqlite:PATH, or "" for the default file),
/// "postgresql" (postgresql:// or postgres://), or "" for anything else.
std::string_view StoreKindOf(std::string_view store_url);

}  // namespace liveproof::server
