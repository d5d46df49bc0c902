// EsysTpm against a private swtpm: TCTI strings, EK certificates vs. created EKs,
// AK creation/persistence across a TPM reset, PCR read/extend vs. software and
// tpm2_pcrread, and the error paths (bad TCTI, closed port, malformed blobs).
//
// swtpm serves one connection at a time: every test closes its EsysTpm (after its
// TpmObjects, so they are flushed) before it runs a tpm2-tools command.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "attest/core/digest.h"
#include "attest/quote/quote_verifier.h"
#include "attest/tpm/ak_blob.h"
#include "attest/tpm/esys_tpm.h"
#include "attest/tpm/key_templates.h"
#include "attest/tpm/tcti_config.h"
#include "attest/tpm_public/tpm_public.h"
#include "tests/support/suite_resource.h"
#include "tests/support/swtpm.h"

namespace bulwark::attest {
namespace {

using testing::Swtpm;

// ---------------------------------------------------------------- pure parts

struct TctiCase {
  std::string text;
  std::string loader;  // expected loaderString(); empty = must be rejected
  std::string error_fragment;
};

TEST(TctiConfig, AcceptsTheDocumentedFormsAndRejectsTheRest) {
  const std::vector<TctiCase> cases = {
      {"", "device:/dev/tpmrm0", ""},
      {"device", "device:/dev/tpmrm0", ""},
      {"device:/dev/tpm0", "device:/dev/tpm0", ""},
      {"swtpm:host=127.0.0.1,port=2321", "swtpm:host=127.0.0.1,port=2321", ""},
      {"swtpm:port=4000,host=localhost", "swtpm:host=localhost,port=4000", ""},
      {"swtpm", "swtpm:host=127.0.0.1,port=2321", ""},
      {"mssim:host=::1,port=2321", "mssim:host=::1,port=2321", ""},
      {"tabrmd:bus_type=system", "", "unknown TCTI 'tabrmd'"},
      {"device:dev/tpm0", "", "absolute"},
      {"swtpm:host=127.0.0.1,port=0", "", "bad port '0'"},
      {"swtpm:host=127.0.0.1,port=65535", "", "bad port '65535'"},
      {"swtpm:host=127.0.0.1,port=12ab", "", "bad port '12ab'"},
      {"swtpm:host=127.0.0.1,port=", "", "bad port ''"},
      {"swtpm:host=127.0.0.1,port=1,", "", "trailing ','"},
      {"swtpm:host=a b,port=1", "", "bad host"},
      {"swtpm:host=h,host=i", "", "repeated key 'host'"},
      {"swtpm:path=/x", "", "unknown or repeated key 'path'"},
      {"swtpm:127.0.0.1:2321", "", "expected key=value"},
      {"SWTPM:port=1", "", "unknown TCTI"},
  };
  for (const TctiCase& c : cases) {
    auto cfg = parseTctiConfig(c.text);
    if (c.loader.empty()) {
      ASSERT_FALSE(cfg.has_value()) << c.text << " was accepted";
      EXPECT_EQ(cfg.error().code(), ErrorCode::kInvalidArgument) << c.text;
      EXPECT_NE(cfg.error().toString().find(c.error_fragment), std::string::npos)
          << c.text << " → " << cfg.error().toString();
    } else {
      ASSERT_TRUE(cfg.has_value()) << c.text << ": " << cfg.error().toString();
      EXPECT_EQ(cfg->loaderString(), c.loader) << c.text;
    }
  }
}

TEST(EkTemplates, PolicyAIsPolicySecretOfTheEndorsementHierarchy) {
  // Name of a permanent handle is the handle itself (Part 1 §16): TPM_RH_ENDORSEMENT.
  const Bytes endorsement_name = {0x40, 0x00, 0x00, 0x0b};
  EXPECT_EQ(toHex(policySecretDigest(HashAlg::kSha256, endorsement_name)),
            toHex(ekPolicyASha256()));
  EXPECT_NE(toHex(policySecretDigest(HashAlg::kSha256, Bytes{0x40, 0x00, 0x00, 0x01})),
            toHex(ekPolicyASha256()));
  TPM2B_PUBLIC l1 = ekTemplate(EkType::kRsa2048);
  TPM2B_PUBLIC h3 = ekTemplate(EkType::kEccP384);
  EXPECT_EQ(l1.publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH, 0u);
  EXPECT_NE(h3.publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH, 0u);
  EXPECT_EQ(h3.publicArea.authPolicy.size, 48);
}

// ------------------------------------------------------------ swtpm fixture

class TpmEdge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { swtpm_.start(Swtpm::start()); }
  static void TearDownTestSuite() { swtpm_.stop(); }
  void SetUp() override {
    ASSERT_TRUE(swtpm_) << "swtpm did not start: " << swtpm_.error();
    ASSERT_TRUE(openTpm());
  }

