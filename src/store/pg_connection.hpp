// libpq behind two small types: a capped pool of connections and the result of one statement.
// Every statement is sent with its values as parameters (never spliced into the SQL text).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "liveproof/expected.hpp"
#include "store/session_store.hpp"

namespace liveproof::store {

/// @brief One value of a statement: text, or bytes sent in binary (bytea).
struct PgParam {
    std::string text;
    bool binary = false;
    PgParam(std::string v) : text(std::move(v)) {}        // NOLINT: implicit by design
    PgParam(const char* v) : text(v) {}                   // NOLINT
    PgParam(std::string_view v) : text(v) {}              // NOLINT
    PgParam(std::int64_t v) : text(std::to_string(v)) {}  // NOLINT
    static PgParam Bytes(const std::vector<std::uint8_t>& b) {
        PgParam p{std::string(b.begin(), b.end())};
        p.binary = true;
        return p;
    }
};

/// @brief WHAT THIS OBJECT REPRESENTS: the rows of one statement (text format).
/// THREAD SAFETY: a value owned by one thread.
class PgResult {
  public:
    explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
    [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
    [[nodiscard]] std::string Text(int row, int col) const {
        return {PQgetvalue(r_.get(), row, col),
                static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    [[nodiscard]] std::int64_t Int(int row, int col) const;
    /// @brief A bytea column (text format: PostgreSQL's hex escape) as bytes.
    [[nodiscard]] std::vector<std::uint8_t> Bytes(int row, int col) const;
    /// @brief Rows an INSERT, UPDATE or DELETE changed.
    [[nodiscard]] int changed() const;

  private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

/// @brief WHAT THIS OBJECT REPRESENTS: at most `size` connections to one database, opened on
/// demand and reopened after a failure, so that the store recovers by itself when the database
/// returns. A caller holds one connection for a call (Lease) and returns it.
/// THREAD SAFETY: every function is thread-safe; a Lease belongs to one thread.
class PgPool {
  public:
    /// @brief @p url: a libpq URI or conninfo (postgresql://user:pass@host:port/db?...).
    PgPool(std::string url, std::size_t size, std::chrono::milliseconds wait);
    ~PgPool();
    PgPool(const PgPool&) = delete;
    PgPool& operator=(const PgPool&) = delete;

    /// @brief One connection, held until destroyed; a failed statement drops it from the pool.
    class Lease {
      public:
        Lease(PgPool& pool, PGconn* c) : pool_(pool), c_(c) {}
        ~Lease() { pool_.Return(c_, broken_); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        /// @brief Runs @p sql with @p params; the rows, or an error naming @p what.
        Expected<PgResult> Exec(const std::string& what, const char* sql,
                                const std::vector<PgParam>& params = {});
        /// @brief Runs @p sql, several statements without parameters (a schema migration).
        Expected<void> ExecScript(const std::string& what, const char* sql);

      private:
        Expected<PgResult> Checked(const std::string& what, PGresult* raw);
        PgPool& pool_;
        PGconn* c_;
        bool broken_ = false;
    };

    /// @brief A connection (opening one if none is idle and the cap allows), waiting at most
    /// the pool's wait for one to be returned; an error when the database cannot be reached.
    Expected<std::unique_ptr<Lease>> Acquire();

  private:
    void Return(PGconn* c, bool broken);

    const std::string url_;
    const std::size_t size_;
    const std::chrono::milliseconds wait_;
    std::mutex mu_;
    std::condition_variable returned_;
    std::vector<PGconn*> idle_;
    std::size_t open_ = 0;  // idle and leased
};

}  // namespace liveproof::store
