// Loading the CA store from files and directories (the verifier's config edge).
#include "attest/ekcert/ca_store_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "attest/ekcert/ek_cert.h"
#include "tests/unit/credential/software_ek.h"
#include "tests/unit/ekcert/cert_factory.h"

namespace bulwark::attest {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT: test helpers
using Clock = std::chrono::system_clock;

class CaStoreLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("bulwark_ca_loader_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "roots");
    fs::create_directories(dir_ / "intermediates");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const Bytes& b) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  fs::path dir_;
};

TEST_F(CaStoreLoader, ReadsDirectoriesOfPemAndDerAndIgnoresOtherFiles) {
  Ca root_a = makeRoot("Vendor A Root");
  Ca root_b = makeRoot("Vendor B Root");
  Ca issuer_b = makeIntermediate("Vendor B Issuing", root_b);
  write(dir_ / "roots" / "a.pem", pem(root_a.cert.get()));
  write(dir_ / "roots" / "b.CER", der(root_b.cert.get()));
  write(dir_ / "roots" / "README", Bytes{'h', 'i'});
  write(dir_ / "intermediates" / "b-issuing.crt", pem(issuer_b.cert.get()));

  auto store = loadCaStore({{(dir_ / "roots").string()}, {(dir_ / "intermediates").string()}});
  ASSERT_TRUE(store.has_value()) << store.error().toString();
  EXPECT_EQ(store->trustedCount(), 2u);
  EXPECT_EQ(store->intermediateCount(), 1u);

  // The loaded store really is the one used for validation.
  SoftwareEk ek = makeEccEk(kEccNistP256);
  MintSpec s;
  s.issuer = &issuer_b;
  s.key = ek.key.get();
  s.ek_extensions = true;
  auto v = validateEkCertificate(der(mint(s).get()), ek.pub, *store, Clock::from_time_t(kNow));
  ASSERT_TRUE(v.has_value()) << v.error().toString();
  EXPECT_TRUE(v->trusted());
}

TEST_F(CaStoreLoader, SingleFilesWork) {
  Ca root = makeRoot("Root");
  write(dir_ / "root.bin", der(root.cert.get()));  // a named file needs no extension
  auto store = loadCaStore({{(dir_ / "root.bin").string()}, {}});
  ASSERT_TRUE(store.has_value()) << store.error().toString();
  EXPECT_EQ(store->trustedCount(), 1u);
}

TEST_F(CaStoreLoader, FailsLoudly) {
  Ca root = makeRoot("Root");
  write(dir_ / "roots" / "good.pem", pem(root.cert.get()));
  write(dir_ / "roots" / "broken.pem", Bytes{'n', 'o', 'p', 'e'});
  write(dir_ / "intermediates" / "empty.der", Bytes{});

  auto missing = loadCaStore({{(dir_ / "nope").string()}, {}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  auto broken = loadCaStore({{(dir_ / "roots").string()}, {}});
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(broken.error().context().find("broken.pem"), std::string::npos)
      << broken.error().toString();

  fs::remove(dir_ / "roots" / "broken.pem");
  auto bad_inter =
      loadCaStore({{(dir_ / "roots").string()}, {(dir_ / "intermediates").string()}});
  ASSERT_FALSE(bad_inter.has_value());
  EXPECT_EQ(bad_inter.error().code(), ErrorCode::kMalformed);

  auto no_trust = loadCaStore({{}, {}});
  ASSERT_FALSE(no_trust.has_value());
  EXPECT_EQ(no_trust.error().code(), ErrorCode::kInvalidArgument);

  fs::remove(dir_ / "roots" / "good.pem");
  auto empty_dir = loadCaStore({{(dir_ / "roots").string()}, {}});
  ASSERT_FALSE(empty_dir.has_value());
  EXPECT_EQ(empty_dir.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace bulwark::attest
