#include "server/store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cctype>
#include <unordered_map>

namespace bulwark::server {

namespace {

// SQLite result codes → our closed error set (https://sqlite.org/rescode.html).
Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string context = "sqlite: " + std::string(what);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return Error(ErrorCode::kInvalidArgument, msg, context);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
      return Error(ErrorCode::kUnavailable, msg, context);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error(ErrorCode::kIo, msg, context);
    default:
      return Error(ErrorCode::kInternal, msg, context);
  }
}

constexpr std::size_t kMaxCached = 256;

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Result<SqlResult> query(std::string_view sql, const SqlParams& params) override {
    auto stmt = prepare(sql);
    if (!stmt) return std::unexpected(stmt.error());
    auto result = run(stmt->first, params);
    if (stmt->second) {
      sqlite3_reset(stmt->first);
      sqlite3_clear_bindings(stmt->first);
    } else {
      sqlite3_finalize(stmt->first);
    }
    return result;
  }

  Result<void> script(std::string_view sql) override {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return std::unexpected(sqliteError(db_, rc, "script"));
    return {};
  }

  Result<void> begin() override { return script("BEGIN IMMEDIATE"); }
  Result<void> commit() override { return script("COMMIT"); }
  void rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) (void)script("ROLLBACK");
  }
  bool healthy() const override { return sqlite3_get_autocommit(db_) != 0; }

 private:
  // Returns the statement and whether it is cached (else the caller finalizes it).
  // Statements with variable text (id lists) past the cache limit are not kept.
  Result<std::pair<sqlite3_stmt*, bool>> prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return std::pair{it->second, true};
    bool cache = cache_.size() < kMaxCached;
    std::string rewritten = sqlitePlaceholders(sql);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, rewritten.c_str(), static_cast<int>(rewritten.size()),
                                cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(sqliteError(db_, rc, "prepare"));
    if (stmt == nullptr) return fail(ErrorCode::kInternal, "empty statement", "sqlite");
    if (cache) cache_.emplace(std::move(key), stmt);
    return std::pair{stmt, cache};
  }

  Result<void> bind(sqlite3_stmt* stmt, const SqlParams& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else if (const auto* b = std::get_if<Bytes>(&v)) {
        // A zero-length blob must stay a blob, not become NULL (nullptr data pointer).
        rc = b->empty() ? sqlite3_bind_zeroblob(stmt, idx, 0)
                        : sqlite3_bind_blob64(stmt, idx, b->data(), b->size(), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) return std::unexpected(sqliteError(db_, rc, "bind"));
    }
    return {};
  }

  static SqlValue column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        return static_cast<std::int64_t>(sqlite3_column_int64(stmt, i));
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, i));
        auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
        return p == nullptr ? Bytes() : Bytes(p, p + n);
      }
      default:
        return std::monostate();
    }
  }

  Result<SqlResult> run(sqlite3_stmt* stmt, const SqlParams& params) {
    if (auto bound = bind(stmt, params); !bound) return std::unexpected(bound.error());
    SqlResult result;
    int columns = sqlite3_column_count(stmt);
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return std::unexpected(sqliteError(db_, rc, "step"));
      std::vector<SqlValue> row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int i = 0; i < columns; ++i) row.push_back(column(stmt, i));
      result.rows.emplace_back(std::move(row));
    }
    result.affected = sqlite3_changes64(db_);
    return result;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

Result<std::unique_ptr<SqlConnection>> openConnection(const std::string& path,
                                                      const SqliteOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error err = sqliteError(db, rc, "open " + path);
    sqlite3_close_v2(db);
    return fail(ErrorCode::kUnavailable, err.message(), err.context());
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  std::string pragmas =
      "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = ";
  pragmas += options.durable ? "FULL;" : "NORMAL;";
  if (auto ok = conn->script(pragmas); !ok) return std::unexpected(ok.error());
  // journal_mode silently stays "delete"/"memory" where WAL is impossible; insist on it.
  auto mode = conn->query("PRAGMA journal_mode", {});
  if (!mode) return std::unexpected(mode.error());
  if (mode->rows.empty() || mode->rows[0].text(0) != "wal") {
    return fail(ErrorCode::kUnavailable, "database does not support WAL journal mode",
                "sqlite: " + path);
  }
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace

std::string sqlitePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1])) != 0) {
      c = '?';
    }
    out.push_back(c);
  }
  return out;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteOptions& options) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    // Every pooled connection must see the same database: a named file only.
    return fail(ErrorCode::kInvalidArgument, "SQLite store needs a file path", path);
  }
  // Create the file owner-only before SQLite does (it would use 0644 minus umask):
  // it holds token hashes, keys' public parts and the audit history.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::kUnavailable, "cannot open database file", path);
  ::close(fd);
  auto factory = [path, options]() { return openConnection(path, options); };
  auto pool = std::make_unique<ConnectionPool>(factory, options.max_connections,
                                               options.busy_timeout_ms + 1000);
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(pool)));
  if (auto ready = store->initialize(); !ready) return std::unexpected(ready.error());
  return store;
}

}  // namespace bulwark::server
