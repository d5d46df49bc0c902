#include "server/http/store_probe.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace bulwark::server {

namespace {
bool sqliteReachable(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    auto dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    return ::access(dir.c_str(), W_OK) == 0;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  bool ok = rc == SQLITE_OK &&
            sqlite3_exec(db, "SELECT 1", nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

bool postgresReachable(const std::string& conninfo) {
  // dbname is expanded as a full connection string; a short connect timeout
  // keeps the probe from holding an I/O thread.
  const char* keys[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {conninfo.c_str(), "2", nullptr};
  return PQpingParams(keys, values, 1) == PQPING_OK;
}
}  // namespace

std::function<bool()> makeStoreProbe(const DatabaseConfig& database) {
  if (database.isPostgres()) {
    return [conninfo = database.postgres_conninfo] { return postgresReachable(conninfo); };
  }
  return [path = database.sqlite_path] { return sqliteReachable(path); };
}

}  // namespace bulwark::server
