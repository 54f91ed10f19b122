// A prepared SQLite statement that finalizes itself, with typed bind and column helpers.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace liveproof::store {

/// @brief WHAT THIS OBJECT REPRESENTS: one prepared statement of one connection; binds are
/// 1-based in call order (Bind appends), columns 0-based.
/// THREAD SAFETY: none; used under the store's connection lock.
class SqliteStatement {
  public:
    SqliteStatement(sqlite3* db, std::string_view sql);
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    /// @brief False when the SQL did not compile (then every Step fails).
    [[nodiscard]] bool ok() const { return stmt_ != nullptr; }

    SqliteStatement& Bind(std::string_view text);
    SqliteStatement& Bind(std::int64_t value);
    SqliteStatement& Bind(const std::vector<std::uint8_t>& blob);

    /// @brief SQLITE_ROW, SQLITE_DONE, or an error code.
    int Step();
    /// @brief Steps to the end; true when it ended with SQLITE_DONE.
    bool Run();

    [[nodiscard]] std::string Text(int column) const;
    [[nodiscard]] std::int64_t Int(int column) const;
    [[nodiscard]] std::vector<std::uint8_t> Blob(int column) const;

  private:
    sqlite3_stmt* stmt_ = nullptr;
    int next_ = 1;
};

}  // namespace liveproof::store
