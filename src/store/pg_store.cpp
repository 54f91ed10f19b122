// The PostgreSQL session store: the state several nodes share. Every state change is one
// compare-and-set statement; the sweeper's batches take rows with FOR UPDATE SKIP LOCKED, so
// nodes sweeping at the same moment never do the same row twice; the schema is migrated under
// an advisory lock, so nodes starting together migrate it once.
#include <sodium.h>

#include <limits>

#include "store/pg_connection.hpp"
#include "store/schema.hpp"
#include "store/session_store.hpp"

namespace liveproof::store {

namespace {

/// The advisory lock every node takes to migrate (an arbitrary constant: "lvpf").
constexpr const char* kMigrationLock = "1819701350";
/// The sweeper changes at most this many sessions per statement.
constexpr const char* kSweepBatch = "500";

SessionRecord RecordFrom(const PgResult& r, int row) {
    SessionRecord s;
    s.id = r.Text(row, 0);
    s.key_id = r.Text(row, 1);
    s.mode = r.Text(row, 2);
    s.status = ParseSessionStatus(r.Text(row, 3)).value_or(SessionStatus::Failed);
    s.token_hash = r.Text(row, 4);
    s.device_id = r.Text(row, 5);
    s.nonce = r.Text(row, 6);
    s.external_ref = r.Text(row, 7);
    s.settings_json = r.Text(row, 8);
    s.decision = r.Text(row, 9);
    s.reason = r.Text(row, 10);
    s.result_json = r.Text(row, 11);
    s.verdict = r.Text(row, 12);
    s.node = r.Text(row, 13);
    s.created_ms = r.Int(row, 14);
    s.expires_ms = r.Int(row, 15);
    s.started_ms = r.Int(row, 16);
    s.finished_ms = r.Int(row, 17);
    return s;
}

StoredImage ImageFrom(const PgResult& r, int row, bool with_bytes) {
    StoredImage im;
    im.index = static_cast<int>(r.Int(row, 0));
    im.kind = r.Text(row, 1);
    im.box_json = r.Text(row, 2);
    im.sha256_hex = r.Text(row, 3);
    if (with_bytes) im.jpeg = r.Bytes(row, 4);
    return im;
}

/// @brief WHAT THIS OBJECT REPRESENTS: the store in one PostgreSQL database, shared by nodes.
/// THREAD SAFETY: every function is thread-safe: each takes its own pooled connection.
class PgStore final : public SessionStore {
  public:
    PgStore(const std::string& url, std::size_t pool_size)
        : pool_(url, pool_size, std::chrono::milliseconds(5000)) {}

    [[nodiscard]] std::string_view kind() const override { return "postgresql"; }

    Expected<void> Migrate() {
        auto c = pool_.Acquire();
        if (!c) return Unexpected{c.error()};
        auto& db = **c;
        // Session-level lock: held across the migration's transaction, released at the end
        // (or when the connection drops, if this node dies halfway).
        if (auto r = db.Exec("taking the migration lock", "SELECT pg_advisory_lock($1::bigint)",
                             {kMigrationLock});
            !r)
            return Unexpected{r.error()};
        auto migrated = MigrateLocked(db);
        (void)db.Exec("releasing the migration lock", "SELECT pg_advisory_unlock($1::bigint)",
                      {kMigrationLock});
        return migrated;
    }

    Expected<void> Check() override {
        return Run("checking the database", "SELECT 1 FROM schema_migrations LIMIT 1", {});
    }

    Expected<void> Create(const SessionRecord& s) override {
        return Run("creating a session",
                   "INSERT INTO sessions(id, key_id, mode, status, token_hash, device_id, nonce, "
                   "external_ref, settings_json, node, created_ms, expires_ms, started_ms) "
                   "VALUES($1, $2, $3, 'CREATED', $4, $5, $6, $7, $8, '', $9, $10, 0)",
                   {s.id, s.key_id, s.mode, s.token_hash, s.device_id, s.nonce, s.external_ref,
                    s.settings_json, s.created_ms, s.expires_ms});
    }

    Expected<std::optional<SessionRecord>> Get(const std::string& id) override {
        const std::string sql =
            std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = $1";
        auto r = Query("reading a session", sql.c_str(), {id});
        if (!r) return Unexpected{r.error()};
        if (r->rows() == 0) return std::optional<SessionRecord>();
        return std::optional<SessionRecord>(RecordFrom(*r, 0));
    }

