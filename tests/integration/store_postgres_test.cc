// The Store suite on PostgresStore against a real PostgreSQL started by the harness
// (tests/support/postgres.h), plus PostgreSQL-specific checks: replicas, restarts,
// connection failures that must not leak the connection string.
#include <chrono>
#include <thread>

#include "server/store/postgres_store.h"
#include "tests/support/postgres.h"
#include "tests/unit/store/store_suite.h"

namespace bulwark::server::testing {
namespace {

using bulwark::testing::PostgresServer;

struct PostgresBackend {
  static constexpr const char* kName = "postgres";
  static inline std::unique_ptr<PostgresServer> server;
  static inline std::string start_error;

  static void SetUpTestSuite() {
    if (server) return;
    auto started = PostgresServer::start();
    if (started) {
      server = std::move(*started);
    } else {
      start_error = started.error().toString();
    }
  }
  static void TearDownTestSuite() {}  // shared by every suite in the binary; see main()

  Result<void> createDatabase() {
    // No skip: without a server the suite fails loudly with the harness's reason.
    if (!server) return fail(ErrorCode::kUnavailable, "PostgreSQL harness: " + start_error);
    auto conninfo = server->createDatabase();
    if (!conninfo) return std::unexpected(conninfo.error());
    conninfo_ = *conninfo;
    dbname_ = conninfo_.substr(conninfo_.rfind("dbname=") + 7);
    return {};
  }
  Result<std::unique_ptr<Store>> open(bool /*durable: the test server runs without fsync*/) {
    auto s = PostgresStore::open(conninfo_);
    if (!s) return std::unexpected(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }
  Result<std::string> raw(const std::string& sql) {
    auto r = server->psql(dbname_, sql);
    if (r.exit_code != 0) return fail(ErrorCode::kInternal, r.output, sql);
    std::string out = r.output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  std::string conninfo_;
  std::string dbname_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreSuite, PostgresBackend);

namespace {

class PostgresSpecific : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { PostgresBackend::SetUpTestSuite(); }
  void SetUp() override { ASSERT_OK(backend_.createDatabase()); }
  PostgresBackend backend_;
};

TEST_F(PostgresSpecific, HarnessServerIsPrivateAndVersion15) {
  auto version = backend_.raw("SHOW server_version_num");
  ASSERT_OK(version);
  EXPECT_EQ(version->substr(0, 2), "15") << *version;
  auto socket_dir = backend_.raw("SHOW unix_socket_directories");
  ASSERT_OK(socket_dir);
  EXPECT_EQ(*socket_dir, PostgresBackend::server->socketDir());
  EXPECT_EQ(*backend_.raw("SELECT current_user"), "bulwark");
}

TEST_F(PostgresSpecific, ReplicasOverTcpAndUnixSocketShareOneFleet) {
  auto unix_store = PostgresStore::open(backend_.conninfo_);
  ASSERT_OK(unix_store);
  auto tcp_store = PostgresStore::open(PostgresBackend::server->tcpConninfo(backend_.dbname_));
  ASSERT_OK(tcp_store);
  Store& a = **unix_store;
  Store& b = **tcp_store;
  ASSERT_OK(a.createPendingEnrollment(pendingFor("node-a", "e1", 0)));
  ASSERT_OK(b.completeEnrollment("e1", {"01", true, 1}));  // enrolled via the other replica
  NonceRecord n{pattern(32, 5), "node-a", 10, 10'000, std::nullopt};
  ASSERT_OK(b.issueNonce(n));
  auto used = attestWith(a, "node-a", n.value, 20, 6);
  ASSERT_OK(used);
  ASSERT_TRUE(used->has_value());
  auto replay = attestWith(b, "node-a", n.value, 21, 7);
  ASSERT_OK(replay);
  ASSERT_FALSE(replay->has_value());
  EXPECT_EQ(replay->error(), NonceRejection::kReplayed);
  EXPECT_EQ(b.latestAppraisal("node-a")->id, (*used)->id);
}

TEST_F(PostgresSpecific, ConnectionFailureIsUnavailableAndHidesTheConnectionString) {
  PostgresOptions options;
  options.connect_timeout_s = 2;
  auto r = PostgresStore::open(
      "host=127.0.0.1 port=1 user=bulwark password=hunter2-secret "
      "dbname=nothing",
      options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().toString().find("hunter2"), std::string::npos) << r.error().toString();
  auto no_db = PostgresStore::open(PostgresBackend::server->conninfo("no_such_database"));
  ASSERT_FALSE(no_db.has_value());
  EXPECT_EQ(no_db.error().code(), ErrorCode::kUnavailable);
}

TEST_F(PostgresSpecific, ServerRestartCostsAtMostOneCallPerConnection) {
  auto store = PostgresStore::open(backend_.conninfo_);
  ASSERT_OK(store);
  Store& s = **store;
  ASSERT_OK(s.putApiToken({"before", ApiRole::kAuditor, sha256(asBytes("b")), 1}));
  ASSERT_OK(PostgresBackend::server->restart());
  // The pooled connection is dead: the first call reports it (retryable), the pool drops
  // it, and the next call reconnects. Nothing committed before the restart is lost.
  auto first = s.listApiTokens();
  if (!first) {
    EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable) << first.error().toString();
  }
  auto second = s.listApiTokens();
  ASSERT_OK(second);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().name, "before");
  ASSERT_OK(s.putApiToken({"after", ApiRole::kAuditor, sha256(asBytes("a")), 2}));
}

}  // namespace
}  // namespace bulwark::server::testing

// Stops the shared server after every suite ran (gtest_main would not).
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  bulwark::server::testing::PostgresBackend::server.reset();
  return rc;
}
