#include "server/store/postgres_store.h"

#include <libpq-fe.h>

#include <charconv>
#include <unordered_map>

namespace bulwark::server {

namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;

constexpr std::size_t kMaxPrepared = 256;

std::string firstLine(const char* text) {
  std::string s = text != nullptr ? text : "";
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

// SQLSTATE classes (PostgreSQL manual, Appendix A) → our closed error set.
Error pgError(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string context = "postgres: " + std::string(what);
  if (PQstatus(conn) != CONNECTION_OK) {
    return Error(ErrorCode::kUnavailable, "connection lost: " + firstLine(PQerrorMessage(conn)),
                 context);
  }
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg =
      res != nullptr ? firstLine(PQresultErrorMessage(res)) : firstLine(PQerrorMessage(conn));
  std::string_view code = state != nullptr ? state : "";
  if (code.starts_with("23") || code.starts_with("22")) {
    return Error(ErrorCode::kInvalidArgument, msg, context);  // integrity / data exception
  }
  if (code.starts_with("08") || code.starts_with("40") || code.starts_with("53") ||
      code.starts_with("57")) {
    return Error(ErrorCode::kUnavailable, msg, context);  // connection, rollback, resources
  }
  return Error(ErrorCode::kInternal, msg, context);
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

class PgConnection final : public SqlConnection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  Result<SqlResult> query(std::string_view sql, const SqlParams& params) override {
    auto name = prepare(sql, params);
    if (!name) return std::unexpected(name.error());
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        text[i] = std::to_string(*n);
        values[i] = text[i].c_str();
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        values[i] = s->c_str();
      } else if (const auto* b = std::get_if<Bytes>(&params[i])) {
        // bytea in binary format: raw bytes, no escaping. A non-null pointer even when
        // empty, since a null pointer means SQL NULL to libpq.
        values[i] = b->empty() ? "" : reinterpret_cast<const char*>(b->data());
        lengths[i] = static_cast<int>(b->size());
        formats[i] = 1;
      }
    }
    ResultPtr res(PQexecPrepared(conn_, name->c_str(), static_cast<int>(params.size()),
                                 values.data(), lengths.data(), formats.data(), 0),
                  &PQclear);
    return collect(res.get(), "query");
  }

  Result<void> script(std::string_view sql) override {
    std::string text(sql);
    ResultPtr res(PQexec(conn_, text.c_str()), &PQclear);
    if (auto r = collect(res.get(), "script"); !r) return std::unexpected(r.error());
    return {};
  }

  Result<void> begin() override { return script("BEGIN"); }
  Result<void> commit() override { return script("COMMIT"); }
  void rollback() override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) (void)script("ROLLBACK");
  }
  bool healthy() const override {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

 private:
  // Prepares each distinct statement once per connection. Parameter types are declared
  // from the bound values, so the server never has to guess them.
  Result<std::string> prepare(std::string_view sql, const SqlParams& params) {
    std::string key(sql);
    if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
    std::vector<Oid> types(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<std::int64_t>(params[i])) types[i] = kInt8Oid;
      if (std::holds_alternative<std::string>(params[i])) types[i] = kTextOid;
      if (std::holds_alternative<Bytes>(params[i])) types[i] = kByteaOid;
    }
    // Statements with variable text (id lists) must not grow the cache without bound:
    // past the limit they use the unnamed statement, replaced by the next prepare.
    bool cache = prepared_.size() < kMaxPrepared;
    std::string name = cache ? "s" + std::to_string(prepared_.size()) : std::string();
    ResultPtr res(
        PQprepare(conn_, name.c_str(), key.c_str(), static_cast<int>(types.size()), types.data()),
        &PQclear);
    if (auto r = collect(res.get(), "prepare"); !r) return std::unexpected(r.error());
    if (cache) prepared_.emplace(std::move(key), name);
    return name;
  }

  static Result<SqlValue> decode(PGresult* res, int row, int col) {
    if (PQgetisnull(res, row, col) != 0) return SqlValue();
    const char* v = PQgetvalue(res, row, col);
    auto len = static_cast<std::size_t>(PQgetlength(res, row, col));
    switch (PQftype(res, col)) {
      case kInt8Oid:
      case kInt4Oid:
      case kInt2Oid: {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(v, v + len, n);
        if (ec != std::errc() || end != v + len) {
          return fail(ErrorCode::kInternal, "bad integer from server", "postgres");
        }
        return SqlValue(n);
      }
      case kBoolOid:
        return SqlValue(std::int64_t{len > 0 && v[0] == 't' ? 1 : 0});
      case kByteaOid: {
        // Text-format bytea is "\x<hex>" (bytea_output = hex, forced at connect).
        if (len < 2 || v[0] != '\\' || v[1] != 'x') {
          return fail(ErrorCode::kInternal, "unexpected bytea encoding", "postgres");
        }
        auto bytes = fromHex(std::string_view(v + 2, len - 2));
        if (!bytes) return std::unexpected(bytes.error());
        return SqlValue(std::move(*bytes));
      }
      default:
        return SqlValue(std::string(v, len));
    }
  }

  Result<SqlResult> collect(PGresult* res, std::string_view what) {
    ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return std::unexpected(pgError(conn_, res, what));
    }
    SqlResult out;
    int rows = PQntuples(res);
    int cols = PQnfields(res);
    out.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<SqlValue> row;
      row.reserve(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        auto v = decode(res, r, c);
        if (!v) return std::unexpected(v.error());
        row.push_back(std::move(*v));
      }
      out.rows.emplace_back(std::move(row));
    }
    const char* affected = PQcmdTuples(res);
    if (affected != nullptr && *affected != '\0') out.affected = std::atoll(affected);
    return out;
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;
};

Result<std::unique_ptr<SqlConnection>> connect(const std::string& conninfo,
                                               const PostgresOptions& options) {
  std::string timeout = std::to_string(options.connect_timeout_s);
  // Later keywords override earlier ones, so the caller's conninfo (expanded from
  // "dbname") wins over our defaults.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "bulwark-verifier", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr) return fail(ErrorCode::kUnavailable, "out of memory", "postgres: connect");
  auto owned = std::make_unique<PgConnection>(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    return fail(ErrorCode::kUnavailable, firstLine(PQerrorMessage(conn)), "postgres: connect");
  }
  // Fixed session settings our decoding relies on; UTC so nothing depends on server TZ.
  if (auto ok = owned->script("SET bytea_output = 'hex'; SET client_encoding = 'UTF8'; "
                              "SET TIME ZONE 'UTC'");
      !ok) {
    return std::unexpected(ok.error());
  }
  return std::unique_ptr<SqlConnection>(std::move(owned));
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& conninfo,
                                                           const PostgresOptions& options) {
  if (PQisthreadsafe() == 0) {
    return fail(ErrorCode::kUnsupported, "libpq is not thread-safe", "postgres");
  }
  auto factory = [conninfo, options]() { return connect(conninfo, options); };
  auto pool = std::make_unique<ConnectionPool>(factory, options.max_connections,
                                               options.pool_wait_timeout_ms);
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(pool)));
  if (auto ready = store->initialize(); !ready) return std::unexpected(ready.error());
  return store;
}

}  // namespace bulwark::server
