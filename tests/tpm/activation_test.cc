// Credential activation on swtpm through EsysTpm, with credentials made by two
// independent makers: tpm2-tools (`tpm2_makecredential --tcti none`, software) and
// Bulwark's own verifier-side makeCredential (attest/credential/). For the RSA-2048
// (L-1), ECC P-256 (L-2) and ECC P-384 (H-3) EKs; the activated secret must equal
// the one put in, and a credential bound to another AK Name must not activate.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/credential/make_credential.h"
#include "attest/tpm/esys_tpm.h"
#include "attest/tpm_public/tpm_public.h"
#include "tests/support/suite_resource.h"
#include "tests/support/swtpm.h"

namespace bulwark::attest {
namespace {

using testing::Swtpm;

// tpm2-tools' credential file (tools/tpm2_makecredential.c write_cred_and_secret,
// lib/files.c files_write_header): BE u32 0xBADCC0DE, BE u32 version 1, then the
// TPM2B_ID_OBJECT and the TPM2B_ENCRYPTED_SECRET, each as BE u16 size + bytes. The
// two TPM2Bs are returned with their size prefix, i.e. marshalled.
struct ToolsCredential {
  Bytes id_object;
  Bytes encrypted_secret;
};

std::optional<ToolsCredential> parseToolsCredential(const Bytes& file) {
  auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>((file[at] << 8) | file[at + 1]);
  };
  if (file.size() < 10) return std::nullopt;
  const Bytes header = {0xba, 0xdc, 0xc0, 0xde, 0x00, 0x00, 0x00, 0x01};
  if (!std::equal(header.begin(), header.end(), file.begin())) return std::nullopt;
  std::size_t pos = 8;
  ToolsCredential out;
  for (Bytes* dst : {&out.id_object, &out.encrypted_secret}) {
    if (file.size() - pos < 2) return std::nullopt;
    std::size_t n = u16(pos);
    if (file.size() - pos - 2 < n) return std::nullopt;
    dst->assign(file.begin() + static_cast<long>(pos),
                file.begin() + static_cast<long>(pos + 2 + n));
    pos += 2 + n;
  }
  if (pos != file.size()) return std::nullopt;
  return out;
}

class Activation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { swtpm_.start(Swtpm::start()); }
  static void TearDownTestSuite() { swtpm_.stop(); }
  void SetUp() override {
    ASSERT_TRUE(swtpm_) << "swtpm did not start: " << swtpm_.error();
    auto t = EsysTpm::open({swtpm_->tcti(), ""});
    ASSERT_TRUE(t.has_value()) << t.error().toString();
    tpm_ = std::move(*t);
  }
  std::string path(const std::string& name) const { return swtpm_->dir() + "/" + name; }

  // tpm2_makecredential in software (--tcti none: no TPM involved).
  std::optional<ToolsCredential> toolsMakeCredential(const std::string& tag, const Bytes& ek_pub,
                                                     const Bytes& ak_name, const Bytes& secret) {
    EXPECT_TRUE(writeFileAtomic(path(tag + ".ek.pub"), ek_pub, 0644).has_value());
    EXPECT_TRUE(writeFileAtomic(path(tag + ".secret"), secret, 0600).has_value());
    auto r = swtpm_->run("tpm2_makecredential --tcti none -u " + tag + ".ek.pub -s " + tag +
                         ".secret -n " + toHex(ak_name) + " -o " + tag + ".cred");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) return std::nullopt;
    auto file = readFile(path(tag + ".cred"));
    EXPECT_TRUE(file.has_value());
    if (!file) return std::nullopt;
    auto parsed = parseToolsCredential(*file);
    EXPECT_TRUE(parsed.has_value()) << "unexpected tpm2_makecredential file layout";
    // The credential engineer's parser must read the same file the same way.
    auto theirs = parseTpm2ToolsCredentialFile(*file);
    EXPECT_TRUE(theirs.has_value());
    if (parsed && theirs) {
      EXPECT_EQ(theirs->id_object, parsed->id_object);
      EXPECT_EQ(theirs->encrypted_secret, parsed->encrypted_secret);
    }
    return parsed;
  }

  static inline bulwark::testing::SuiteResource<Swtpm> swtpm_;
  std::unique_ptr<EsysTpm> tpm_;
};

