// bulwark-verifier configuration (/etc/bulwark/verifier.yaml; documented
// example in packaging/verifier.yaml, reference in docs/verifier.md).
// Validated completely at load: unknown keys, wrong types and out-of-range
// values are errors that name the key ("limits.max_body_bytes: ...").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "attest/core/error.h"
#include "server/http/auth.h"
#include "server/http/server_config.h"

namespace bulwark::server {

struct DatabaseConfig {
  std::string sqlite_path;        // set for SQLite (default engine)
  std::string postgres_conninfo;  // set for PostgreSQL; may hold a password: never log
  bool isPostgres() const { return !postgres_conninfo.empty(); }
};

struct VerifierConfig {
  ServerConfig server;
  // Tokens and certificate mappings; agent_ca_sha256 is filled by the caller
  // from agent_ca_file (reading files is not this parser's job).
  AccessConfig access;
  std::string agent_ca_file;
  DatabaseConfig database;
  std::string verifier_key_file;
  std::chrono::seconds freshness_ttl{600};
};

// Parses YAML text. kInvalidArgument with "<key>: <problem>" on any error.
Result<VerifierConfig> parseVerifierConfig(std::string_view yaml);
// Reads and parses a file; errors carry the path as context.
Result<VerifierConfig> loadVerifierConfig(const std::string& path);

// "30s", "5m", "2h", "1d" or a bare number of seconds.
Result<std::chrono::seconds> parseDuration(std::string_view text);

}  // namespace bulwark::server
