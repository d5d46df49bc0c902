#include "server/store/migrations.h"

#include <array>

namespace bulwark::server {

namespace {

// Version 1: the whole verifier schema. Column meanings are in docs/storage.md.
// Never edit a released migration; append a new one.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE nodes (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('enrolling', 'trusted', 'untrusted', 'revoked')),
  node_group TEXT NOT NULL DEFAULT '',
  ek_cert {{BLOB}} NOT NULL,
  ek_public {{BLOB}} NOT NULL,
  ak_public {{BLOB}} NOT NULL,
  ak_name {{BLOB}} NOT NULL,
  enrolled_at BIGINT NOT NULL,
  approved_at BIGINT,
  client_cert_serial TEXT NOT NULL DEFAULT '',
  reset_count BIGINT,
  restart_count BIGINT,
  clock BIGINT,
  latest_appraisal_id BIGINT,
  latest_appraised_at BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX nodes_group ON nodes (node_group, name);

CREATE TABLE pending_enrollments (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  node_group TEXT NOT NULL DEFAULT '',
  ek_cert {{BLOB}} NOT NULL,
  ek_public {{BLOB}} NOT NULL,
  ak_public {{BLOB}} NOT NULL,
  ak_name {{BLOB}} NOT NULL,
  secret_hash {{BLOB}} NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX pending_enrollments_expires ON pending_enrollments (expires_at);

CREATE TABLE nonces (
  value {{BLOB}} PRIMARY KEY,
  node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX nonces_node ON nonces (node);
CREATE INDEX nonces_expires ON nonces (expires_at);

CREATE TABLE appraisals (
  id {{ID}},
  node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
  appraised_at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('affirming', 'warning', 'contraindicated', 'none')),
  reasons TEXT NOT NULL,
  trust_vector TEXT NOT NULL,
  ear TEXT NOT NULL,
  evidence_digest {{BLOB}} NOT NULL,
  fresh_until BIGINT NOT NULL,
  reset_count BIGINT,
  restart_count BIGINT,
  clock BIGINT,
  policy_version BIGINT NOT NULL
);
CREATE INDEX appraisals_node_time ON appraisals (node, appraised_at DESC, id DESC);

CREATE TABLE evidence (
  node TEXT PRIMARY KEY REFERENCES nodes (name) ON DELETE CASCADE,
  received_at BIGINT NOT NULL,
  digest {{BLOB}} NOT NULL,
  bytes {{BLOB}} NOT NULL
);

CREATE TABLE reference_values (
  id {{ID}},
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  sha256 {{BLOB}} NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'revoked')),
  created_at BIGINT NOT NULL,
  approved_by TEXT NOT NULL DEFAULT '',
  approved_at BIGINT,
  UNIQUE (kind, subject, sha256, source)
);
CREATE INDEX reference_values_source ON reference_values (source, state);
CREATE INDEX reference_values_state ON reference_values (state, kind, subject);

CREATE TABLE image_rules (
  id {{ID}},
  kind TEXT NOT NULL CHECK (kind IN ('allow_digest', 'allow_prefix', 'deny_digest')),
  value TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL DEFAULT '',
  UNIQUE (kind, value)
);

CREATE TABLE policy_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO policy_state (id, version) VALUES (1, 0);

CREATE TABLE api_tokens (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('agent', 'scheduler', 'auditor', 'admin')),
  token_hash {{BLOB}} NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
)sql";

// Version 2: superseded measurements an operator accepted for one node (re-approval,
// docs/verifier.md "Superseded entries"); they go with the node (ON DELETE CASCADE).
constexpr std::string_view kV2 = R"sql(
CREATE TABLE node_acknowledgments (
  node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  sha256 {{BLOB}} NOT NULL,
  acknowledged_at BIGINT NOT NULL,
  acknowledged_by TEXT NOT NULL,
  PRIMARY KEY (node, kind, subject, sha256)
);
)sql";

// Version 3: the verified copy of each node's measurement log (docs/api.md "Incremental
// logs"), one row per node, replaced as the log grows.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE log_copies (
  node TEXT PRIMARY KEY REFERENCES nodes (name) ON DELETE CASCADE,
  source TEXT NOT NULL,
  reset_count BIGINT NOT NULL,
  entries BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  sha256 {{BLOB}} NOT NULL,
  bank TEXT NOT NULL,
  chain TEXT NOT NULL,
  content {{BLOB}} NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql";

constexpr std::array<Migration, 3> kMigrations = {{
    {1, "initial verifier schema", kV1},
    {2, "node measurement acknowledgments", kV2},
    {3, "verified incremental log copies", kV3},
}};

// Arbitrary constant naming "bulwark schema migration" for pg_advisory_xact_lock.
constexpr std::int64_t kMigrationLockKey = 0x42756c7761726b;

void replaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

Result<std::int64_t> migrateLocked(SqlConnection& conn) {
  if (conn.dialect() == SqlDialect::kPostgres) {
    auto locked = conn.query("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey});
    if (!locked) return std::unexpected(locked.error());
  }
  auto created = conn.script(
      "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, "
      "description TEXT NOT NULL)");
  if (!created) return std::unexpected(created.error());
  auto current = conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_version", {});
  if (!current) return std::unexpected(current.error());
  std::int64_t version = current->rows.empty() ? 0 : current->rows[0].integer(0);
  if (version > latestSchemaVersion()) {
    return fail(ErrorCode::kUnsupported,
                "database schema version " + std::to_string(version) +
                    " is newer than this verifier (" + std::to_string(latestSchemaVersion()) + ")",
                "store migrate");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    if (auto ok = conn.script(migrationSql(m.sql, conn.dialect())); !ok) {
      return std::unexpected(Error(ok.error()).within("migration " + std::to_string(m.version)));
    }
    auto recorded = conn.query("INSERT INTO schema_version (version, description) VALUES ($1, $2)",
                               {m.version, std::string(m.description)});
    if (!recorded) return std::unexpected(recorded.error());
    version = m.version;
  }
  return version;
}

}  // namespace

std::int64_t latestSchemaVersion() { return kMigrations.back().version; }

std::string migrationSql(std::string_view sql, SqlDialect dialect) {
  std::string out(sql);
  bool pg = dialect == SqlDialect::kPostgres;
  replaceAll(out, "{{BLOB}}", pg ? "BYTEA" : "BLOB");
  // SQLite: INTEGER PRIMARY KEY aliases the rowid (auto-assigned, 64-bit).
  replaceAll(out, "{{ID}}",
             pg ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY");
  return out;
}

Result<std::int64_t> migrate(ConnectionPool& pool) {
  return inTransaction(pool, [](SqlConnection& conn) { return migrateLocked(conn); });
}

}  // namespace bulwark::server
