// SqliteStatement: sqlite3_prepare_v3 / bind / step / column behind RAII.
#include "store/sqlite_statement.hpp"

namespace liveproof::store {

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), 0, &stmt_, nullptr) !=
        SQLITE_OK) {
        sqlite3_finalize(stmt_);
        stmt_ = nullptr;
    }
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::Bind(std::string_view text) {
    // SQLITE_TRANSIENT: SQLite copies, so temporaries may be bound. A null pointer would bind
    // NULL, not "": an empty view may have one.
    static constexpr char kEmpty[] = "";
    sqlite3_bind_text64(stmt_, next_++, text.empty() ? kEmpty : text.data(), text.size(),
                        SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}

SqliteStatement& SqliteStatement::Bind(std::int64_t value) {
    sqlite3_bind_int64(stmt_, next_++, value);
    return *this;
}

SqliteStatement& SqliteStatement::Bind(const std::vector<std::uint8_t>& blob) {
    // An empty vector's data() is null, which SQLite binds as NULL (found by fuzz_sessions):
    // an empty blob is a zero-length blob.
    if (blob.empty()) {
        sqlite3_bind_zeroblob(stmt_, next_++, 0);
    } else {
        sqlite3_bind_blob64(stmt_, next_++, blob.data(), blob.size(), SQLITE_TRANSIENT);
    }
    return *this;
}

int SqliteStatement::Step() { return stmt_ == nullptr ? SQLITE_MISUSE : sqlite3_step(stmt_); }

bool SqliteStatement::Run() {
    int rc = Step();
    while (rc == SQLITE_ROW) rc = Step();
    return rc == SQLITE_DONE;
}

std::string SqliteStatement::Text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    const int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::vector<std::uint8_t> SqliteStatement::Blob(int column) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
    const int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr ? std::vector<std::uint8_t>() : std::vector<std::uint8_t>(p, p + n);
}

}  // namespace liveproof::store
