// Schema version 1 of the session store, with each dialect's types filled in.
#include "store/schema.hpp"

#include <string_view>

namespace liveproof::store {

namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE sessions(
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  device_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  external_ref TEXT NOT NULL,
  settings_json TEXT NOT NULL,
  decision TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  result_json TEXT NOT NULL DEFAULT '',
  verdict TEXT NOT NULL DEFAULT '',
  node TEXT NOT NULL DEFAULT '',
  created_ms {INTEGER} NOT NULL,
  expires_ms {INTEGER} NOT NULL,
  started_ms {INTEGER} NOT NULL DEFAULT 0,
  finished_ms {INTEGER} NOT NULL DEFAULT 0);
CREATE INDEX sessions_by_key ON sessions(key_id, created_ms DESC, id DESC);
CREATE INDEX sessions_by_status ON sessions(status, expires_ms);
CREATE INDEX sessions_by_device ON sessions(device_id, status, finished_ms);
CREATE INDEX sessions_by_created ON sessions(created_ms);
CREATE TABLE session_images(
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  kind TEXT NOT NULL,
  box_json TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  jpeg {BYTES} NOT NULL,
  PRIMARY KEY(session_id, idx));
CREATE TABLE audit(
  seq {SERIAL_KEY},
  at_ms {INTEGER} NOT NULL,
  session_id TEXT NOT NULL,
  action TEXT NOT NULL,
  key_id TEXT NOT NULL,
  remote TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX audit_by_session ON audit(session_id, seq);
CREATE INDEX audit_by_time ON audit(at_ms);
)sql";

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

}  // namespace

std::string SchemaV1(const SqlDialect& dialect) {
    std::string sql(kSchemaV1);
    ReplaceAll(sql, "{INTEGER}", dialect.integer);
    ReplaceAll(sql, "{BYTES}", dialect.bytes);
    ReplaceAll(sql, "{SERIAL_KEY}", dialect.serial_key);
    return sql;
}

}  // namespace liveproof::store
