// The SQLite session store: one connection under a lock, WAL, synchronous commits, versioned
// schema.
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <mutex>

#include "store/schema.hpp"
#include "store/session_store.hpp"
#include "store/sqlite_statement.hpp"

namespace liveproof::store {

namespace {

/// The sweeper changes at most this many sessions per call, so one call never holds the
/// write lock for long; the next tick takes the rest.
constexpr int kSweepBatch = 500;

SessionRecord RecordFrom(const SqliteStatement& s) {
    SessionRecord r;
    r.id = s.Text(0);
    r.key_id = s.Text(1);
    r.mode = s.Text(2);
    r.status = ParseSessionStatus(s.Text(3)).value_or(SessionStatus::Failed);
    r.token_hash = s.Text(4);
    r.device_id = s.Text(5);
    r.nonce = s.Text(6);
    r.external_ref = s.Text(7);
    r.settings_json = s.Text(8);
    r.decision = s.Text(9);
    r.reason = s.Text(10);
    r.result_json = s.Text(11);
    r.verdict = s.Text(12);
    r.node = s.Text(13);
    r.created_ms = s.Int(14);
    r.expires_ms = s.Int(15);
    r.started_ms = s.Int(16);
    r.finished_ms = s.Int(17);
    return r;
}

/// @brief WHAT THIS OBJECT REPRESENTS: the store on one SQLite file.
/// THREAD SAFETY: one connection behind mu_; every public function takes it. Several processes
/// may share the file: writes use BEGIN IMMEDIATE and SQLite's busy timeout.
class SqliteStore final : public SessionStore {
  public:
    explicit SqliteStore(sqlite3* db) : db_(db) {}
    ~SqliteStore() override { sqlite3_close_v2(db_); }
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    [[nodiscard]] std::string_view kind() const override { return "sqlite"; }

