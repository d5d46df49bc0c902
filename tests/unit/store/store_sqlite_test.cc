// The Store suite on SqliteStore (temp-file database), plus SQLite-specific checks.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/store/sqlite_store.h"
#include "tests/unit/store/store_suite.h"

namespace bulwark::server::testing {
namespace {

namespace fs = std::filesystem;

// Reads through its own sqlite3 connection, independent of the store's pool.
Result<std::string> sqliteRaw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return fail(ErrorCode::kUnavailable, "cannot open", path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) out = reinterpret_cast<const char*>(text);
    rc = SQLITE_DONE;
  }
  std::string err = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_DONE) return fail(ErrorCode::kInternal, err, sql);
  return out;
}

std::string makeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "bulwark-store-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return {};
  return tmpl;
}

struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}

  SqliteBackend() : dir_(makeTempDir()) {}
  ~SqliteBackend() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;

  Result<void> createDatabase() {
    if (dir_.empty()) return fail(ErrorCode::kIo, "mkdtemp failed");
    path_ = dir_ + "/verifier-" + std::to_string(++count_) + ".db";
    return {};
  }
  Result<std::unique_ptr<Store>> open(bool durable) {
    SqliteOptions options;
    options.durable = durable;
    auto s = SqliteStore::open(path_, options);
    if (!s) return std::unexpected(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }
  Result<std::string> raw(const std::string& sql) { return sqliteRaw(path_, sql); }

  std::string dir_;
  std::string path_;
  int count_ = 0;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreSuite, SqliteBackend);

namespace {

class SqliteSpecific : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(backend_.createDatabase()); }
  SqliteBackend backend_;
};

TEST_F(SqliteSpecific, FileIsOwnerOnlyWalWithForeignKeys) {
  auto store = SqliteStore::open(backend_.path_);
  ASSERT_OK(store);
  struct stat st {};
  ASSERT_EQ(::stat(backend_.path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*backend_.raw("PRAGMA journal_mode"), "wal");  // persistent in the file
  EXPECT_TRUE(fs::exists(backend_.path_ + "-wal"));
  // Foreign keys are per connection: prove the store's connections enforce them.
  auto r = (*store)->issueNonce(NonceRecord{pattern(32, 1), "ghost", 1, 2, std::nullopt});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("FOREIGN KEY"), std::string::npos) << r.error().toString();
}

TEST_F(SqliteSpecific, WriterLockedOutPastBusyTimeoutIsUnavailableThenRecovers) {
  SqliteOptions options;
  options.busy_timeout_ms = 200;
  auto store = SqliteStore::open(backend_.path_, options);
  ASSERT_OK(store);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(backend_.path_.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto blocked = (*store)->putApiToken({"t", ApiRole::kAdmin, sha256(asBytes("t")), 1});
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error().code(), ErrorCode::kUnavailable) << blocked.error().toString();
  // Readers are not blocked by a writer under WAL.
  ASSERT_OK((*store)->listApiTokens());
  ASSERT_EQ(sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(holder);
  ASSERT_OK((*store)->putApiToken({"t", ApiRole::kAdmin, sha256(asBytes("t")), 1}));
}

TEST_F(SqliteSpecific, OpenFailuresAreErrors) {
  auto missing_dir = SqliteStore::open(backend_.dir_ + "/no/such/dir/v.db");
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_EQ(missing_dir.error().code(), ErrorCode::kUnavailable);
  for (const char* path : {"", ":memory:", "file:x.db?mode=memory"}) {
    auto r = SqliteStore::open(path);
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << path;
  }
  {
    std::ofstream junk(backend_.path_, std::ios::binary);
    junk << std::string(8192, 'x');  // not a database
  }
  auto garbage = SqliteStore::open(backend_.path_);
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code(), ErrorCode::kIo) << garbage.error().toString();
}

}  // namespace
}  // namespace bulwark::server::testing
