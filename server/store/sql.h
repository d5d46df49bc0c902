// The narrow SQL seam under SqlStore: one connection type per database engine
// (SqliteConnection, PgConnection) and a pool that lends them to one thread at a time.
//
// Queries are written once, in PostgreSQL's placeholder style ($1, $2, ...); the SQLite
// adapter rewrites them to ?1, ?2 (same numbering). Parameters are always bound, never
// spliced into SQL text.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::server {

enum class SqlDialect { kSqlite, kPostgres };

// NULL, BIGINT, TEXT, BLOB/BYTEA — the only column types the schema uses.
using SqlValue = std::variant<std::monostate, std::int64_t, std::string, Bytes>;
using SqlParams = std::vector<SqlValue>;

inline SqlValue sqlOptional(const std::optional<std::int64_t>& v) {
  return v ? SqlValue(*v) : SqlValue();
}

// One result row. Reading a column of another type yields the empty value: column
// types are fixed by our own schema, so a mismatch is a bug caught by the suite.
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool isNull(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
  std::optional<std::int64_t> optInteger(std::size_t i) const;
  std::string text(std::size_t i) const;
  Bytes blob(std::size_t i) const;

 private:
  std::vector<SqlValue> values_;
};

struct SqlResult {
  std::vector<SqlRow> rows;
  std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

// A single database session. Not thread-safe; the pool guarantees exclusive use.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  // One statement with bound parameters.
  [[nodiscard]] virtual Result<SqlResult> query(std::string_view sql, const SqlParams& params) = 0;
  // Several statements, no parameters (migrations only).
  [[nodiscard]] virtual Result<void> script(std::string_view sql) = 0;
  // Write transaction (SQLite: BEGIN IMMEDIATE so the write lock is taken up front and
  // waits under the busy timeout instead of failing at the first write).
  [[nodiscard]] virtual Result<void> begin() = 0;
  [[nodiscard]] virtual Result<void> commit() = 0;
  virtual void rollback() = 0;
  // False once the session is unusable (lost connection, stuck transaction):
  // the pool then discards it instead of lending it again.
  virtual bool healthy() const = 0;
};

using ConnectionFactory = std::function<Result<std::unique_ptr<SqlConnection>>()>;

// Lends connections, opening new ones up to `max_size`; a caller waits (bounded) when all
// are lent. A connection that comes back unhealthy is closed, and the next borrower gets
// a fresh one, so a database restart costs one failed call per lent connection.
class ConnectionPool {
 public:
  ConnectionPool(ConnectionFactory factory, std::size_t max_size, int wait_timeout_ms);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<SqlConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    SqlConnection& operator*() const { return *conn_; }
    SqlConnection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<SqlConnection> conn_;
  };

  [[nodiscard]] Result<Lease> acquire();

 private:
  void release(std::unique_ptr<SqlConnection> conn);

  ConnectionFactory factory_;
  std::size_t max_size_;
  int wait_timeout_ms_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  std::size_t open_ = 0;  // idle + lent
};

// Runs `body(conn)` inside a write transaction on a pooled connection: commit when it
// returns a value, roll back when it returns an error (so nothing partial is stored).
template <typename F>
auto inTransaction(ConnectionPool& pool, F&& body)
    -> decltype(body(std::declval<SqlConnection&>())) {
  auto lease = pool.acquire();
  if (!lease) return std::unexpected(lease.error());
  SqlConnection& conn = **lease;
  if (auto started = conn.begin(); !started) return std::unexpected(started.error());
  auto result = body(conn);
  if (!result) {
    conn.rollback();
    return result;
  }
  if (auto committed = conn.commit(); !committed) {
    conn.rollback();
    return std::unexpected(committed.error());
  }
  return result;
}

// Runs a single-statement read (autocommit) on a pooled connection.
template <typename F>
auto withConnection(ConnectionPool& pool, F&& body)
    -> decltype(body(std::declval<SqlConnection&>())) {
  auto lease = pool.acquire();
  if (!lease) return std::unexpected(lease.error());
  return body(**lease);
}

}  // namespace bulwark::server