  bool openTpm() {
    auto t = EsysTpm::open({swtpm_->tcti(), ""});
    EXPECT_TRUE(t.has_value()) << t.error().toString();
    if (!t) return false;
    tpm_ = std::move(*t);
    return true;
  }
  std::string path(const std::string& name) const { return swtpm_->dir() + "/" + name; }

  static inline bulwark::testing::SuiteResource<Swtpm> swtpm_;
  std::unique_ptr<EsysTpm> tpm_;
};

EvpPkeyPtr certKey(const Bytes& der) {
  const unsigned char* p = der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) return nullptr;
  EVP_PKEY* key = X509_get_pubkey(cert);  // new reference
  X509_free(cert);
  return EvpPkeyPtr(key);
}

Bytes fileBytes(const std::string& path) {
  auto b = readFile(path);
  return b ? *b : Bytes{};
}

int closedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // nothing listens there any more
  return ntohs(addr.sin_port);
}

TEST_F(TpmEdge, EkCertificatesCertifyTheEkWeCreate) {
  struct Case {
    EkType type;
    std::uint16_t curve;  // 0 for RSA
  };
  for (Case c : {Case{EkType::kRsa2048, 0}, Case{EkType::kEccP384, kEccNistP384}}) {
    SCOPED_TRACE(std::string(ekTypeName(c.type)));
    auto der = tpm_->readEkCertificate(c.type);
    ASSERT_TRUE(der.has_value()) << der.error().toString();
    EvpPkeyPtr from_cert = certKey(*der);
    ASSERT_NE(from_cert, nullptr) << "EK certificate is not DER X.509";

    auto ek = tpm_->createEk(c.type);
    ASSERT_TRUE(ek.has_value()) << ek.error().toString();
    auto pub = parseTpm2bPublic(ek->tpm2bPublic());
    ASSERT_TRUE(pub.has_value()) << pub.error().toString();
    EXPECT_EQ(pub->type, c.curve == 0 ? KeyType::kRsa : KeyType::kEcc);
    if (c.curve != 0) {
      EXPECT_EQ(pub->curve, c.curve);
    }
    EXPECT_EQ(ek->name(), objectName(*pub));
    auto from_tpm = toEvpPkey(*pub);
    ASSERT_TRUE(from_tpm.has_value()) << from_tpm.error().toString();
    EXPECT_EQ(EVP_PKEY_eq(from_cert.get(), from_tpm->get()), 1) << "EK public != certificate key";
  }
}

TEST_F(TpmEdge, EkCertificateNvReadMatchesTpm2NvreadAndMissingIndexIsNotFound) {
  auto ours = tpm_->readEkCertificate(EkType::kRsa2048);
  ASSERT_TRUE(ours.has_value()) << ours.error().toString();
  // swtpm 0.7.1 provisions RSA-2048 and ECC P-384 only: P-256's index is absent.
  auto p256 = tpm_->readEkCertificate(EkType::kEccP256);
  ASSERT_FALSE(p256.has_value());
  EXPECT_EQ(p256.error().code(), ErrorCode::kNotFound) << p256.error().toString();
  auto none = tpm_->readNv(0x01c0fff0);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  tpm_.reset();
  auto r = swtpm_->run("tpm2_nvread 0x01c00002 -o ek_rsa_tools.der");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(toHex(*ours), toHex(fileBytes(path("ek_rsa_tools.der"))));
  EXPECT_GT(ours->size(), 500u);
}

TEST_F(TpmEdge, P256EkCanBeCreatedAndDiffersFromP384) {
  auto a = tpm_->createEk(EkType::kEccP256);
  ASSERT_TRUE(a.has_value()) << a.error().toString();
  auto pub = parseTpm2bPublic(a->tpm2bPublic());
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->curve, kEccNistP256);
  EXPECT_EQ(pub->auth_policy, ekPolicyASha256());
  EXPECT_FALSE(pub->has(object_attr::kUserWithAuth));
  a->reset();
  // Deterministic: the same template gives the same key (that is what lets an AK
  // blob reload under a re-created EK).
  auto b = tpm_->createEk(EkType::kEccP256);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(toHex(b->name()), toHex(objectName(*pub)));
}

