// Test harness: a private PostgreSQL server per test suite (DESIGN §10 "real PostgreSQL").
//
// start() finds Debian's server binaries (/usr/lib/postgresql/<major>/bin, 15 preferred;
// BULWARK_PG_BINDIR overrides), creates a temp dir, runs initdb into it (trust auth for a
// superuser "bulwark", no fsync: throwaway data), then runs `postgres` in the foreground as
// a child process with its unix socket in the temp dir and a free loopback TCP port. The
// distro's cluster and service are never touched (CI runs as root without systemd).
//
// PostgreSQL refuses to run as root, so when the test runs as root the server processes
// drop to the "postgres" system user (created by the postgresql package) right after fork
// and the temp dir is handed to that user. The server gets SIGQUIT if the test process
// dies, and the destructor stops it (fast shutdown) and removes the temp dir.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "attest/core/error.h"
#include "tests/support/swtpm.h"  // CommandResult, runCommand

namespace bulwark::testing {

class PostgresServer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<PostgresServer>> start();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq keyword/value connection string for `dbname` over the unix socket.
  std::string conninfo(const std::string& dbname = "postgres") const;
  // Same database over TCP on 127.0.0.1:port().
  std::string tcpConninfo(const std::string& dbname = "postgres") const;
  // Creates an empty database with a fresh name and returns its connection string, so
  // every test starts from nothing without restarting the server.
  [[nodiscard]] Result<std::string> createDatabase();
  // Runs SQL through psql (an independent client) against `dbname`; -A -t output.
  CommandResult psql(const std::string& dbname, const std::string& sql) const;

  // Stops the server (fast shutdown) and starts it again on the same data and port:
  // every open client connection is cut.
  [[nodiscard]] Result<void> restart();

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string socketDir() const { return dir_ + "/sock"; }
  const std::string& binDir() const { return bin_dir_; }

 private:
  PostgresServer() = default;
  Result<void> initdb();
  Result<void> launch();
  void stop();

  std::string dir_;
  std::string bin_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  uid_t uid_ = 0;  // user the server runs as
  gid_t gid_ = 0;
  bool drop_ = false;  // running as root: switch to uid_/gid_ in the child
  std::atomic<int> next_db_{0};
};

}  // namespace bulwark::testing
