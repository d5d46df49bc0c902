// Versioned schema migrations, applied when a store opens (docs/storage.md §Migrations).
#pragma once

#include <string>
#include <string_view>

#include "server/store/sql.h"

namespace bulwark::server {

struct Migration {
  std::int64_t version;
  std::string_view description;
  std::string_view sql;  // portable SQL with {{BLOB}} and {{ID}} dialect tokens
};

// The newest schema version this binary knows.
std::int64_t latestSchemaVersion();

// Expands the dialect tokens of a migration script.
std::string migrationSql(std::string_view sql, SqlDialect dialect);

// Brings the database to latestSchemaVersion() in ONE transaction (all or nothing):
// creates schema_version if absent, applies every newer migration in order, records each.
// Idempotent: a second call applies nothing. On PostgreSQL an advisory transaction lock
// serializes replicas migrating at the same moment. kUnsupported if the database is newer
// than this binary (a downgrade must not write into a schema it does not understand).
// Returns the schema version after migrating.
[[nodiscard]] Result<std::int64_t> migrate(ConnectionPool& pool);

}  // namespace bulwark::server