    Expected<void> Migrate() {
        std::lock_guard lock(mu_);
        if (auto r = Exec("CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY "
                          "KEY, applied_ms INTEGER NOT NULL)");
            !r)
            return r;
        if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r;
        SqliteStatement q(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        if (q.Step() != SQLITE_ROW) return Rollback("reading the schema version");
        const std::int64_t version = q.Int(0);
        if (version > kSchemaVersion) {
            Exec("ROLLBACK");
            return MakeError(ErrorCode::Internal,
                             "the database has schema version " + std::to_string(version) +
                                 ", newer than this liveproof's " + std::to_string(kSchemaVersion) +
                                 "; run the newer release");
        }
        if (version < 1) {
            if (sqlite3_exec(db_, SchemaV1(kSqliteDialect).c_str(), nullptr, nullptr, nullptr) !=
                SQLITE_OK)
                return Rollback("creating schema version 1");
            SqliteStatement ins(db_,
                                "INSERT INTO schema_migrations(version, applied_ms) VALUES(1, "
                                "CAST(strftime('%s','now') AS INTEGER) * 1000)");
            if (!ins.Run()) return Rollback("recording schema version 1");
        }
        return Exec("COMMIT");
    }

    Expected<void> Check() override {
        std::lock_guard lock(mu_);
        SqliteStatement q(db_, "SELECT COUNT(*) FROM schema_migrations");
        if (q.Step() != SQLITE_ROW) return Failure("checking the database");
        return {};
    }

    Expected<void> Create(const SessionRecord& s) override {
        std::lock_guard lock(mu_);
        SqliteStatement q(db_,
                          "INSERT INTO sessions(id, key_id, mode, status, token_hash, device_id, "
                          "nonce, external_ref, settings_json, node, created_ms, expires_ms, "
                          "started_ms) VALUES(?, ?, ?, 'CREATED', ?, ?, ?, ?, ?, '', ?, ?, 0)");
        q.Bind(s.id).Bind(s.key_id).Bind(s.mode).Bind(s.token_hash).Bind(s.device_id);
        q.Bind(s.nonce).Bind(s.external_ref).Bind(s.settings_json).Bind(s.created_ms);
        q.Bind(s.expires_ms);
        if (!q.Run()) return Failure("creating a session");
        return {};
    }

    Expected<std::optional<SessionRecord>> Get(const std::string& id) override {
        std::lock_guard lock(mu_);
        SqliteStatement q(db_,
                          std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?");
        q.Bind(id);
        const int rc = q.Step();
        if (rc == SQLITE_DONE) return std::optional<SessionRecord>();
        if (rc != SQLITE_ROW) return Failure("reading a session");
        return std::optional<SessionRecord>(RecordFrom(q));
    }

    Expected<StartOutcome> Start(const std::string& id, const std::string& token_hash,
                                 const std::string& node, std::int64_t now_ms) override {
        std::lock_guard lock(mu_);
        if (auto r = Exec("BEGIN IMMEDIATE"); !r) return Unexpected{r.error()};
        SqliteStatement q(db_, "SELECT status, token_hash, expires_ms FROM sessions WHERE id = ?");
        q.Bind(id);
        const int rc = q.Step();
        if (rc == SQLITE_DONE) {
            Exec("ROLLBACK");
            return StartOutcome::NotFound;
        }
        if (rc != SQLITE_ROW) return Rollback("starting a session");
        const std::string status = q.Text(0);
        const std::string stored = q.Text(1);
        const std::int64_t expires_ms = q.Int(2);
        // The token first, in constant time: a caller without it learns nothing about the
        // session's state.
        if (stored.size() != token_hash.size() || stored.empty() ||
            sodium_memcmp(stored.data(), token_hash.data(), stored.size()) != 0) {
            Exec("ROLLBACK");
            return StartOutcome::BadToken;
        }
        if (status == SessionStatusName(SessionStatus::Expired)) {
            Exec("ROLLBACK");
            return StartOutcome::Expired;
        }
        if (status != SessionStatusName(SessionStatus::Created)) {
            Exec("ROLLBACK");
            return StartOutcome::AlreadyStarted;
        }
        if (now_ms >= expires_ms) {
            if (auto r = ExpireOne(id, now_ms); !r) return Rollback("expiring");
            if (auto r = Exec("COMMIT"); !r) return Unexpected{r.error()};
            return StartOutcome::Expired;
        }
        SqliteStatement u(db_,
                          "UPDATE sessions SET status = 'IN_PROGRESS', started_ms = ?, node = ? "
                          "WHERE id = ? AND status = 'CREATED'");
        u.Bind(now_ms).Bind(node).Bind(id);
        if (!u.Run()) return Rollback("starting a session");
        const bool started = sqlite3_changes(db_) == 1;
        if (auto r = Exec("COMMIT"); !r) return Unexpected{r.error()};
        return started ? StartOutcome::Started : StartOutcome::AlreadyStarted;
    }

    Expected<bool> Finish(const std::string& id, const Terminal& t) override {
        std::lock_guard lock(mu_);
        SqliteStatement u(db_,
                          "UPDATE sessions SET status = ?, decision = ?, reason = ?, "
                          "result_json = ?, verdict = ?, finished_ms = ? "
                          "WHERE id = ? AND status = 'IN_PROGRESS'");
        u.Bind(SessionStatusName(t.status)).Bind(t.decision).Bind(t.reason).Bind(t.result_json);
        u.Bind(t.verdict).Bind(t.finished_ms).Bind(id);
        if (!u.Run()) return Failure("finishing a session");
        return sqlite3_changes(db_) == 1;
    }

    Expected<bool> Delete(const std::string& id) override {
        std::lock_guard lock(mu_);
        // The images go with the session (ON DELETE CASCADE); the audit trail stays.
        SqliteStatement d(db_, "DELETE FROM sessions WHERE id = ?");
        d.Bind(id);
        if (!d.Run()) return Failure("deleting a session");
        return sqlite3_changes(db_) == 1;
    }

    Expected<ListPage> List(const ListQuery& query) override {
        const auto start = StartOf(query);
        if (!start) return Unexpected{start.error()};
        const std::optional<ListCursor>& cursor = *start;
        std::string sql = std::string("SELECT ") + kSessionColumns +
                          " FROM sessions WHERE key_id = ? AND created_ms >= ?";
        if (query.status) sql += " AND status = ?";
        if (cursor) sql += " AND (created_ms < ? OR (created_ms = ? AND id < ?))";
        sql += " ORDER BY created_ms DESC, id DESC LIMIT ?";
        std::lock_guard lock(mu_);
        SqliteStatement q(db_, sql);
        q.Bind(query.key_id).Bind(query.since_ms);
        if (query.status) q.Bind(SessionStatusName(*query.status));
        if (cursor) q.Bind(cursor->created_ms).Bind(cursor->created_ms).Bind(cursor->id);
        q.Bind(static_cast<std::int64_t>(query.limit) + 1);
        ListPage page;
        int rc = SQLITE_ROW;
        while ((rc = q.Step()) == SQLITE_ROW) page.sessions.push_back(RecordFrom(q));
        if (rc != SQLITE_DONE) return Failure("listing sessions");
        if (page.sessions.size() > query.limit) {
            page.sessions.resize(query.limit);
            const auto& last = page.sessions.back();
            page.next_cursor = ListCursorText(last);
        }
        return page;
    }

    Expected<void> PutImage(const std::string& session_id, const StoredImage& im) override {
        std::lock_guard lock(mu_);
        SqliteStatement q(db_,
                          "INSERT OR REPLACE INTO session_images(session_id, idx, kind, "
                          "box_json, sha256, jpeg) VALUES(?, ?, ?, ?, ?, ?)");
        q.Bind(session_id).Bind(static_cast<std::int64_t>(im.index)).Bind(im.kind);
        q.Bind(im.box_json).Bind(im.sha256_hex).Bind(im.jpeg);
        if (!q.Run()) return Failure("storing an image");
        return {};
    }

    Expected<std::vector<StoredImage>> Images(const std::string& session_id,
                                              bool with_bytes) override {
        std::lock_guard lock(mu_);
        SqliteStatement q(db_, with_bytes ? "SELECT idx, kind, box_json, sha256, jpeg FROM "
                                            "session_images WHERE session_id = ? ORDER BY idx"
                                          : "SELECT idx, kind, box_json, sha256 FROM "
                                            "session_images WHERE session_id = ? ORDER BY idx");
        q.Bind(session_id);
        std::vector<StoredImage> out;
        int rc = SQLITE_ROW;
        while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ImageFrom(q, with_bytes));
        if (rc != SQLITE_DONE) return Failure("listing images");
        return out;
    }

    Expected<std::optional<StoredImage>> Image(const std::string& session_id, int index) override {
        std::lock_guard lock(mu_);
        SqliteStatement q(db_,
                          "SELECT idx, kind, box_json, sha256, jpeg FROM session_images WHERE "
                          "session_id = ? AND idx = ?");
        q.Bind(session_id).Bind(static_cast<std::int64_t>(index));
        const int rc = q.Step();
        if (rc == SQLITE_DONE) return std::optional<StoredImage>();
        if (rc != SQLITE_ROW) return Failure("reading an image");
        return std::optional<StoredImage>(ImageFrom(q, true));
    }

    Expected<void> Audit(const AuditEvent& e) override {
        std::lock_guard lock(mu_);
        return AuditLocked(e);
    }

    Expected<std::vector<AuditEvent>> AuditTrail(const std::string& session_id) override {
        std::lock_guard lock(mu_);
        SqliteStatement q(db_,
                          "SELECT seq, at_ms, session_id, action, key_id, remote, detail FROM "
                          "audit WHERE session_id = ? ORDER BY seq");
        q.Bind(session_id);
        std::vector<AuditEvent> out;
        int rc = SQLITE_ROW;
        while ((rc = q.Step()) == SQLITE_ROW) {
            out.push_back(
                {q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6)});
        }
        if (rc != SQLITE_DONE) return Failure("reading the audit trail");
        return out;
    }