    Expected<StartOutcome> Start(const std::string& id, const std::string& token_hash,
                                 const std::string& node, std::int64_t now_ms) override {
        auto c = pool_.Acquire();
        if (!c) return Unexpected{c.error()};
        auto& db = **c;
        auto row =
            db.Exec("starting a session",
                    "SELECT status, token_hash, expires_ms FROM sessions WHERE id = $1", {id});
        if (!row) return Unexpected{row.error()};
        if (row->rows() == 0) return StartOutcome::NotFound;
        const std::string status = row->Text(0, 0);
        const std::string stored = row->Text(0, 1);
        // The token first, in constant time: a caller without it learns nothing about the
        // session's state.
        if (stored.size() != token_hash.size() || stored.empty() ||
            sodium_memcmp(stored.data(), token_hash.data(), stored.size()) != 0) {
            return StartOutcome::BadToken;
        }
        if (status == SessionStatusName(SessionStatus::Expired)) return StartOutcome::Expired;
        if (status != SessionStatusName(SessionStatus::Created))
            return StartOutcome::AlreadyStarted;
        if (now_ms >= row->Int(0, 2)) {
            if (auto e = EndOne(db, id, now_ms, "CREATED", "EXPIRED", "expired", "expired",
                                "not started before expiry");
                !e)
                return Unexpected{e.error()};
            return StartOutcome::Expired;
        }
        // The compare-and-set: of nodes starting it at the same moment, one changes the row.
        auto u = db.Exec("starting a session",
                         "UPDATE sessions SET status = 'IN_PROGRESS', started_ms = $1, node = $2 "
                         "WHERE id = $3 AND status = 'CREATED' AND expires_ms > $1",
                         {now_ms, node, id});
        if (!u) return Unexpected{u.error()};
        return u->changed() == 1 ? StartOutcome::Started : StartOutcome::AlreadyStarted;
    }

    Expected<bool> Finish(const std::string& id, const Terminal& t) override {
        auto r = Query("finishing a session",
                       "UPDATE sessions SET status = $1, decision = $2, reason = $3, "
                       "result_json = $4, verdict = $5, finished_ms = $6 "
                       "WHERE id = $7 AND status = 'IN_PROGRESS'",
                       {SessionStatusName(t.status), t.decision, t.reason, t.result_json, t.verdict,
                        t.finished_ms, id});
        if (!r) return Unexpected{r.error()};
        return r->changed() == 1;
    }

    Expected<bool> Delete(const std::string& id) override {
        // The images go with the session (ON DELETE CASCADE); the audit trail stays.
        auto r = Query("deleting a session", "DELETE FROM sessions WHERE id = $1", {id});
        if (!r) return Unexpected{r.error()};
        return r->changed() == 1;
    }

    Expected<ListPage> List(const ListQuery& query) override {
        const auto start = StartOf(query);
        if (!start) return Unexpected{start.error()};
        const std::optional<ListCursor>& cursor = *start;
        // One statement for every page: "" = any status, and the first page starts after the
        // largest possible cursor.
        const std::string sql =
            std::string("SELECT ") + kSessionColumns +
            " FROM sessions WHERE key_id = $1 AND created_ms >= $2 AND ($3 = '' OR status = $3)"
            " AND (created_ms < $4 OR (created_ms = $4 AND id < $5))"
            " ORDER BY created_ms DESC, id DESC LIMIT $6";
        const std::vector<PgParam> params{
            query.key_id,
            query.since_ms,
            query.status ? SessionStatusName(*query.status) : std::string_view(),
            cursor ? cursor->created_ms : std::numeric_limits<std::int64_t>::max(),
            cursor ? cursor->id : std::string(),
            static_cast<std::int64_t>(query.limit) + 1};
        auto r = Query("listing sessions", sql.c_str(), params);
        if (!r) return Unexpected{r.error()};
        ListPage page;
        for (int i = 0; i < r->rows(); ++i) page.sessions.push_back(RecordFrom(*r, i));
        if (page.sessions.size() > query.limit) {
            page.sessions.resize(query.limit);
            page.next_cursor = ListCursorText(page.sessions.back());
        }
        return page;
    }

    Expected<void> PutImage(const std::string& session_id, const StoredImage& im) override {
        return Run("storing an image",
                   "INSERT INTO session_images(session_id, idx, kind, box_json, sha256, jpeg) "
                   "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id, idx) DO UPDATE SET "
                   "kind = EXCLUDED.kind, box_json = EXCLUDED.box_json, "
                   "sha256 = EXCLUDED.sha256, jpeg = EXCLUDED.jpeg",
                   {session_id, static_cast<std::int64_t>(im.index), im.kind, im.box_json,
                    im.sha256_hex, PgParam::Bytes(im.jpeg)});
    }