struct Case {
  EkType ek;
  AkType ak;
};
const Case kCases[] = {{EkType::kRsa2048, AkType::kRsa2048},
                       {EkType::kEccP256, AkType::kEccP256},
                       {EkType::kEccP384, AkType::kEccP256}};

TEST_F(Activation, Tpm2MakecredentialOutputActivatesToTheSameSecret) {
  for (Case c : kCases) {
    const std::string tag = "tools-" + std::string(ekTypeName(c.ek));
    SCOPED_TRACE(tag);
    auto ek = tpm_->createEk(c.ek);
    ASSERT_TRUE(ek.has_value()) << ek.error().toString();
    auto ak = tpm_->createAk(*ek, c.ak);
    ASSERT_TRUE(ak.has_value()) << ak.error().toString();
    auto secret = tpm_->getRandom(32);
    ASSERT_TRUE(secret.has_value());
    auto cred = toolsMakeCredential(tag, ek->tpm2bPublic(), ak->key.name(), *secret);
    ASSERT_TRUE(cred.has_value());
    auto got = tpm_->activateCredential(ak->key, *ek, cred->id_object, cred->encrypted_secret);
    ASSERT_TRUE(got.has_value()) << got.error().toString();
    EXPECT_EQ(toHex(*got), toHex(*secret));
  }
}

TEST_F(Activation, CredentialForAnotherAkNameDoesNotActivate) {
  for (Case c : kCases) {
    const std::string tag = "other-" + std::string(ekTypeName(c.ek));
    SCOPED_TRACE(tag);
    auto ek = tpm_->createEk(c.ek);
    ASSERT_TRUE(ek.has_value()) << ek.error().toString();
    Bytes other_name;
    {
      auto other = tpm_->createAk(*ek, c.ak);  // a real AK, flushed at scope end
      ASSERT_TRUE(other.has_value());
      other_name = other->key.name();
    }
    auto ak = tpm_->createAk(*ek, c.ak);
    ASSERT_TRUE(ak.has_value());
    ASSERT_NE(other_name, ak->key.name());
    const Bytes secret(16, 0x5a);
    auto cred = toolsMakeCredential(tag, ek->tpm2bPublic(), other_name, secret);
    ASSERT_TRUE(cred.has_value());
    auto got = tpm_->activateCredential(ak->key, *ek, cred->id_object, cred->encrypted_secret);
    ASSERT_FALSE(got.has_value()) << "activated a credential bound to another AK";
    EXPECT_EQ(got.error().code(), ErrorCode::kTpm) << got.error().toString();
    EXPECT_NE(got.error().context().find("Esys_ActivateCredential"), std::string::npos);

    // And our software maker, same rule.
    auto ek_pub = parseTpm2bPublic(ek->tpm2bPublic());
    ASSERT_TRUE(ek_pub.has_value());
    auto ours = makeCredential(*ek_pub, other_name, secret);
    ASSERT_TRUE(ours.has_value()) << ours.error().toString();
    auto got2 = tpm_->activateCredential(ak->key, *ek, ours->id_object, ours->encrypted_secret);
    ASSERT_FALSE(got2.has_value());
    EXPECT_EQ(got2.error().code(), ErrorCode::kTpm);
  }
}

