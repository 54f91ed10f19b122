// The session store's tables, written once for both databases: only the column types that
// differ between SQLite and PostgreSQL are filled in per dialect.
#pragma once

#include <cstdint>
#include <string>

namespace liveproof::store {

/// @brief The column types a database spells its own way.
struct SqlDialect {
    const char* integer;     ///< a 64-bit integer column
    const char* bytes;       ///< a byte-string column (images)
    const char* serial_key;  ///< an increasing 64-bit primary key the database assigns
};
inline constexpr SqlDialect kSqliteDialect{"INTEGER", "BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"};
inline constexpr SqlDialect kPostgresDialect{"BIGINT", "BYTEA", "BIGSERIAL PRIMARY KEY"};

/// The schema version this build writes; a database of a newer version is refused, because an
/// older binary would silently drop what the newer one added.
inline constexpr std::int64_t kSchemaVersion = 1;

/// @brief Schema version 1 (sessions, their images, the audit trail, their indexes) in
/// @p dialect: several statements, without a transaction of their own.
std::string SchemaV1(const SqlDialect& dialect);

/// The sessions table's columns, in the order the stores read a record.
inline constexpr const char* kSessionColumns =
    "id, key_id, mode, status, token_hash, device_id, nonce, external_ref, settings_json, "
    "decision, reason, result_json, verdict, node, created_ms, expires_ms, started_ms, "
    "finished_ms";

}  // namespace liveproof::store
