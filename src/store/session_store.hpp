// The liveness sessions' store: one interface for sessions, their images and the audit trail,
// so that nothing above it knows which database holds them (SQLite here, PostgreSQL next).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"

namespace liveproof::store {

/// @brief Where a session is in its life. CREATED -> IN_PROGRESS -> SUCCEEDED | FAILED, and
/// CREATED -> EXPIRED; terminal states never change again.
enum class SessionStatus { Created, InProgress, Succeeded, Failed, Expired };

/// @brief "CREATED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "EXPIRED".
std::string_view SessionStatusName(SessionStatus status);
/// @brief The status with that exact name, or nullopt.
std::optional<SessionStatus> ParseSessionStatus(std::string_view name);
/// @brief True for SUCCEEDED, FAILED and EXPIRED.
bool IsTerminal(SessionStatus status);

/// @brief One session as stored. Times are Unix milliseconds (wall clock); 0 means "not yet".
/// THREAD SAFETY: a plain value.
struct SessionRecord {
    std::string id;      ///< 32 lower-case hex digits (128 random bits)
    std::string key_id;  ///< id of the API key that created it ("" when auth is off)
    std::string mode;    ///< "active", "passive", "blink"
    SessionStatus status = SessionStatus::Created;
    std::string token_hash;     ///< hex SHA-256 of the client token; "" = no token (anonymous /ws)
    std::string device_id;      ///< the integrator's device id, for attempt limits ("" = none)
    std::string nonce;          ///< the integrator's opaque string, echoed in the verdict
    std::string external_ref;   ///< the integrator's opaque string, echoed in the verdict
    std::string settings_json;  ///< the session's parameters as created (JSON object text)
    std::string decision;       ///< "live", "spoof", "failed"; "" until terminal
    std::string reason;         ///< why (a FailReason name, "expired", "interrupted"); "" if live
    std::string result_json;    ///< the detailed result (JSON object text); "" until terminal
    std::string verdict;        ///< the signed verdict (compact JWS); "" until terminal
    std::string node;           ///< the node that started the run ("" until started)
    std::int64_t created_ms = 0;
    std::int64_t expires_ms = 0;  ///< a run must start before this
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;
};

/// @brief The answer of Start: only Started means the caller now owns the run.
enum class StartOutcome {
    Started,         ///< CREATED -> IN_PROGRESS: this caller runs it
    NotFound,        ///< no such session (or deleted)
    BadToken,        ///< the token's hash is not this session's
    AlreadyStarted,  ///< a run was started before (in progress or finished): single use
    Expired,         ///< past expires_ms (and marked EXPIRED if it was still CREATED)
};

/// @brief What a finished run writes, in one compare-and-set.
struct Terminal {
    SessionStatus status = SessionStatus::Failed;  ///< SUCCEEDED or FAILED
    std::string decision;
    std::string reason;
    std::string result_json;
    std::string verdict;
    std::int64_t finished_ms = 0;
};

/// @brief An image kept with a session: audit frames and the reference image.
struct StoredImage {
    int index = 0;                   ///< 0.. per session, the n of GET .../images/{n}
    std::string kind;                ///< "reference" or "audit"
    std::string box_json;            ///< the face's bounding box in the image (JSON object text)
    std::string sha256_hex;          ///< of the JPEG bytes (also in the signed verdict)
    std::vector<std::uint8_t> jpeg;  ///< empty when listed without bytes
};

/// @brief One line of the append-only audit trail.
struct AuditEvent {
    std::int64_t seq = 0;  ///< assigned by the store, increasing
    std::int64_t at_ms = 0;
    std::string session_id;  ///< "" for events about no session (a refused creation)
    std::string action;      ///< "created", "started", "completed", "failed", "expired",
                             ///< "interrupted", "read", "deleted", "refused", ...
    std::string key_id;      ///< who (API key id; "client" for the client token)
    std::string remote;      ///< from which address
    std::string detail;      ///< short text (never a secret)
};

/// @brief A page of GET /v1/sessions: newest first.
struct ListQuery {
    std::string key_id;                   ///< only this key's sessions
    std::optional<SessionStatus> status;  ///< only this status
    std::int64_t since_ms = 0;            ///< created at or after
    std::size_t limit = 50;               ///< at most this many (the caller caps it)
    std::string cursor;                   ///< "" = first page, else a next_cursor
};
struct ListPage {
    std::vector<SessionRecord> sessions;
    std::string next_cursor;  ///< "" = no more
};

/// @brief Where a page ends: the next page starts strictly after (created_ms, id), newest first.
struct ListCursor {
    std::int64_t created_ms = 0;
    std::string id;
};
/// @brief The cursor a page's last row gives: "created_ms:id".
std::string ListCursorText(const SessionRecord& last);
/// @brief A cursor ListCursorText wrote, or nullopt for any other text.
std::optional<ListCursor> ParseListCursor(std::string_view text);
/// @brief Where a listing starts: nullopt for the first page, an InvalidArgument error for a
/// cursor this server did not give (one refusal for both stores).
Expected<std::optional<ListCursor>> StartOf(const ListQuery& query);

/// @brief Who an attempt limit counts.
enum class AttemptScope { Device, Key };

/// @brief WHAT THIS OBJECT REPRESENTS: durable sessions, images and audit events.
/// Every state change is one compare-and-set: a session cannot start twice, finish twice, or
/// finish after it expired or was deleted. Finish returns only once the terminal state is
/// durable (committed with a synchronous write), so a verdict is never sent before it is stored.
/// THREAD SAFETY: every function is thread-safe. Errors are values (ErrorCode::Internal with the
/// database's text, never a secret); no function throws.
class SessionStore {
  public:
    virtual ~SessionStore() = default;