    Expected<std::vector<StoredImage>> Images(const std::string& session_id,
                                              bool with_bytes) override {
        auto r = Query("listing images",
                       with_bytes ? "SELECT idx, kind, box_json, sha256, jpeg FROM session_images "
                                    "WHERE session_id = $1 ORDER BY idx"
                                  : "SELECT idx, kind, box_json, sha256 FROM session_images "
                                    "WHERE session_id = $1 ORDER BY idx",
                       {session_id});
        if (!r) return Unexpected{r.error()};
        std::vector<StoredImage> out;
        for (int i = 0; i < r->rows(); ++i) out.push_back(ImageFrom(*r, i, with_bytes));
        return out;
    }

    Expected<std::optional<StoredImage>> Image(const std::string& session_id, int index) override {
        auto r = Query("reading an image",
                       "SELECT idx, kind, box_json, sha256, jpeg FROM session_images "
                       "WHERE session_id = $1 AND idx = $2",
                       {session_id, static_cast<std::int64_t>(index)});
        if (!r) return Unexpected{r.error()};
        if (r->rows() == 0) return std::optional<StoredImage>();
        return std::optional<StoredImage>(ImageFrom(*r, 0, true));
    }

    Expected<void> Audit(const AuditEvent& e) override {
        return Run("writing the audit trail",
                   "INSERT INTO audit(at_ms, session_id, action, key_id, remote, detail) "
                   "VALUES($1, $2, $3, $4, $5, $6)",
                   {e.at_ms, e.session_id, e.action, e.key_id, e.remote, e.detail});
    }

    Expected<std::vector<AuditEvent>> AuditTrail(const std::string& session_id) override {
        auto r = Query("reading the audit trail",
                       "SELECT seq, at_ms, session_id, action, key_id, remote, detail FROM audit "
                       "WHERE session_id = $1 ORDER BY seq",
                       {session_id});
        if (!r) return Unexpected{r.error()};
        std::vector<AuditEvent> out;
        for (int i = 0; i < r->rows(); ++i) {
            out.push_back({r->Int(i, 0), r->Int(i, 1), r->Text(i, 2), r->Text(i, 3), r->Text(i, 4),
                           r->Text(i, 5), r->Text(i, 6)});
        }
        return out;
    }

    Expected<int> ExpireDue(std::int64_t now_ms, std::int64_t run_limit_ms) override {
        // Each is one statement: take a batch no other node holds, change it, audit it.
        auto expired = Query(
            "expiring",
            "WITH due AS (SELECT id FROM sessions WHERE status = 'CREATED' AND expires_ms <= $1 "
            "  LIMIT $2 FOR UPDATE SKIP LOCKED), "
            "ended AS (UPDATE sessions s SET status = 'EXPIRED', decision = 'failed', "
            "  reason = 'expired', finished_ms = $1 FROM due "
            "  WHERE s.id = due.id AND s.status = 'CREATED' RETURNING s.id) "
            "INSERT INTO audit(at_ms, session_id, action, key_id, remote, detail) "
            "SELECT $1, id, 'expired', 'server', '', 'not started before expiry' FROM ended",
            {now_ms, kSweepBatch});
        if (!expired) return Unexpected{expired.error()};
        auto interrupted =
            Query("interrupting",
                  "WITH due AS (SELECT id, node FROM sessions WHERE status = 'IN_PROGRESS' "
                  "  AND started_ms <= $2 LIMIT $3 FOR UPDATE SKIP LOCKED), "
                  "ended AS (UPDATE sessions s SET status = 'FAILED', decision = 'failed', "
                  "  reason = 'interrupted', finished_ms = $1 FROM due "
                  "  WHERE s.id = due.id AND s.status = 'IN_PROGRESS' RETURNING s.id, due.node) "
                  "INSERT INTO audit(at_ms, session_id, action, key_id, remote, detail) "
                  "SELECT $1, id, 'interrupted', 'server', '', "
                  "  'ran longer than any run may; node ' || node FROM ended",
                  {now_ms, now_ms - run_limit_ms, kSweepBatch});
        if (!interrupted) return Unexpected{interrupted.error()};
        return expired->changed() + interrupted->changed();
    }

    Expected<int> InterruptRunning(const std::string& node, std::int64_t now_ms) override {
        auto r = Query(
            "interrupting",
            "WITH ended AS (UPDATE sessions SET status = 'FAILED', decision = 'failed', "
            "  reason = 'interrupted', finished_ms = $1 "
            "  WHERE status = 'IN_PROGRESS' AND node = $2 RETURNING id) "
            "INSERT INTO audit(at_ms, session_id, action, key_id, remote, detail) "
            "SELECT $1, id, 'interrupted', 'server', '', 'node ' || $2 || ' restarted while it "
            "ran' FROM ended",
            {now_ms, node});
        if (!r) return Unexpected{r.error()};
        return r->changed();
    }