TEST_F(TpmEdge, AkHasRestrictedSigningAttributesForBothTypes) {
  auto ek = tpm_->createEk(EkType::kRsa2048);
  ASSERT_TRUE(ek.has_value()) << ek.error().toString();
  for (AkType type : {AkType::kRsa2048, AkType::kEccP256}) {
    SCOPED_TRACE(std::string(akTypeName(type)));
    auto ak = tpm_->createAk(*ek, type);
    ASSERT_TRUE(ak.has_value()) << ak.error().toString();
    auto pub = parseTpm2bPublic(ak->key.tpm2bPublic());
    ASSERT_TRUE(pub.has_value());
    EXPECT_EQ(pub->attributes, kAkAttributes);  // exactly, nothing more (no decrypt)
    EXPECT_EQ(pub->name_alg, HashAlg::kSha256);
    EXPECT_EQ(pub->scheme_hash, 0x000B);
    if (type == AkType::kRsa2048) {
      EXPECT_EQ(pub->type, KeyType::kRsa);
      EXPECT_EQ(pub->rsa_bits, 2048);
      EXPECT_EQ(pub->scheme, 0x0014);  // TPM_ALG_RSASSA
    } else {
      EXPECT_EQ(pub->type, KeyType::kEcc);
      EXPECT_EQ(pub->curve, kEccNistP256);
      EXPECT_EQ(pub->scheme, 0x0018);  // TPM_ALG_ECDSA
    }
    EXPECT_EQ(ak->key.name(), objectName(*pub));
    auto blob = decodeAkBlob(ak->blob);
    ASSERT_TRUE(blob.has_value()) << blob.error().toString();
    EXPECT_EQ(blob->ek_name, ek->name());
    EXPECT_EQ(blob->tpm2b_public, ak->key.tpm2bPublic());
  }
}

// Persist → 0600 file → TPM reset (swtpm restart) → reload under a re-created EK →
// the reloaded AK signs, and the signature verifies with the AK public from before.
TEST_F(TpmEdge, AkBlobSurvivesTpmResetAndStillSigns) {
  struct Case {
    EkType ek;
    AkType ak;
  };
  for (Case c :
       {Case{EkType::kRsa2048, AkType::kRsa2048}, Case{EkType::kEccP384, AkType::kEccP256}}) {
    SCOPED_TRACE(std::string(ekTypeName(c.ek)) + "/" + std::string(akTypeName(c.ak)));
    if (!tpm_ && !openTpm()) return;
    std::string file = path("ak-" + std::string(akTypeName(c.ak)) + ".blob");
    Bytes ak_public;
    std::uint32_t resets_before = 0;
    {
      auto ek = tpm_->createEk(c.ek);
      ASSERT_TRUE(ek.has_value()) << ek.error().toString();
      auto ak = tpm_->createAk(*ek, c.ak);
      ASSERT_TRUE(ak.has_value()) << ak.error().toString();
      ASSERT_TRUE(saveAkBlobFile(file, ak->blob).has_value());
      ak_public = ak->key.tpm2bPublic();
      auto clock = tpm_->readClock();
      ASSERT_TRUE(clock.has_value());
      resets_before = clock->reset_count;
    }
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    tpm_.reset();
    ASSERT_TRUE(swtpm_->restart().has_value());
    ASSERT_TRUE(openTpm());
    auto clock = tpm_->readClock();
    ASSERT_TRUE(clock.has_value());
    EXPECT_GT(clock->reset_count, resets_before) << "restart() did not reset the TPM";

    auto blob = readAkBlobFile(file);
    ASSERT_TRUE(blob.has_value()) << blob.error().toString();
    auto ek = tpm_->createEk(c.ek);
    ASSERT_TRUE(ek.has_value());
    auto ak = tpm_->loadAk(*ek, *blob);
    ASSERT_TRUE(ak.has_value()) << ak.error().toString();
    EXPECT_EQ(ak->tpm2bPublic(), ak_public);

    auto selection = PcrSelection::parse("sha256:0,1,15");
    ASSERT_TRUE(selection.has_value());
    const Bytes nonce = sha256(asBytes("after-reset"));
    auto q = tpm_->quote(*ak, *selection, nonce);
    ASSERT_TRUE(q.has_value()) << q.error().toString();
    auto key = AkKey::fromTpm2bPublic(ak_public);
    ASSERT_TRUE(key.has_value());
    auto verifier = QuoteVerifier::create(std::move(*key));
    ASSERT_TRUE(verifier.has_value());
    auto verdict = verifier->verify(q->attest, q->signature, {nonce, &*selection, q->pcrs});
    ASSERT_TRUE(verdict.has_value()) << verdict.error().toString();
    EXPECT_TRUE(verdict->verified()) << verdict->summary();
    EXPECT_EQ(verdict->quote()->resetCount(), clock->reset_count);
  }
}

