// PostgresStore: shared storage for verifier replicas (DESIGN §6, issue 5 item 6).
//
// Concurrency model: a pool of libpq connections per store (default 8). Each Store call
// borrows one connection for its whole duration (a libpq PGconn is never used by two
// threads at once) and returns it; a connection found broken is closed and the next call
// opens a new one. Every statement is parameterized (PQexecPrepared on statements
// prepared once per connection); SQL text never contains caller data.
// Transactions run at READ COMMITTED; the operations that must be exactly-once across
// replicas (nonce consumption, enrollment claim, policy version bump) are single
// conditional UPDATE/DELETE statements whose row locks serialize the racers.
#pragma once

#include <memory>
#include <string>

#include "server/store/sql_store.h"

namespace bulwark::server {

struct PostgresOptions {
  std::size_t max_connections = 8;
  int connect_timeout_s = 10;  // libpq connect_timeout, unless the conninfo sets one
  int pool_wait_timeout_ms = 30000;
};

class PostgresStore final : public SqlStore {
 public:
  // `conninfo` is a libpq connection string or URI; it may hold a password, so it is never
  // copied into errors or logs. Connects once (kUnavailable on failure) and applies pending
  // migrations under an advisory lock, so replicas starting together migrate once.
  [[nodiscard]] static Result<std::unique_ptr<PostgresStore>> open(
      const std::string& conninfo, const PostgresOptions& options = {});

 private:
  explicit PostgresStore(std::unique_ptr<ConnectionPool> pool) : SqlStore(std::move(pool)) {}
};

}  // namespace bulwark::server
