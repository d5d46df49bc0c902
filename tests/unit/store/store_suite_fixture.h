// Shared body of the Store suite: one typed-test suite run against SqliteStore
// (tests/unit/store/store_sqlite_test.cc) and PostgresStore
// (tests/integration/store_postgres_test.cc). A Backend provides:
//
//   static void SetUpTestSuite(); static void TearDownTestSuite();
//   Result<void> createDatabase();                         // fresh, empty, per test
//   Result<std::unique_ptr<Store>> open(bool durable);     // a new Store ("replica")
//   Result<std::string> raw(const std::string& sql);       // engine's own client, 1st cell
//   static constexpr const char* kName;
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "server/store/store.h"

namespace bulwark::server::testing {

#define ASSERT_OK(expr)                                                   \
  do {                                                                    \
    auto&& ok_result_ = (expr);                                           \
    ASSERT_TRUE(ok_result_.has_value()) << ok_result_.error().toString(); \
  } while (0)

// Every byte value 0x00..0xff in a seed-dependent order: catches truncation at NUL,
// escaping bugs and text/bytea confusion in either engine.
inline Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + seed);
  return b;
}

// A real TPM2B_PUBLIC of an AK made by swtpm + tpm2-tools (tests/testdata/quote/README.md).
inline Bytes testAkPublic(const std::string& which = "rsa") {
  const char* env = std::getenv("BULWARK_SOURCE_DIR");
  std::filesystem::path root =
      env != nullptr
          ? std::filesystem::path(env)
          : std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
  auto bytes = readFile((root / "tests/testdata/quote" / (which + ".ak.pub")).string());
  return bytes ? *bytes : Bytes{};
}

inline PendingEnrollment pendingFor(const std::string& node, const std::string& id, Millis now,
                                    const std::string& ak = "rsa") {
  PendingEnrollment p;
  p.id = id;
  p.node = node;
  p.group = "gpu";
  p.ek_cert = pattern(900, 1);
  p.ek_public = pattern(280, 2);
  p.ak_public = testAkPublic(ak);
  Bytes name{0x00, 0x0b};  // nameAlg sha256 || digest (TPM 2.0 Part 1 §16)
  Bytes d = sha256(p.ak_public);
  name.insert(name.end(), d.begin(), d.end());
  p.ak_name = name;
  p.secret_hash = sha256(asBytes("credential secret of " + id));
  p.created_at = now;
  p.expires_at = now + 300'000;
  return p;
}

inline AppraisalRecord appraisalFor(const std::string& node, Millis at, AppraisalStatus status,
                                    std::int64_t reset = 1) {
  AppraisalRecord a;
  a.node = node;
  a.appraised_at = at;
  a.status = status;
  a.reasons_json =
      status == AppraisalStatus::kAffirming ? "[]" : R"([{"reason":"pcr_mismatch","pcr":15}])";
  a.trust_vector_json = R"({"instance-identity":2,"executables":2})";
  a.ear = "eyJhbGciOiJFUzI1NiJ9.eyJlYXIuc3RhdHVzIjoiYWZmaXJtaW5nIn0.c2ln";
  a.evidence_digest = sha256(asBytes(node + std::to_string(at)));
  a.fresh_until = at + 600'000;
  a.reset_count = reset;
  a.restart_count = 0;
  a.clock = at;
  a.policy_version = 0;
  return a;
}

template <typename Backend>
class StoreSuite : public ::testing::Test {
 public:  // public so suite helpers (raceNonces) can drive it
  static void SetUpTestSuite() { Backend::SetUpTestSuite(); }
  static void TearDownTestSuite() { Backend::TearDownTestSuite(); }

  void SetUp() override {
    auto created = backend_.createDatabase();
    ASSERT_TRUE(created.has_value()) << created.error().toString();
    auto opened = backend_.open(true);
    ASSERT_TRUE(opened.has_value()) << opened.error().toString();
    store_ = std::move(*opened);
    ASSERT_FALSE(testAkPublic().empty()) << "tests/testdata/quote/rsa.ak.pub missing";
  }

  std::unique_ptr<Store> replica() {
    auto opened = backend_.open(true);
    EXPECT_TRUE(opened.has_value()) << opened.error().toString();
    return opened ? std::move(*opened) : nullptr;
  }

  std::int64_t rawInt(const std::string& sql) {
    auto r = backend_.raw(sql);
    EXPECT_TRUE(r.has_value()) << r.error().toString();
    return r && !r->empty() ? std::stoll(*r) : -1;
  }

  // Enrolled, approved node (state untrusted until its first affirming appraisal).
  void enroll(const std::string& node, Millis now = 1000, Store* on = nullptr) {
    Store& s = on != nullptr ? *on : *store_;
    ASSERT_OK(s.createPendingEnrollment(pendingFor(node, "e-" + node, now)));
    CompleteEnrollment done{"0a1b2c", true, now + 1};
    ASSERT_OK(s.completeEnrollment("e-" + node, done));
  }

  Backend backend_;
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreSuite);

}  // namespace bulwark::server::testing