    Expected<int> Purge(std::int64_t before_ms) override {
        auto erased = Query("purging sessions",
                            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE "
                            "created_ms < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                            {before_ms, kSweepBatch});
        if (!erased) return Unexpected{erased.error()};
        if (auto a =
                Run("purging the audit trail", "DELETE FROM audit WHERE at_ms < $1", {before_ms});
            !a)
            return Unexpected{a.error()};
        return erased->changed();
    }

    Expected<int> CountFailures(AttemptScope scope, const std::string& value,
                                std::int64_t since_ms) override {
        if (value.empty()) return 0;  // no device id, no key id: nothing to count against
        auto r = Query("counting failures",
                       scope == AttemptScope::Device
                           ? "SELECT COUNT(*) FROM sessions WHERE device_id = $1 AND "
                             "status = 'FAILED' AND finished_ms >= $2"
                           : "SELECT COUNT(*) FROM sessions WHERE key_id = $1 AND "
                             "status = 'FAILED' AND finished_ms >= $2",
                       {value, since_ms});
        if (!r) return Unexpected{r.error()};
        return static_cast<int>(r->Int(0, 0));
    }

  private:
    Expected<PgResult> Query(const std::string& what, const char* sql,
                             const std::vector<PgParam>& params) {
        auto c = pool_.Acquire();
        if (!c) return Unexpected{c.error()};
        return (*c)->Exec(what, sql, params);
    }

    Expected<void> Run(const std::string& what, const char* sql,
                       const std::vector<PgParam>& params) {
        auto r = Query(what, sql, params);
        if (!r) return Unexpected{r.error()};
        return {};
    }

    static Expected<void> MigrateLocked(PgPool::Lease& db) {
        if (auto r = db.Exec("creating the migrations table",
                             "CREATE TABLE IF NOT EXISTS schema_migrations(version BIGINT PRIMARY "
                             "KEY, applied_ms BIGINT NOT NULL)");
            !r)
            return Unexpected{r.error()};
        auto v = db.Exec("reading the schema version",
                         "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        if (!v) return Unexpected{v.error()};
        const std::int64_t version = v->Int(0, 0);
        if (version > kSchemaVersion) {
            return MakeError(ErrorCode::Internal,
                             "the database has schema version " + std::to_string(version) +
                                 ", newer than this liveproof's " + std::to_string(kSchemaVersion) +
                                 "; run the newer release");
        }
        if (version >= 1) return {};
        // One transaction: the tables and their version, or nothing (a failure leaves it
        // aborted, and the connection is dropped with it).
        const std::string script = std::string("BEGIN;") + SchemaV1(kPostgresDialect) +
                                   "INSERT INTO schema_migrations(version, applied_ms) VALUES(1, "
                                   "(EXTRACT(EPOCH FROM now()) * 1000)::bigint); COMMIT;";
        return db.ExecScript("creating schema version 1", script.c_str());
    }

    // One session from @p from to a terminal state with decision "failed", audited, in one
    // statement; nothing (and no audit line) when it was no longer in @p from.
    static Expected<void> EndOne(PgPool::Lease& db, const std::string& id, std::int64_t now_ms,
                                 std::string_view from, std::string_view to,
                                 std::string_view reason, std::string_view action,
                                 const std::string& detail) {
        auto r = db.Exec(
            "ending a session",
            "WITH ended AS (UPDATE sessions SET status = $1, decision = 'failed', reason = $2, "
            "  finished_ms = $3 WHERE id = $4 AND status = $5 RETURNING id) "
            "INSERT INTO audit(at_ms, session_id, action, key_id, remote, detail) "
            "SELECT $3, id, $6::text, 'server', '', $7::text FROM ended",
            {to, reason, now_ms, id, from, action, detail});
        if (!r) return Unexpected{r.error()};
        return {};
    }

    PgPool pool_;
};

}  // namespace

Expected<std::unique_ptr<SessionStore>> OpenPostgresStore(const std::string& url,
                                                          std::size_t pool_size) {
    auto store = std::make_unique<PgStore>(url, pool_size);
    if (auto migrated = store->Migrate(); !migrated) return Unexpected{migrated.error()};
    return std::unique_ptr<SessionStore>(std::move(store));
}

}  // namespace liveproof::store