// TPM2_Clear keeps the endorsement seed (same EK, same Name, certificate still valid)
// but replaces the hierarchy proof values, and libtpms then refuses the old AK private
// area: the blob does not survive a clear, and the error says so (docs/tpm.md). Enroll
// again after a clear, as DESIGN.md §3 requires anyway.
TEST_F(TpmEdge, AkBlobAfterTpm2ClearFailsWithAClearError) {
  Bytes blob;
  Bytes ek_name;
  {
    auto ek = tpm_->createEk(EkType::kRsa2048);
    ASSERT_TRUE(ek.has_value());
    auto ak = tpm_->createAk(*ek, AkType::kRsa2048);
    ASSERT_TRUE(ak.has_value());
    blob = ak->blob;
    ek_name = ek->name();
    ASSERT_TRUE(tpm_->loadAk(*ek, blob).has_value());  // loads fine before the clear
  }
  tpm_.reset();
  auto r = swtpm_->run("tpm2_clear -c p");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(openTpm());
  auto ek = tpm_->createEk(EkType::kRsa2048);
  ASSERT_TRUE(ek.has_value());
  EXPECT_EQ(ek->name(), ek_name);
  EXPECT_TRUE(tpm_->readEkCertificate(EkType::kRsa2048).has_value());
  auto ak = tpm_->loadAk(*ek, blob);
  ASSERT_FALSE(ak.has_value()) << "AK blob loaded after TPM2_Clear";
  EXPECT_EQ(ak.error().code(), ErrorCode::kTpm);
  EXPECT_NE(ak.error().message().find("cleared"), std::string::npos) << ak.error().toString();
  // A fresh AK works.
  auto fresh = tpm_->createAk(*ek, AkType::kRsa2048);
  EXPECT_TRUE(fresh.has_value()) << fresh.error().toString();
}