    /// @brief "sqlite", "postgresql".
    [[nodiscard]] virtual std::string_view kind() const = 0;
    /// @brief A cheap round trip to the database (for /readyz).
    virtual Expected<void> Check() = 0;

    /// @brief Stores a new CREATED session; an existing id is an error.
    virtual Expected<void> Create(const SessionRecord& session) = 0;
    /// @brief The session, or nullopt.
    virtual Expected<std::optional<SessionRecord>> Get(const std::string& id) = 0;
    /// @brief CREATED -> IN_PROGRESS iff the token hash matches (compared in constant time) and
    /// now < expires_ms; sets started_ms and node.
    virtual Expected<StartOutcome> Start(const std::string& id, const std::string& token_hash,
                                         const std::string& node, std::int64_t now_ms) = 0;
    /// @brief IN_PROGRESS -> terminal; false (and nothing written) when the session is not in
    /// progress (finished, expired, interrupted, deleted).
    virtual Expected<bool> Finish(const std::string& id, const Terminal& terminal) = 0;
    /// @brief Erases the session and its images; false when there was none.
    virtual Expected<bool> Delete(const std::string& id) = 0;
    /// @brief One page of a key's sessions, newest first.
    virtual Expected<ListPage> List(const ListQuery& query) = 0;

    /// @brief Adds an image to a session (replacing one with the same index).
    virtual Expected<void> PutImage(const std::string& session_id, const StoredImage& image) = 0;
    /// @brief The session's images by index; bytes only when @p with_bytes.
    virtual Expected<std::vector<StoredImage>> Images(const std::string& session_id,
                                                      bool with_bytes) = 0;
    /// @brief One image with its bytes, or nullopt.
    virtual Expected<std::optional<StoredImage>> Image(const std::string& session_id,
                                                       int index) = 0;

    /// @brief Appends an audit event (seq is assigned).
    virtual Expected<void> Audit(const AuditEvent& event) = 0;
    /// @brief A session's audit events in order.
    virtual Expected<std::vector<AuditEvent>> AuditTrail(const std::string& session_id) = 0;

    /// @brief The sweeper: CREATED past expires_ms -> EXPIRED (reason "expired"); IN_PROGRESS
    /// started more than @p run_limit_ms ago -> FAILED "interrupted" (its node died or lost it).
    /// Returns the sessions changed; each change is audited.
    virtual Expected<int> ExpireDue(std::int64_t now_ms, std::int64_t run_limit_ms) = 0;
    /// @brief At start-up of @p node: its IN_PROGRESS sessions (runs a killed process held) ->
    /// FAILED "interrupted". Returns how many; each is audited.
    virtual Expected<int> InterruptRunning(const std::string& node, std::int64_t now_ms) = 0;
    /// @brief Retention: erases sessions (with their images) created before @p before_ms, and
    /// audit events older than it. Returns the sessions erased.
    virtual Expected<int> Purge(std::int64_t before_ms) = 0;
    /// @brief Sessions of that device or key that ended FAILED at or after @p since_ms.
    virtual Expected<int> CountFailures(AttemptScope scope, const std::string& value,
                                        std::int64_t since_ms) = 0;
};

/// @brief Opens (creating if needed) the SQLite store at @p path: WAL journal, synchronous
/// commits, schema migrated to the current version.
Expected<std::unique_ptr<SessionStore>> OpenSqliteStore(const std::string& path);

/// @brief Opens the PostgreSQL store at @p url (libpq URI or conninfo) with at most
/// @p pool_size connections, migrating the schema once however many nodes start together (an
/// advisory lock). The database may be down later: calls then fail (the server answers 503)
/// and the pool reconnects when it returns.
Expected<std::unique_ptr<SessionStore>> OpenPostgresStore(const std::string& url,
                                                          std::size_t pool_size);

/// @brief A PostgreSQL URL without its password (for messages and logs).
std::string RedactedPgUrl(std::string_view url);

}  // namespace liveproof::store