    Expected<int> ExpireDue(std::int64_t now_ms, std::int64_t run_limit_ms) override {
        std::lock_guard lock(mu_);
        if (auto r = Exec("BEGIN IMMEDIATE"); !r) return Unexpected{r.error()};
        int changed = 0;
        {
            SqliteStatement q(db_,
                              "SELECT id FROM sessions WHERE status = 'CREATED' AND "
                              "expires_ms <= ? LIMIT ?");
            q.Bind(now_ms).Bind(static_cast<std::int64_t>(kSweepBatch));
            std::vector<std::string> ids;
            while (q.Step() == SQLITE_ROW) ids.push_back(q.Text(0));
            for (const auto& id : ids) {
                if (!ExpireOne(id, now_ms)) return Rollback("expiring");
                ++changed;
            }
        }
        {
            SqliteStatement q(db_,
                              "SELECT id, node FROM sessions WHERE status = 'IN_PROGRESS' AND "
                              "started_ms <= ? LIMIT ?");
            q.Bind(now_ms - run_limit_ms).Bind(static_cast<std::int64_t>(kSweepBatch));
            std::vector<std::pair<std::string, std::string>> rows;
            while (q.Step() == SQLITE_ROW) rows.emplace_back(q.Text(0), q.Text(1));
            for (const auto& [id, node] : rows) {
                if (!InterruptOne(id, now_ms, "ran longer than any run may; node " + node))
                    return Rollback("interrupting");
                ++changed;
            }
        }
        if (auto r = Exec("COMMIT"); !r) return Unexpected{r.error()};
        return changed;
    }

