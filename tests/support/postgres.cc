#include "tests/support/postgres.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/support/net.h"

namespace bulwark::testing {

namespace {

namespace fs = std::filesystem;

std::string findBinDir() {
  if (const char* env = std::getenv("BULWARK_PG_BINDIR"); env != nullptr && *env != '\0') {
    return env;
  }
  if (fs::exists("/usr/lib/postgresql/15/bin/postgres")) return "/usr/lib/postgresql/15/bin";
  std::error_code ec;
  std::string best;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string bin = entry.path().string() + "/bin";
    if (fs::exists(bin + "/postgres") && bin > best) best = bin;
  }
  return best;
}

struct SpawnSpec {
  std::vector<std::string> argv;
  std::string cwd;
  std::string log;
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// fork + exec with output to a log file, optionally as another user. Only
// async-signal-safe calls between fork and exec.
pid_t spawn(const SpawnSpec& spec) {
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int log = ::open(spec.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return -1;
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    if (spec.drop &&
        (::setgroups(1, &spec.gid) != 0 || ::setgid(spec.gid) != 0 || ::setuid(spec.uid) != 0)) {
      ::_exit(126);
    }
    // After the uid change (which clears it): SIGQUIT = immediate shutdown if we die.
    ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (::getppid() != parent) ::_exit(125);
    if (::chdir(spec.cwd.c_str()) != 0) ::_exit(124);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log);
  return pid;
}

int waitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string tail(const std::string& path) {
  auto r = runCommand("tail -n 20 '" + path + "'");
  return r.output;
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::start() {
  std::unique_ptr<PostgresServer> pg(new PostgresServer());
  pg->bin_dir_ = findBinDir();
  if (pg->bin_dir_.empty()) {
    return fail(ErrorCode::kUnavailable,
                "PostgreSQL server binaries not found under /usr/lib/postgresql; "
                "run scripts/deps.sh (package postgresql)");
  }
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      return fail(ErrorCode::kUnavailable,
                  "running as root and no 'postgres' user to drop to (install postgresql)");
    }
    pg->drop_ = true;
    pg->uid_ = pw->pw_uid;
    pg->gid_ = pw->pw_gid;
  } else {
    pg->uid_ = ::geteuid();
    pg->gid_ = ::getegid();
  }
  std::string tmpl = (fs::temp_directory_path() / "bulwark-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(ErrorCode::kIo, "mkdtemp failed", tmpl);
  pg->dir_ = tmpl;
  fs::create_directories(pg->socketDir());
  for (const std::string& d : {pg->dir_, pg->socketDir()}) {
    if (::chown(d.c_str(), pg->uid_, pg->gid_) != 0) {
      return fail(ErrorCode::kIo, "cannot hand the temp dir to the server user", d);
    }
  }
  if (auto ok = pg->initdb(); !ok) return std::unexpected(ok.error());
  if (auto ok = pg->launch(); !ok) return std::unexpected(ok.error());
  return pg;
}

Result<void> PostgresServer::initdb() {
  SpawnSpec spec{{bin_dir_ + "/initdb", "-D", dir_ + "/data", "-U", "bulwark", "-A", "trust", "-E",
                  "UTF8", "--no-locale", "--no-sync", "--no-instructions"},
                 dir_,
                 dir_ + "/initdb.log",
                 drop_,
                 uid_,
                 gid_};
  pid_t pid = spawn(spec);
  if (pid < 0) return fail(ErrorCode::kIo, "cannot start initdb");
  if (int rc = waitExit(pid); rc != 0) {
    return fail(ErrorCode::kUnavailable,
                "initdb failed (exit " + std::to_string(rc) + "): " + tail(spec.log), spec.log);
  }
  return {};
}

Result<void> PostgresServer::launch() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = freeLoopbackPort();
    if (port_ < 0) return fail(ErrorCode::kUnavailable, "no free loopback port");
    // Throwaway data: no fsync; small footprint for a 2-core CI machine.
    SpawnSpec spec{{bin_dir_ + "/postgres", "-D", dir_ + "/data", "-k", socketDir(), "-p",
                    std::to_string(port_), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
                    "max_connections=100", "-c", "shared_buffers=32MB"},
                   dir_,
                   dir_ + "/postgres.log",
                   drop_,
                   uid_,
                   gid_};
    pid_ = spawn(spec);
    if (pid_ < 0) return fail(ErrorCode::kIo, "cannot start postgres");
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // exited: port taken or a real failure; retry, then report the log
      }
      auto ready = runCommand("'" + bin_dir_ + "/pg_isready' -q -h '" + socketDir() + "' -p " +
                              std::to_string(port_) + " -t 1");
      if (ready.exit_code == 0) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop();
  }
  return fail(ErrorCode::kUnavailable, "postgres did not start: " + tail(dir_ + "/postgres.log"),
              dir_ + "/postgres.log");
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);  // fast shutdown: abort sessions, checkpoint, exit
  int status = 0;
  for (int i = 0; i < 600; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGQUIT);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Result<void> PostgresServer::restart() {
  stop();
  return launch();
}

PostgresServer::~PostgresServer() {
  stop();
  if (!dir_.empty() && std::getenv("BULWARK_KEEP_POSTGRES") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PostgresServer::conninfo(const std::string& dbname) const {
  return "host=" + socketDir() + " port=" + std::to_string(port_) +
         " user=bulwark dbname=" + dbname;
}

std::string PostgresServer::tcpConninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=bulwark dbname=" + dbname;
}

Result<std::string> PostgresServer::createDatabase() {
  // The name comes from our counter only, so it is safe to place in SQL text.
  std::string name = "t" + std::to_string(next_db_.fetch_add(1));
  auto r = psql("postgres", "CREATE DATABASE " + name);
  if (r.exit_code != 0) {
    return fail(ErrorCode::kUnavailable, "CREATE DATABASE failed: " + r.output, name);
  }
  return conninfo(name);
}

CommandResult PostgresServer::psql(const std::string& dbname, const std::string& sql) const {
  // psql from the same major version; the SQL goes through a file so no shell quoting
  // of test SQL is needed.
  std::string file = dir_ + "/psql-" + std::to_string(::getpid()) + "-" +
                     std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())) +
                     ".sql";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    if (f == nullptr) return CommandResult{-1, "cannot write " + file};
    std::fwrite(sql.data(), 1, sql.size(), f);
    std::fclose(f);
  }
  auto r = runCommand("'" + bin_dir_ + "/psql' -X -q -A -t -v ON_ERROR_STOP=1 -h '" + socketDir() +
                      "' -p " + std::to_string(port_) + " -U bulwark -d '" + dbname + "' -f '" +
                      file + "'");
  ::unlink(file.c_str());
  return r;
}

}  // namespace bulwark::testing