TEST_F(TpmEdge, AkBlobFromAnotherEkOrTamperedIsRefusedWithoutCrashing) {
  auto rsa_ek = tpm_->createEk(EkType::kRsa2048);
  ASSERT_TRUE(rsa_ek.has_value());
  auto ak = tpm_->createAk(*rsa_ek, AkType::kEccP256);
  ASSERT_TRUE(ak.has_value()) << ak.error().toString();
  Bytes blob = ak->blob;
  ak->key.reset();

  auto decoded = decodeAkBlob(blob);
  ASSERT_TRUE(decoded.has_value());
  // Same EK type, other EK Name (another TPM, or after ChangeEPS): refused before the
  // TPM sees it.
  AkBlob other = *decoded;
  other.ek_name.back() ^= 1;
  auto e1 = tpm_->loadAk(*rsa_ek, encodeAkBlob(other));
  ASSERT_FALSE(e1.has_value());
  EXPECT_EQ(e1.error().code(), ErrorCode::kInvalidArgument);
  // Private area corrupted: the TPM's integrity check fails → kTpm with decode text.
  AkBlob corrupt = *decoded;
  corrupt.tpm2b_private[corrupt.tpm2b_private.size() / 2] ^= 0x55;
  auto e2 = tpm_->loadAk(*rsa_ek, encodeAkBlob(corrupt));
  ASSERT_FALSE(e2.has_value());
  EXPECT_EQ(e2.error().code(), ErrorCode::kTpm) << e2.error().toString();
  EXPECT_NE(e2.error().context().find("Esys_Load"), std::string::npos) << e2.error().toString();
  rsa_ek->reset();
  // Under an EK of another type.
  auto ecc_ek = tpm_->createEk(EkType::kEccP384);
  ASSERT_TRUE(ecc_ek.has_value());
  auto e3 = tpm_->loadAk(*ecc_ek, blob);
  ASSERT_FALSE(e3.has_value());
  EXPECT_EQ(e3.error().code(), ErrorCode::kInvalidArgument);
  // An empty object.
  TpmObject empty;
  auto e4 = tpm_->loadAk(empty, blob);
  ASSERT_FALSE(e4.has_value());
  EXPECT_EQ(e4.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(TpmEdge, AkBlobDecoderRejectsMalformedInput) {
  auto ek = tpm_->createEk(EkType::kRsa2048);
  ASSERT_TRUE(ek.has_value());
  auto ak = tpm_->createAk(*ek, AkType::kRsa2048);
  ASSERT_TRUE(ak.has_value());
  const Bytes good = ak->blob;
  ASSERT_TRUE(decodeAkBlob(good).has_value());
  EXPECT_EQ(encodeAkBlob(*decodeAkBlob(good)), good);

  struct Case {
    std::string what;
    Bytes bytes;
    ErrorCode code;
  };
  auto mutate = [&](std::size_t at, std::uint8_t value) {
    Bytes b = good;
    b[at] = value;
    return b;
  };
  Bytes trailing = good;
  trailing.push_back(0);
  Bytes ek_public_as_ak = good;  // swap the AK public for the EK's (a decrypt key)
  {
    auto d = *decodeAkBlob(good);
    d.tpm2b_public = ek->tpm2bPublic();
    ek_public_as_ak = encodeAkBlob(d);
  }
  std::vector<Case> cases = {
      {"empty", {}, ErrorCode::kMalformed},
      {"bad magic", mutate(0, 'X'), ErrorCode::kMalformed},
      {"version 2", mutate(5, 2), ErrorCode::kUnsupported},
      {"unknown EK type", mutate(6, 9), ErrorCode::kUnsupported},
      {"unknown AK type", mutate(7, 0), ErrorCode::kUnsupported},
      {"AK type lies", mutate(7, 2), ErrorCode::kMalformed},
      {"trailing byte", trailing, ErrorCode::kMalformed},
      {"EK public as AK", ek_public_as_ak, ErrorCode::kMalformed},
      {"huge", Bytes(5000, 0), ErrorCode::kMalformed},
  };
  for (std::size_t cut = 0; cut < good.size(); cut += 7) {
    cases.push_back({"truncated at " + std::to_string(cut),
                     Bytes(good.begin(), good.begin() + static_cast<long>(cut)),
                     ErrorCode::kMalformed});
  }
  for (const Case& c : cases) {
    auto r = decodeAkBlob(c.bytes);
    ASSERT_FALSE(r.has_value()) << c.what << " was accepted";
    EXPECT_EQ(r.error().code(), c.code) << c.what << ": " << r.error().toString();
  }
}

TEST_F(TpmEdge, PcrExtendOfTwoBanksMatchesSoftwareAndTpm2Pcrread) {
  auto selection = PcrSelection::parse("sha1:15+sha256:15");
  ASSERT_TRUE(selection.has_value());
  auto before = tpm_->readPcrs(*selection);
  ASSERT_TRUE(before.has_value()) << before.error().toString();
  ASSERT_EQ(before->size(), 2u);
  const ByteView event = asBytes("bulwark batch record");
  std::vector<TaggedDigest> digests = {{HashAlg::kSha1, digest(HashAlg::kSha1, event)},
                                       {HashAlg::kSha256, digest(HashAlg::kSha256, event)}};
  ASSERT_TRUE(tpm_->extendPcr(15, digests).has_value());
  auto after = tpm_->readPcrs(*selection);
  ASSERT_TRUE(after.has_value());
  for (std::size_t b = 0; b < 2; ++b) {
    ASSERT_EQ((*after)[b].values.size(), 1u);
    Bytes expected = pcrExtend(digests[b].alg, (*before)[b].values[0].value, digests[b].digest);
    EXPECT_EQ(toHex((*after)[b].values[0].value), toHex(expected)) << hashAlgName(digests[b].alg);
  }
  tpm_.reset();
  // tpm2_pcrread -o writes the raw values in selection order.
  auto r = swtpm_->run("tpm2_pcrread sha1:15+sha256:15 -o pcr15.bin");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(toHex(fileBytes(path("pcr15.bin"))),
            toHex((*after)[0].values[0].value) + toHex((*after)[1].values[0].value));
}

TEST_F(TpmEdge, ReadingMoreThanEightPcrsChunksAndMatchesTpm2Pcrread) {
  auto selection = PcrSelection::parse(
      "sha1:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,"
      "20,21,22,23+sha256:0,2,4,6,8,10,12,14,15,16,23");
  ASSERT_TRUE(selection.has_value());
  auto values = tpm_->readPcrs(*selection);
  ASSERT_TRUE(values.has_value()) << values.error().toString();
  ASSERT_TRUE(checkPcrValuesMatch(*selection, *values).has_value());
  std::string ours;
  for (const auto& bank : *values) {
    for (const auto& v : bank.values) ours += toHex(v.value);
  }
  tpm_.reset();
  auto r = swtpm_->run("tpm2_pcrread '" + selection->toString() + "' -o many.bin");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ours, toHex(fileBytes(path("many.bin"))));
}

TEST_F(TpmEdge, PcrCallerMistakesAndUnallocatedBankAreErrors) {
  auto bad_size = std::vector<TaggedDigest>{{HashAlg::kSha256, Bytes(20, 1)}};
  EXPECT_EQ(tpm_->extendPcr(15, bad_size).error().code(), ErrorCode::kInvalidArgument);
  auto ok_digest = std::vector<TaggedDigest>{{HashAlg::kSha256, Bytes(32, 1)}};
  EXPECT_EQ(tpm_->extendPcr(99, ok_digest).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tpm_->extendPcr(15, {}).error().code(), ErrorCode::kInvalidArgument);
  // The harness allocates sha1 and sha256 only.
  auto sha384 = PcrSelection::parse("sha384:0");
  ASSERT_TRUE(sha384.has_value());
  auto r = tpm_->readPcrs(*sha384);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound) << r.error().toString();
  auto ext = tpm_->extendPcr(15, std::vector<TaggedDigest>{{HashAlg::kSha384, Bytes(48, 1)}});
  // Extending an unallocated bank is a no-op for that bank (Part 3 §22.2) or an error;
  // either way the TPM must still answer afterwards.
  (void)ext;
  EXPECT_TRUE(tpm_->getRandom(8).has_value());
}

