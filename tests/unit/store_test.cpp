// The session stores, one suite for both: SQLite on a real file, and PostgreSQL on a real server
// (tests/store/with_postgres.sh starts one and sets LIVEPROOF_TEST_PG_URL; without it the
// PostgreSQL cases skip). Single-use starts, compare-and-set finishes, expiry, interrupted runs,
// images, the audit trail, paging, retention, and the schema's version; for PostgreSQL also
// migrations by nodes starting together.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "store/session_store.hpp"

namespace liveproof::store {
namespace {

namespace fs = std::filesystem;

const std::string kToken(64, 'a');

SessionRecord NewSession(const std::string& id, std::int64_t created_ms,
                         const std::string& key = "key-1") {
    SessionRecord s;
    s.id = id;
    s.key_id = key;
    s.mode = "active";
    s.token_hash = kToken;
    s.device_id = "device-1";
    s.nonce = "n-1";
    s.external_ref = "ref-1";
    s.settings_json = R"({"mode":"active"})";
    s.created_ms = created_ms;
    s.expires_ms = created_ms + 180'000;
    return s;
}

// 32 hex digits from a number, as session ids are.
std::string Id(int n) {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%032x", n);
    return buf;
}

Terminal Live(std::int64_t at) {
    return {SessionStatus::Succeeded, "live", "", R"({"frames":10})", "a.b.c", at};
}

// The PostgreSQL server of tests/store/with_postgres.sh, or "".
std::string PgUrl() {
    const char* url = std::getenv("LIVEPROOF_TEST_PG_URL");
    return url != nullptr ? url : "";
}

// Runs SQL on the test's PostgreSQL outside the store (set-up and tampering).
bool PgExec(const std::string& sql) {
    PGconn* c = PQconnectdb(PgUrl().c_str());
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) ADD_FAILURE() << PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    return ok;
}

constexpr const char* kDropSchema =
    "DROP TABLE IF EXISTS session_images, audit, sessions, schema_migrations";

class StoreTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        if (GetParam() == "postgresql") {
            if (PgUrl().empty()) {
                GTEST_SKIP() << "no PostgreSQL: ctest runs these cases through "
                                "tests/store/with_postgres.sh (store_postgresql)";
            }
            ASSERT_TRUE(PgExec(kDropSchema));
        } else {
            dir_ = fs::temp_directory_path() /
                   ("liveproof_store_" + std::to_string(::getpid()) + "_" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
            fs::remove_all(dir_);
            fs::create_directories(dir_);
            path_ = (dir_ / "liveproof.db").string();
        }
        auto opened = OpenAnother();
        ASSERT_TRUE(opened) << opened.error().detail;
        store_ = std::move(*opened);
    }
    void TearDown() override {
        store_.reset();
        if (!dir_.empty()) fs::remove_all(dir_);
    }
    // Another handle on the same database: a second process, or a second node.
    Expected<std::unique_ptr<SessionStore>> OpenAnother() {
        if (GetParam() == "postgresql") return OpenPostgresStore(PgUrl(), 4);
        return OpenSqliteStore(path_);
    }
    // SQL run on the database behind the store's back.
    bool ExecRaw(const std::string& sql) {
        if (GetParam() == "postgresql") return PgExec(sql);
        sqlite3* db = nullptr;
        const bool ok = sqlite3_open(path_.c_str(), &db) == SQLITE_OK &&
                        sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
        sqlite3_close(db);
        return ok;
    }
    SessionStatus StatusOf(const std::string& id) {
        auto s = store_->Get(id);
        EXPECT_TRUE(s && *s);
        return (*s)->status;
    }
    fs::path dir_;
    std::string path_;
    std::unique_ptr<SessionStore> store_;
};