    Expected<int> InterruptRunning(const std::string& node, std::int64_t now_ms) override {
        std::lock_guard lock(mu_);
        if (auto r = Exec("BEGIN IMMEDIATE"); !r) return Unexpected{r.error()};
        SqliteStatement q(db_, "SELECT id FROM sessions WHERE status = 'IN_PROGRESS' AND node = ?");
        q.Bind(node);
        std::vector<std::string> ids;
        while (q.Step() == SQLITE_ROW) ids.push_back(q.Text(0));
        for (const auto& id : ids) {
            if (!InterruptOne(id, now_ms, "node " + node + " restarted while it ran"))
                return Rollback("interrupting");
        }
        if (auto r = Exec("COMMIT"); !r) return Unexpected{r.error()};
        return static_cast<int>(ids.size());
    }

    Expected<int> Purge(std::int64_t before_ms) override {
        std::lock_guard lock(mu_);
        if (auto r = Exec("BEGIN IMMEDIATE"); !r) return Unexpected{r.error()};
        SqliteStatement d(db_, "DELETE FROM sessions WHERE created_ms < ?");
        d.Bind(before_ms);
        if (!d.Run()) return Rollback("purging sessions");
        const int erased = sqlite3_changes(db_);
        SqliteStatement a(db_, "DELETE FROM audit WHERE at_ms < ?");
        a.Bind(before_ms);
        if (!a.Run()) return Rollback("purging the audit trail");
        if (auto r = Exec("COMMIT"); !r) return Unexpected{r.error()};
        return erased;
    }

    Expected<int> CountFailures(AttemptScope scope, const std::string& value,
                                std::int64_t since_ms) override {
        if (value.empty()) return 0;  // no device id, no key id: nothing to count against
        std::lock_guard lock(mu_);
        SqliteStatement q(db_, scope == AttemptScope::Device
                                   ? "SELECT COUNT(*) FROM sessions WHERE device_id = ? AND "
                                     "status = 'FAILED' AND finished_ms >= ?"
                                   : "SELECT COUNT(*) FROM sessions WHERE key_id = ? AND "
                                     "status = 'FAILED' AND finished_ms >= ?");
        q.Bind(value).Bind(since_ms);
        if (q.Step() != SQLITE_ROW) return Failure("counting failures");
        return static_cast<int>(q.Int(0));
    }