TEST_F(TpmEdge, QuoteArgumentChecks) {
  auto selection = PcrSelection::parse("sha256:0");
  ASSERT_TRUE(selection.has_value());
  TpmObject empty;
  EXPECT_EQ(tpm_->quote(empty, *selection, {}).error().code(), ErrorCode::kInvalidArgument);
  auto ek = tpm_->createEk(EkType::kRsa2048);
  ASSERT_TRUE(ek.has_value());
  auto ak = tpm_->createAk(*ek, AkType::kEccP256);
  ASSERT_TRUE(ak.has_value());
  Bytes too_long(65, 7);
  EXPECT_EQ(tpm_->quote(ak->key, *selection, too_long).error().code(), ErrorCode::kInvalidArgument);
  // An EK (decrypt key, no signing scheme) is refused before the TPM is asked.
  auto by_ek = tpm_->quote(*ek, *selection, {});
  ASSERT_FALSE(by_ek.has_value());
  EXPECT_EQ(by_ek.error().code(), ErrorCode::kUnsupported) << by_ek.error().toString();
  auto ok = tpm_->quote(ak->key, *selection, Bytes(64, 7));
  EXPECT_TRUE(ok.has_value()) << ok.error().toString();
}

TEST_F(TpmEdge, RandomAndClock) {
  auto a = tpm_->getRandom(100);
  auto b = tpm_->getRandom(100);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->size(), 100u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(tpm_->getRandom(5000).error().code(), ErrorCode::kInvalidArgument);
  auto c1 = tpm_->readClock();
  ::usleep(20000);
  auto c2 = tpm_->readClock();
  ASSERT_TRUE(c1.has_value() && c2.has_value());
  EXPECT_GT(c2->clock, c1->clock);
}

TEST_F(TpmEdge, BadTctiAndClosedPortAreClearErrors) {
  tpm_.reset();
  auto bad = EsysTpm::open({"nosuch:thing", ""});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("unknown TCTI 'nosuch'"), std::string::npos);

  for (std::string kind : {"swtpm", "mssim"}) {
    int port = closedLoopbackPort();
    auto closed = EsysTpm::open({kind + ":host=127.0.0.1,port=" + std::to_string(port), ""});
    ASSERT_FALSE(closed.has_value()) << kind;
    EXPECT_TRUE(closed.error().code() == ErrorCode::kUnavailable ||
                closed.error().code() == ErrorCode::kTpm)
        << closed.error().toString();
    EXPECT_FALSE(closed.error().message().empty());
  }
  auto no_device = EsysTpm::open({"device:/nonexistent/tpm", ""});
  ASSERT_FALSE(no_device.has_value());
  EXPECT_EQ(no_device.error().code(), ErrorCode::kUnavailable) << no_device.error().toString();
}

}  // namespace
}  // namespace bulwark::attest