TEST_P(StoreTest, RoundTripsEveryField) {
    SessionRecord s = NewSession(Id(1), 1000);
    ASSERT_TRUE(store_->Create(s));
    EXPECT_FALSE(store_->Create(s));  // the same id twice
    auto got = store_->Get(s.id);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ((*got)->status, SessionStatus::Created);
    EXPECT_EQ((*got)->key_id, "key-1");
    EXPECT_EQ((*got)->device_id, "device-1");
    EXPECT_EQ((*got)->nonce, "n-1");
    EXPECT_EQ((*got)->external_ref, "ref-1");
    EXPECT_EQ((*got)->settings_json, s.settings_json);
    EXPECT_EQ((*got)->expires_ms, 181'000);
    auto none = store_->Get(Id(2));
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    EXPECT_TRUE(store_->Check());
    EXPECT_EQ(store_->kind(), GetParam());
}

TEST_P(StoreTest, StartsOnceWithTheRightTokenOnly) {
    ASSERT_TRUE(store_->Create(NewSession(Id(1), 1000)));
    EXPECT_EQ(*store_->Start(Id(1), std::string(64, 'b'), "node-a", 2000), StartOutcome::BadToken);
    EXPECT_EQ(*store_->Start(Id(1), "", "node-a", 2000), StartOutcome::BadToken);
    EXPECT_EQ(*store_->Start(Id(9), kToken, "node-a", 2000), StartOutcome::NotFound);
    EXPECT_EQ(StatusOf(Id(1)), SessionStatus::Created);
    EXPECT_EQ(*store_->Start(Id(1), kToken, "node-a", 2000), StartOutcome::Started);
    EXPECT_EQ(*store_->Start(Id(1), kToken, "node-b", 2001), StartOutcome::AlreadyStarted);
    auto s = *store_->Get(Id(1));
    EXPECT_EQ(s->status, SessionStatus::InProgress);
    EXPECT_EQ(s->node, "node-a");
    EXPECT_EQ(s->started_ms, 2000);
}

TEST_P(StoreTest, FinishesOnceAndOnlyARunningSession) {
    ASSERT_TRUE(store_->Create(NewSession(Id(1), 1000)));
    EXPECT_FALSE(*store_->Finish(Id(1), Live(3000)));  // not started
    ASSERT_EQ(*store_->Start(Id(1), kToken, "node-a", 2000), StartOutcome::Started);
    EXPECT_TRUE(*store_->Finish(Id(1), Live(3000)));
    Terminal spoof{SessionStatus::Failed, "spoof", "spoof", "{}", "x.y.z", 3001};
    EXPECT_FALSE(*store_->Finish(Id(1), spoof));  // the first verdict stands
    auto s = *store_->Get(Id(1));
    EXPECT_EQ(s->status, SessionStatus::Succeeded);
    EXPECT_EQ(s->decision, "live");
    EXPECT_EQ(s->verdict, "a.b.c");
    EXPECT_EQ(s->finished_ms, 3000);
    EXPECT_EQ(*store_->Start(Id(1), kToken, "node-a", 4000), StartOutcome::AlreadyStarted);
}

TEST_P(StoreTest, ConcurrentStartsHaveExactlyOneWinner) {
    ASSERT_TRUE(store_->Create(NewSession(Id(1), 1000)));
    // A second connection to the same database stands for a second process or node.
    auto other = OpenAnother();
    ASSERT_TRUE(other) << other.error().detail;
    std::atomic<int> started{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            SessionStore& s = i % 2 == 0 ? *store_ : **other;
            auto r = s.Start(Id(1), kToken, "node-" + std::to_string(i), 2000);
            ASSERT_TRUE(r) << r.error().detail;
            (*r == StartOutcome::Started ? started : refused)++;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(started.load(), 1);
    EXPECT_EQ(refused.load(), 7);
}

TEST_P(StoreTest, ExpiresUnstartedSessionsAndInterruptsStaleRuns) {
    ASSERT_TRUE(store_->Create(NewSession(Id(1), 1000)));  // expires at 181 000
    ASSERT_TRUE(store_->Create(NewSession(Id(2), 1000)));
    ASSERT_TRUE(store_->Create(NewSession(Id(3), 1000)));
    ASSERT_EQ(*store_->Start(Id(2), kToken, "node-a", 2000), StartOutcome::Started);
    ASSERT_EQ(*store_->Start(Id(3), kToken, "node-a", 170'000), StartOutcome::Started);
    // Starting after expiry is refused and marks it.
    EXPECT_EQ(*store_->Start(Id(1), kToken, "node-a", 181'000), StartOutcome::Expired);
    EXPECT_EQ(StatusOf(Id(1)), SessionStatus::Expired);
    EXPECT_EQ(*store_->Start(Id(1), kToken, "node-a", 100), StartOutcome::Expired);
    // A run longer than the limit (its node died) ends FAILED interrupted; a young one stays.
    EXPECT_EQ(*store_->ExpireDue(200'000, 60'000), 1);
    auto s2 = *store_->Get(Id(2));
    EXPECT_EQ(s2->status, SessionStatus::Failed);
    EXPECT_EQ(s2->reason, "interrupted");
    EXPECT_EQ(StatusOf(Id(3)), SessionStatus::InProgress);
    EXPECT_EQ(*store_->ExpireDue(200'000, 60'000), 0);  // nothing twice
    // The sweeper also expires what nobody tried to start.
    ASSERT_TRUE(store_->Create(NewSession(Id(4), 10'000)));
    EXPECT_EQ(*store_->ExpireDue(190'000, 600'000), 1);
    auto s4 = *store_->Get(Id(4));
    EXPECT_EQ(s4->status, SessionStatus::Expired);
    EXPECT_EQ(s4->reason, "expired");
    EXPECT_EQ(s4->decision, "failed");
    EXPECT_FALSE(*store_->Finish(Id(2), Live(300'000)));  // too late to overwrite
    auto trail = *store_->AuditTrail(Id(2));
    ASSERT_EQ(trail.size(), 1u);
    EXPECT_EQ(trail[0].action, "interrupted");
}

TEST_P(StoreTest, InterruptsOnlyTheRestartedNodesRuns) {
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(store_->Create(NewSession(Id(i), 1000)));
    ASSERT_EQ(*store_->Start(Id(1), kToken, "node-a", 2000), StartOutcome::Started);
    ASSERT_EQ(*store_->Start(Id(2), kToken, "node-b", 2000), StartOutcome::Started);
    EXPECT_EQ(*store_->InterruptRunning("node-a", 5000), 1);
    EXPECT_EQ(StatusOf(Id(1)), SessionStatus::Failed);
    EXPECT_EQ(StatusOf(Id(2)), SessionStatus::InProgress);
    EXPECT_EQ(StatusOf(Id(3)), SessionStatus::Created);
}

TEST_P(StoreTest, KeepsImagesWithTheirSessionAndTheAuditTrailAfterDelete) {
    ASSERT_TRUE(store_->Create(NewSession(Id(1), 1000)));
    StoredImage im{0, "reference", R"({"x":1})", "ab12", {0xFF, 0xD8, 0x00, 0xFF, 0xD9}};
    ASSERT_TRUE(store_->PutImage(Id(1), im));
    im.index = 1;
    im.kind = "audit";
    ASSERT_TRUE(store_->PutImage(Id(1), im));
    auto listed = *store_->Images(Id(1), false);
    ASSERT_EQ(listed.size(), 2u);  // before the empty one below
    EXPECT_EQ(listed[0].kind, "reference");
    EXPECT_TRUE(listed[0].jpeg.empty());
    auto one = *store_->Image(Id(1), 1);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->jpeg, im.jpeg);
    EXPECT_FALSE(*store_->Image(Id(1), 7));
    // Empty values are stored as empty, not NULL (an empty vector's data() is null).
    ASSERT_TRUE(store_->PutImage(Id(1), {2, "audit", "", "", {}}));
    auto empty = *store_->Image(Id(1), 2);
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->jpeg.empty());
    EXPECT_EQ(empty->box_json, "");
    EXPECT_FALSE(store_->PutImage(Id(5), im));  // no such session: the foreign key refuses
    ASSERT_TRUE(store_->Audit({0, 1000, Id(1), "created", "key-1", "127.0.0.1", ""}));
    EXPECT_TRUE(*store_->Delete(Id(1)));
    EXPECT_FALSE(*store_->Delete(Id(1)));
    EXPECT_FALSE(*store_->Get(Id(1)));
    EXPECT_TRUE(store_->Images(Id(1), true)->empty());
    ASSERT_TRUE(store_->Audit({0, 2000, Id(1), "deleted", "key-1", "127.0.0.1", ""}));
    auto trail = *store_->AuditTrail(Id(1));
    ASSERT_EQ(trail.size(), 2u);
    EXPECT_LT(trail[0].seq, trail[1].seq);
    EXPECT_EQ(trail[1].action, "deleted");
}

TEST_P(StoreTest, ListsAKeysSessionsNewestFirstInPages) {
    for (int i = 1; i <= 7; ++i) ASSERT_TRUE(store_->Create(NewSession(Id(i), 1000 + i / 2)));
    ASSERT_TRUE(store_->Create(NewSession(Id(8), 5000, "key-2")));
    ASSERT_EQ(*store_->Start(Id(7), kToken, "n", 2000), StartOutcome::Started);
    std::vector<std::string> seen;
    ListQuery q;
    q.key_id = "key-1";
    q.limit = 3;
    for (int page = 0; page < 5; ++page) {
        auto p = store_->List(q);
        ASSERT_TRUE(p) << p.error().detail;
        for (const auto& s : p->sessions) seen.push_back(s.id);
        if (p->next_cursor.empty()) break;
        q.cursor = p->next_cursor;
    }
    ASSERT_EQ(seen.size(), 7u);  // every session once, the other key's never
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7u);
    EXPECT_EQ(seen.front(), Id(7));  // created last (ties broken by id)
    EXPECT_EQ(seen.back(), Id(1));
    ListQuery running;
    running.key_id = "key-1";
    running.status = SessionStatus::InProgress;
    EXPECT_EQ(store_->List(running)->sessions.size(), 1u);
    ListQuery recent;
    recent.key_id = "key-1";
    recent.since_ms = 1003;
    EXPECT_EQ(store_->List(recent)->sessions.size(), 2u);
    for (const std::string& bad :
         std::vector<std::string>{"x", "12:zz", "-1:" + Id(1), ":" + Id(1), "1:" + Id(1) + "0"}) {
        ListQuery b;
        b.key_id = "key-1";
        b.cursor = bad;
        EXPECT_FALSE(store_->List(b)) << bad;
    }
}

TEST_P(StoreTest, CountsRecentFailuresPerDeviceAndKey) {
    for (int i = 1; i <= 4; ++i) {
        ASSERT_TRUE(store_->Create(NewSession(Id(i), 1000)));
        ASSERT_EQ(*store_->Start(Id(i), kToken, "n", 2000), StartOutcome::Started);
    }
    Terminal spoof{SessionStatus::Failed, "spoof", "spoof", "{}", "", 3000};
    ASSERT_TRUE(*store_->Finish(Id(1), spoof));
    ASSERT_TRUE(*store_->Finish(Id(2), spoof));
    spoof.finished_ms = 9000;
    ASSERT_TRUE(*store_->Finish(Id(3), spoof));
    ASSERT_TRUE(*store_->Finish(Id(4), Live(9000)));
    EXPECT_EQ(*store_->CountFailures(AttemptScope::Device, "device-1", 0), 3);
    EXPECT_EQ(*store_->CountFailures(AttemptScope::Device, "device-1", 5000), 1);
    EXPECT_EQ(*store_->CountFailures(AttemptScope::Key, "key-1", 0), 3);
    EXPECT_EQ(*store_->CountFailures(AttemptScope::Device, "device-2", 0), 0);
    EXPECT_EQ(*store_->CountFailures(AttemptScope::Device, "", 0), 0);
}

TEST_P(StoreTest, PurgesWhatIsPastRetention) {
    ASSERT_TRUE(store_->Create(NewSession(Id(1), 1000)));
    ASSERT_TRUE(store_->Create(NewSession(Id(2), 9000)));
    ASSERT_TRUE(store_->PutImage(Id(1), {0, "audit", "{}", "00", {1, 2, 3}}));
    ASSERT_TRUE(store_->Audit({0, 1000, Id(1), "created", "k", "", ""}));
    ASSERT_TRUE(store_->Audit({0, 9000, Id(2), "created", "k", "", ""}));
    EXPECT_EQ(*store_->Purge(5000), 1);
    EXPECT_FALSE(*store_->Get(Id(1)));
    EXPECT_TRUE(*store_->Get(Id(2)));
    EXPECT_TRUE(store_->AuditTrail(Id(1))->empty());
    EXPECT_EQ(store_->AuditTrail(Id(2))->size(), 1u);
}

TEST_P(StoreTest, SurvivesReopeningAndIsOwnerOnly) {
    ASSERT_TRUE(store_->Create(NewSession(Id(1), 1000)));
    ASSERT_EQ(*store_->Start(Id(1), kToken, "n", 2000), StartOutcome::Started);
    ASSERT_TRUE(*store_->Finish(Id(1), Live(3000)));
    store_.reset();
    auto reopened = OpenAnother();
    ASSERT_TRUE(reopened) << reopened.error().detail;
    auto s = *(*reopened)->Get(Id(1));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->status, SessionStatus::Succeeded);
    EXPECT_EQ(s->verdict, "a.b.c");
    if (GetParam() != "sqlite") return;  // the file's mode: SQLite's only
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST_P(StoreTest, RefusesADatabaseOfANewerSchema) {
    store_.reset();
    ASSERT_TRUE(ExecRaw("INSERT INTO schema_migrations VALUES(99, 0)"));
    auto refused = OpenAnother();
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().detail.find("newer"), std::string::npos) << refused.error().detail;
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

TEST(PostgresStore, MigratesOnceWhenNodesStartTogether) {
    if (PgUrl().empty()) GTEST_SKIP() << "no PostgreSQL (store_postgresql runs this)";
    ASSERT_TRUE(PgExec(kDropSchema));
    std::vector<std::thread> nodes;
    std::atomic<int> opened{0};
    for (int i = 0; i < 6; ++i) {
        nodes.emplace_back([&] {
            auto s = OpenPostgresStore(PgUrl(), 2);
            EXPECT_TRUE(s) << (s ? "" : s.error().detail);
            if (s) ++opened;
        });
    }
    for (auto& t : nodes) t.join();
    EXPECT_EQ(opened.load(), 6);
    PGconn* c = PQconnectdb(PgUrl().c_str());
    PGresult* r = PQexec(c, "SELECT COUNT(*) FROM schema_migrations");
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c);
    EXPECT_STREQ(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    PQfinish(c);
}

TEST(PostgresStore, SaysWhyItCannotConnectWithoutThePassword) {
    auto refused = OpenPostgresStore(
        "postgresql://someone:s3cret-pass@127.0.0.1:1/nothing?connect_timeout=2", 1);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().detail.find("cannot connect"), std::string::npos)
        << refused.error().detail;
    EXPECT_EQ(refused.error().detail.find("s3cret-pass"), std::string::npos)
        << refused.error().detail;
}

TEST(SqliteStore, SaysWhyItCannotOpen) {
    auto refused = OpenSqliteStore("/nonexistent-dir/liveproof.db");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().detail.find("/nonexistent-dir/liveproof.db"), std::string::npos);
}

TEST(SessionStatusNames, RoundTrip) {
    for (auto s : {SessionStatus::Created, SessionStatus::InProgress, SessionStatus::Succeeded,
                   SessionStatus::Failed, SessionStatus::Expired}) {
        EXPECT_EQ(ParseSessionStatus(SessionStatusName(s)), s);
    }
    EXPECT_FALSE(ParseSessionStatus("created"));
    EXPECT_TRUE(IsTerminal(SessionStatus::Expired));
    EXPECT_FALSE(IsTerminal(SessionStatus::InProgress));
}

}  // namespace
}  // namespace liveproof::store