  private:
    static StoredImage ImageFrom(const SqliteStatement& q, bool with_bytes) {
        StoredImage im;
        im.index = static_cast<int>(q.Int(0));
        im.kind = q.Text(1);
        im.box_json = q.Text(2);
        im.sha256_hex = q.Text(3);
        if (with_bytes) im.jpeg = q.Blob(4);
        return im;
    }

    // The database's own text, never a bound value: no token hash or image reaches a message.
    Unexpected Failure(const std::string& what) {
        return MakeError(ErrorCode::Internal, "SQLite, " + what + ": " + sqlite3_errmsg(db_));
    }

    Unexpected Rollback(const std::string& what) {
        Unexpected e = Failure(what);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return e;
    }

    Expected<void> Exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            return Failure(std::string("running ") + sql);
        return {};
    }

    Expected<void> AuditLocked(const AuditEvent& e) {
        SqliteStatement q(db_,
                          "INSERT INTO audit(at_ms, session_id, action, key_id, remote, detail) "
                          "VALUES(?, ?, ?, ?, ?, ?)");
        q.Bind(e.at_ms).Bind(e.session_id).Bind(e.action).Bind(e.key_id).Bind(e.remote);
        q.Bind(e.detail);
        if (!q.Run()) return Failure("writing the audit trail");
        return {};
    }

    // Inside a transaction: one session from @p from to a terminal state with decision
    // "failed", audited; nothing (and no audit line) when it was no longer in @p from.
    Expected<void> EndOne(const std::string& id, std::int64_t now_ms, std::string_view from,
                          std::string_view to, std::string_view reason, std::string_view action,
                          const std::string& detail) {
        SqliteStatement u(db_,
                          "UPDATE sessions SET status = ?, decision = 'failed', reason = ?, "
                          "finished_ms = ? WHERE id = ? AND status = ?");
        u.Bind(to).Bind(reason).Bind(now_ms).Bind(id).Bind(from);
        if (!u.Run()) return Failure("ending a session " + std::string(reason));
        if (sqlite3_changes(db_) != 1) return {};
        return AuditLocked({0, now_ms, id, std::string(action), "server", "", detail});
    }

    Expected<void> ExpireOne(const std::string& id, std::int64_t now_ms) {
        return EndOne(id, now_ms, "CREATED", "EXPIRED", "expired", "expired",
                      "not started before expiry");
    }

    Expected<void> InterruptOne(const std::string& id, std::int64_t now_ms,
                                const std::string& why) {
        return EndOne(id, now_ms, "IN_PROGRESS", "FAILED", "interrupted", "interrupted", why);
    }

    std::mutex mu_;
    sqlite3* db_;
};

}  // namespace

Expected<std::unique_ptr<SessionStore>> OpenSqliteStore(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
        nullptr);
    if (rc != SQLITE_OK) {
        const std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return MakeError(ErrorCode::Internal, "SQLite " + path + ": " + why);
    }
    auto store = std::make_unique<SqliteStore>(db);
    // Owner only: the file holds face images and verdicts. The -wal and -shm files SQLite makes
    // next to it take the same mode.
    ::chmod(path.c_str(), 0600);
    sqlite3_busy_timeout(db, 5000);
    // WAL: readers never block the writer; FULL: a commit survives power loss, so a verdict
    // that was sent is on disk; foreign keys: an image never outlives its session.
    for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                               "PRAGMA foreign_keys = ON", "PRAGMA secure_delete = ON"}) {
        if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK)
            return MakeError(ErrorCode::Internal,
                             "SQLite " + path + ": " + pragma + ": " + sqlite3_errmsg(db));
    }
    if (auto migrated = store->Migrate(); !migrated)
        return MakeError(ErrorCode::Internal, path + ": " + migrated.error().detail);
    return std::unique_ptr<SessionStore>(std::move(store));
}

}  // namespace liveproof::store