TEST_F(Activation, BulwarkMakeCredentialActivatesOnSwtpm) {
  for (Case c : kCases) {
    SCOPED_TRACE(std::string(ekTypeName(c.ek)));
    auto ek = tpm_->createEk(c.ek);
    ASSERT_TRUE(ek.has_value()) << ek.error().toString();
    auto ak = tpm_->createAk(*ek, c.ak);
    ASSERT_TRUE(ak.has_value()) << ak.error().toString();
    auto ek_pub = parseTpm2bPublic(ek->tpm2bPublic());
    ASSERT_TRUE(ek_pub.has_value());
    // Secrets of 1 byte up to the EK nameAlg digest size (Part 3 §12.6).
    for (std::size_t n : {std::size_t{1}, std::size_t{32}, hashAlgSize(ek_pub->name_alg)}) {
      auto secret = tpm_->getRandom(n);
      ASSERT_TRUE(secret.has_value());
      auto cred = makeCredential(*ek_pub, ak->key.name(), *secret);
      ASSERT_TRUE(cred.has_value()) << cred.error().toString();
      auto got = tpm_->activateCredential(ak->key, *ek, cred->id_object, cred->encrypted_secret);
      ASSERT_TRUE(got.has_value()) << n << ": " << got.error().toString();
      EXPECT_EQ(toHex(*got), toHex(*secret));
    }
  }
}

TEST_F(Activation, TamperedOrMalformedBlobsAreErrorsNotCrashes) {
  auto ek = tpm_->createEk(EkType::kRsa2048);
  ASSERT_TRUE(ek.has_value());
  auto ak = tpm_->createAk(*ek, AkType::kRsa2048);
  ASSERT_TRUE(ak.has_value());
  auto ek_pub = parseTpm2bPublic(ek->tpm2bPublic());
  ASSERT_TRUE(ek_pub.has_value());
  auto cred = makeCredential(*ek_pub, ak->key.name(), Bytes(32, 1));
  ASSERT_TRUE(cred.has_value());

  Bytes flipped = cred->id_object;
  flipped[10] ^= 1;  // inside the outer HMAC
  auto e1 = tpm_->activateCredential(ak->key, *ek, flipped, cred->encrypted_secret);
  ASSERT_FALSE(e1.has_value());
  EXPECT_EQ(e1.error().code(), ErrorCode::kTpm) << e1.error().toString();

  Bytes bad_seed = cred->encrypted_secret;
  bad_seed[bad_seed.size() / 2] ^= 1;  // OAEP decryption fails inside the TPM
  auto e2 = tpm_->activateCredential(ak->key, *ek, cred->id_object, bad_seed);
  ASSERT_FALSE(e2.has_value());
  EXPECT_EQ(e2.error().code(), ErrorCode::kTpm) << e2.error().toString();

  struct Malformed {
    std::string what;
    Bytes id_object;
    Bytes secret;
  };
  Bytes truncated(cred->id_object.begin(), cred->id_object.end() - 1);
  Bytes trailing = cred->encrypted_secret;
  trailing.push_back(0);
  for (const Malformed& m :
       {Malformed{"empty id", {}, cred->encrypted_secret},
        Malformed{"truncated id", truncated, cred->encrypted_secret},
        Malformed{"trailing secret", cred->id_object, trailing},
        Malformed{"oversized", Bytes{0xff, 0xff, 1, 2}, cred->encrypted_secret}}) {
    auto r = tpm_->activateCredential(ak->key, *ek, m.id_object, m.secret);
    ASSERT_FALSE(r.has_value()) << m.what;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << m.what << ": " << r.error().toString();
  }
  // Swapped roles (EK as the AK) are refused by the TPM, not by a crash.
  auto swapped = tpm_->activateCredential(*ek, ak->key, cred->id_object, cred->encrypted_secret);
  EXPECT_FALSE(swapped.has_value());
  // The TPM still works afterwards.
  auto ok = tpm_->activateCredential(ak->key, *ek, cred->id_object, cred->encrypted_secret);
  ASSERT_TRUE(ok.has_value()) << ok.error().toString();
  EXPECT_EQ(*ok, Bytes(32, 1));
}

}  // namespace
}  // namespace bulwark::attest
