// Load generators against a running liveproof server (`liveproof bench http|ws|sessions`): plain
// options in, plain results out. The sockets (Boost.Beast) stay in load_*.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"
#include "loadgen/load_stats.hpp"

namespace liveproof::loadgen {

/// @brief A parsed http:// or ws:// URL (no TLS, no user info).
struct LoadUrl {
    std::string scheme;       ///< "http" or "ws"
    std::string host;         ///< name or address, without IPv6 brackets
    std::uint16_t port = 80;  ///< from the URL, else 80
    std::string target;       ///< path and query, at least "/"
    std::string host_header;  ///< the Host header: the authority as written
};

/// @brief Parses @p url, whose scheme must be @p scheme. Fails with InvalidArgument (and says
/// why) on another scheme, a missing host, a bad port, or spaces and control characters.
Expected<LoadUrl> ParseLoadUrl(std::string_view url, std::string_view scheme);

/// @brief A URL and the numeric addresses its host resolved to; connections go to these
/// addresses only (the name is never resolved again).
struct LoadTarget {
    LoadUrl url;                         ///< as parsed
    std::vector<std::string> addresses;  ///< numeric IPv4/IPv6 addresses, in resolver order
};

/// @brief Resolves the host. Unless @p allow_remote, fails with InvalidArgument ("refusing
/// non-loopback host ...") when ANY address is not a loopback address (127/8, ::1, or an
/// IPv4-mapped 127/8), and also when the host does not resolve.
Expected<LoadTarget> ResolveLoadTarget(const LoadUrl& url, bool allow_remote);

/// @brief Opens and closes one TCP connection within @p timeout_s, so that an unreachable
/// server is reported at once instead of as a run full of connect errors.
Expected<void> ProbeTarget(const LoadTarget& target, double timeout_s);

/// @brief One prepared HTTP request body (built once, sent many times).
struct HttpPayload {
    std::string content_type;  ///< the Content-Type header
    std::string body;          ///< the bytes sent
};

/// @brief What `bench http` runs.
struct HttpLoadOptions {
    LoadTarget target;                  ///< where (POST to target.url.target)
    std::vector<HttpPayload> payloads;  ///< round-robin, at least one
    int connections = 1;                ///< keep-alive connections, each one request at a time
    double duration_s = 10;             ///< requests start only within this time
    std::string api_key;                ///< sent as X-API-KEY when not empty
    double connect_timeout_s = 3;       ///< per connect
    double request_timeout_s = 10;      ///< per request, write to full answer
};

/// @brief What `bench http` measured (and each phase of `bench sessions`).
struct HttpLoadResult {
    double elapsed_s = 0;                         ///< the measured window
    std::uint64_t requests = 0;                   ///< answers received (any status)
    std::map<int, std::uint64_t> status;          ///< answers by HTTP status
    std::map<std::string, std::uint64_t> errors;  ///< "phase/kind": connect/refused, read/timeout,
                                                  ///< read/reset, read/closed, write/reset, ...
    std::uint64_t in_flight_at_end = 0;           ///< cut by the end of the run (not an error)
    std::uint64_t reconnects = 0;                 ///< connections opened after the first ones
    LatencySummary latency;                       ///< every answer, write start to last byte
    LatencySummary latency_ok;  ///< success answers only: 200 (a session's: 201, 200, 204)
    std::optional<std::map<std::string, double>> server;  ///< /metrics deltas, if readable
};

/// @brief Runs the HTTP load on the calling thread (one I/O thread for every connection, so
/// the generator takes as little CPU from the server as possible) and returns within about
/// duration_s + 1 s plus two /metrics reads.
HttpLoadResult RunHttpLoad(const HttpLoadOptions& options);

/// @brief What `bench sessions` runs: three phases one after the other, each timed alone.
struct SessionLoadOptions {
    LoadTarget target;  ///< the server; its URL's path (without a trailing /) prefixes /v1/...
    std::string create_body;       ///< the JSON body of every POST /v1/sessions
    int connections = 1;           ///< keep-alive connections per phase, each one request at a time
    double duration_s = 10;        ///< per phase: creating, then reading the created sessions
    bool remove = false;           ///< then delete each created session once (at most duration_s)
    std::string api_key;           ///< sent as X-API-KEY when not empty
    double connect_timeout_s = 3;  ///< per connect
    double request_timeout_s = 10;  ///< per request, write to full answer
};

/// @brief What `bench sessions` measured. The phases' own `server` fields stay empty; the
/// /metrics change over the three phases is in `server`.
struct SessionLoadResult {
    HttpLoadResult create;                 ///< POST /v1/sessions (success: 201)
    HttpLoadResult read;                   ///< GET /v1/sessions/{id} of created ids (success: 200)
    std::optional<HttpLoadResult> remove;  ///< DELETE /v1/sessions/{id} (success: 204)
    std::uint64_t ids_created = 0;         ///< 201 answers whose session_id was read
    std::uint64_t ids_kept = 0;            ///< of those, the ones read and deleted (a bounded list)
    std::optional<std::map<std::string, double>> server;  ///< /metrics deltas, if readable
};

/// @brief Runs the session flow on the calling thread (one I/O thread for every connection):
/// create for duration_s, read the created sessions in turn for duration_s, then, if asked,
/// delete them; returns within about 3 x duration_s + 1 s plus two /metrics reads.
SessionLoadResult RunSessionLoad(const SessionLoadOptions& options);

/// @brief What `bench ws` runs.
struct WsLoadOptions {
    LoadTarget target;                  ///< the /ws URL
    std::vector<std::string> messages;  ///< prepared {"frame": "<base64 JPEG>"} texts
    /// > 0: the messages are a clip at this frame rate and each send takes the frame the clip
    /// shows at that moment of the client's run (looping); 0: the messages are sent in turn.
    double clip_fps = 0;
    int clients = 1;               ///< concurrent sessions, each replaced when the server ends it
    double fps = 7;                ///< frames per second per client
    double duration_s = 10;        ///< frames are sent only within this time
    bool stop_and_wait = false;    ///< send the next frame when a reply comes, not on a clock
    std::string api_key;           ///< sent as X-API-KEY when not empty
    double connect_timeout_s = 3;  ///< per connect, and per WebSocket handshake
    double reply_timeout_s = 10;   ///< a session that receives nothing this long is broken
};

/// @brief What `bench ws` measured. "Next reply": from a frame's send to the next reply on that
/// connection, whatever it answers (all a system-A client can know). "Answered": from a frame's
/// send to the reply that answers it, by the reply's frame_seq (liveproof's extra key); frames
/// replaced by a newer one before they ran get no reply and are not in it.
struct WsLoadResult {
    double elapsed_s = 0;                                  ///< the measured window
    std::uint64_t frames_sent = 0;                         ///< frame messages written
    std::uint64_t replies = 0;                             ///< messages received after "start"
    std::map<std::string, std::uint64_t> replies_by_type;  ///< waiting, challenge, busy, ...
    /// The server answers each frame once (analysed or busy) or not at all (replaced in the
    /// session's latest-frame-wins mailbox), so frames sent - replies is what went unanswered.
    std::uint64_t frames_answered = 0;           ///< got a reply of their own
    std::uint64_t frames_unanswered_at_end = 0;  ///< owed a reply 1 s after the run: dropped
                                                 ///< by the server, or still in flight
    std::uint64_t frames_unanswered_ended = 0;   ///< owed a reply when the session ended
    std::uint64_t sessions_opened = 0;           ///< "start" received
    std::uint64_t sessions_complete = 0;         ///< ended with "complete"
    std::map<std::string, std::uint64_t> sessions_failed;  ///< ended with "failed", by reason
    std::uint64_t sessions_broken = 0;       ///< ended by a socket error, timeout or abnormal close
    std::uint64_t sessions_open_at_end = 0;  ///< still open when the run ended
    std::map<std::string, std::uint64_t> errors;  ///< "phase/kind": connect/refused,
                                                  ///< handshake/503, read/timeout, closed/1011..
    LatencySummary latency;                       ///< to the next reply
    LatencySummary latency_answered;              ///< to the reply naming the frame (frame_seq)
    std::optional<std::map<std::string, double>> server;  ///< /metrics deltas, if readable
};

/// @brief Runs the WebSocket load on the calling thread (one I/O thread for every client) and
/// returns within about duration_s + 1/fps + 3 s plus two /metrics reads.
WsLoadResult RunWsLoad(const WsLoadOptions& options);

}  // namespace liveproof::loadgen
