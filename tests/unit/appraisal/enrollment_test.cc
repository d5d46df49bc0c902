// Enrollment against the swtpm EK certificate of the fixtures (real swtpm_localca chain):
// challenge, activation with the secret (recorded from the injected RNG, since no TPM
// runs here — tests/tpm covers ActivateCredential itself), the issued client
// certificate, and every refusal with its code.
#include "server/appraisal/enrollment.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/ekcert/ca_store_loader.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

std::string str(ByteView b) { return std::string(b.begin(), b.end()); }

// Real randomness, remembering every draw (the first 32-byte draw of enroll() is the secret).
class RecordingRng final : public attest::Rng {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override {
    if (auto r = attest::defaultRng().fill(out); !r) return r;
    draws.emplace_back(out.begin(), out.end());
    return {};
  }
  std::vector<Bytes> draws;
};

std::string makeCsr(int curve_nid = NID_X9_62_prime256v1) {
  EVP_PKEY* key = EVP_EC_gen(OBJ_nid2sn(curve_nid));
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, key);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ignored-by-the-ca"), -1, -1,
                             0);
  X509_REQ_sign(req, key, EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  return out;
}

struct EnrollEnv {
  Env env;
  RecordingRng rng;
  std::unique_ptr<attest::CaStore> cas;
  std::unique_ptr<AgentCa> ca;
  std::unique_ptr<EnrollmentService> service;

  EnrollEnv() {
    auto store = attest::loadCaStore(
        {{fixtureDir() + "/ek_root_ca.pem"}, {fixtureDir() + "/ek_issuer_ca.pem"}});
    EXPECT_TRUE(store.has_value()) << store.error().toString();
    cas = std::make_unique<attest::CaStore>(std::move(*store));
    auto c = AgentCa::loadOrCreate(env.dir.path() + "/agent-ca.pem",
                                   env.dir.path() + "/agent-ca.key", env.now);
    EXPECT_TRUE(c.has_value()) << c.error().toString();
    ca = std::make_unique<AgentCa>(std::move(*c));
    service = makeService();
  }
  std::unique_ptr<EnrollmentService> makeService() {
    return std::make_unique<EnrollmentService>(
        *env.store, *cas, *ca, *env.appraiser, EnrollmentOptions{}, [this] { return env.now; },
        rng);
  }
  bulwark::v1::EnrollRequest request(const std::string& node) const {
    const Fixtures& f = Fixtures::get();
    bulwark::v1::EnrollRequest r;
    r.set_node(node);
    r.set_ek_certificate(str(f.ek_cert));
    r.set_ek_public(str(f.ek_public));
    r.set_ak_public(str(f.ak_public));
    r.set_csr(csr);
    return r;
  }
  std::string csr = makeCsr();
};

TEST(Enrollment, ChallengeActivationAndClientCertificate) {
  EnrollEnv e;
  auto challenge = e.service->enroll(e.request("new-node"));
  ASSERT_TRUE(challenge.has_value()) << challenge.error().code << ": " << challenge.error().detail;
  EXPECT_FALSE(challenge->credential_blob().empty());
  EXPECT_FALSE(challenge->encrypted_secret().empty());
  EXPECT_EQ(challenge->expires_unix_ms(), e.env.now + 300000);
  ASSERT_FALSE(e.rng.draws.empty());
  Bytes secret = e.rng.draws.front();
  ASSERT_EQ(secret.size(), 32u);

  bulwark::v1::ActivateRequest act;
  act.set_enrollment_id(challenge->enrollment_id());
  act.set_secret(str(secret));
  auto result = e.service->activate(act);
  ASSERT_TRUE(result.has_value()) << result.error().code << ": " << result.error().detail;
  EXPECT_EQ(result->node(), "new-node");
  EXPECT_EQ(result->state(), "awaiting-approval");
  EXPECT_EQ(result->pcr_bank(), "sha256");
  ASSERT_EQ(result->pcr_selection_size(), 1);
  EXPECT_EQ(result->nonce().size(), 32u);

  // The certificate: CN = node, clientAuth, signed by the agent CA, serial stored.
  const unsigned char* p =
      reinterpret_cast<const unsigned char*>(result->client_certificate().data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(result->client_certificate().size()));
  ASSERT_NE(cert, nullptr);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "new-node");
  EXPECT_TRUE(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT);
  const unsigned char* cp = e.ca->certificateDer().data();
  X509* ca = d2i_X509(nullptr, &cp, static_cast<long>(e.ca->certificateDer().size()));
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(X509_verify(cert, X509_get0_pubkey(ca)), 1);
  EXPECT_EQ(X509_check_issued(ca, cert), X509_V_OK);
  X509_free(ca);
  auto node = e.env.store->getNode("new-node");
  ASSERT_TRUE(node.has_value());
  EXPECT_EQ(node->state, NodeState::kEnrolling);
  EXPECT_EQ(node->client_cert_serial.size(), 32u);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string serial(hex);
  for (char& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(node->client_cert_serial, serial);
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(cert);

  // Used up: the same activation again finds nothing.
  auto again = e.service->activate(act);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, "enrollment-unknown");
}

TEST(Enrollment, RefusalsNameTheirReason) {
  const Fixtures& f = Fixtures::get();
  auto other_ek = readText(sourceDir() + "/tests/testdata/quote/ecc.ek.pub");
  struct Case {
    std::string what;
    std::function<void(EnrollEnv&, bulwark::v1::EnrollRequest&)> edit;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"bad node name", [](auto&, auto& r) { r.set_node(".hidden"); }, 400, "node-name-invalid"},
      {"EK public garbage", [](auto&, auto& r) { r.set_ek_public("xx"); }, 400,
       "ek-public-malformed"},
      {"AK public garbage", [](auto&, auto& r) { r.set_ak_public(""); }, 400,
       "ak-public-malformed"},
      {"no EK certificate", [](auto&, auto& r) { r.clear_ek_certificate(); }, 403,
       "ek-cert-missing"},
      {"EK certificate of another key", [&](auto&, auto& r) { r.set_ek_public(other_ek); }, 403,
       "ek-cert-key-mismatch"},
      {"EK certificate outside the CA store",
       [](EnrollEnv& e, auto&) {
         auto only_agent_ca = attest::CaStore();
         ASSERT_TRUE(only_agent_ca.addTrusted(e.ca->certificateDer()).has_value());
         *e.cas = std::move(only_agent_ca);
       },
       403, "ek-cert-untrusted-issuer"},
      {"AK that is the EK (a decryption key)",
       [&](auto&, auto& r) { r.set_ak_public(str(f.ek_public)); }, 403, "ak-not-sign"},
      {"CSR garbage", [](auto&, auto& r) { r.set_csr("not a csr"); }, 400, "csr-invalid"},
      {"CSR with a weak key", [](auto&, auto& r) { r.set_csr(makeCsr(NID_secp224r1)); }, 400,
       "csr-invalid"},
      {"revoked node, same EK",
       [&](EnrollEnv& e, auto& r) {
         r.set_node(f.node);
         ASSERT_TRUE(e.env.store->revokeNode(f.node, e.env.now).has_value());
       },
       403, "node-revoked"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EnrollEnv e;
    auto req = e.request("node-x");
    c.edit(e, req);
    auto out = e.service->enroll(req);
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, c.status) << out.error().detail;
    EXPECT_EQ(out.error().code, c.code) << out.error().detail;
  }
}

TEST(Enrollment, NameTakenUntilRevokedAndDeleted) {
  EnrollEnv e;
  const Fixtures& f = Fixtures::get();
  // The fixture node exists with the fixture EK; make "taken-node" exist with another EK.
  auto other_ek = readText(sourceDir() + "/tests/testdata/quote/ecc.ek.pub");
  PendingEnrollment p;
  p.id = "other-ek";
  p.node = "taken-node";
  p.ek_public = Bytes(other_ek.begin(), other_ek.end());
  p.ak_public = f.ak_public;
  p.ak_name = attest::objectName(*attest::parseTpm2bPublic(f.ak_public));
  p.secret_hash = Bytes(32, 3);
  p.created_at = e.env.now - 1;
  p.expires_at = e.env.now + 1000;
  ASSERT_TRUE(e.env.store->createPendingEnrollment(p).has_value());
  ASSERT_TRUE(e.env.store->completeEnrollment("other-ek", {"", true, e.env.now}).has_value());
  auto taken = e.service->enroll(e.request("taken-node"));
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().status, 409);
  EXPECT_EQ(taken.error().code, "node-name-taken");
  // Revoking is not enough (sticky); after the admin deletes it, the name goes to the new TPM.
  ASSERT_TRUE(e.env.store->revokeNode("taken-node", e.env.now).has_value());
  auto revoked = e.service->enroll(e.request("taken-node"));
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error().code, "node-revoked");
  ASSERT_TRUE(e.env.store->deleteNode("taken-node").has_value());
  e.rng.draws.clear();
  auto challenge = e.service->enroll(e.request("taken-node"));
  ASSERT_TRUE(challenge.has_value()) << challenge.error().detail;
  bulwark::v1::ActivateRequest act;
  act.set_enrollment_id(challenge->enrollment_id());
  act.set_secret(str(e.rng.draws.front()));
  auto done = e.service->activate(act);
  ASSERT_TRUE(done.has_value()) << done.error().code << ": " << done.error().detail;
  auto node = e.env.store->getNode("taken-node");
  ASSERT_TRUE(node.has_value());
  EXPECT_EQ(node->ek_public, f.ek_public);
  EXPECT_EQ(node->state, NodeState::kEnrolling);
}

TEST(Enrollment, ActivationAttemptsExpiryAndReplicas) {
  EnrollEnv e;
  auto challenge = e.service->enroll(e.request("node-y"));
  ASSERT_TRUE(challenge.has_value());
  Bytes secret = e.rng.draws.front();
  bulwark::v1::ActivateRequest wrong;
  wrong.set_enrollment_id(challenge->enrollment_id());
  wrong.set_secret(std::string(32, 'x'));
  for (int i = 0; i < 3; ++i) {
    auto r = e.service->activate(wrong);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "activation-failed");
  }
  bulwark::v1::ActivateRequest right;
  right.set_enrollment_id(challenge->enrollment_id());
  right.set_secret(str(secret));
  auto late = e.service->activate(right);  // a 4th attempt, even with the right secret
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, "enrollment-unknown");

  // Expiry: 5 minutes.
  e.rng.draws.clear();
  auto c2 = e.service->enroll(e.request("node-y"));
  ASSERT_TRUE(c2.has_value());
  bulwark::v1::ActivateRequest act2;
  act2.set_enrollment_id(c2->enrollment_id());
  act2.set_secret(str(e.rng.draws.front()));
  e.env.now += 300001;
  auto expired = e.service->activate(act2);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, "enrollment-unknown");

  // Another replica (no CSR in memory): the CSR must be resent, and must be the same.
  e.rng.draws.clear();
  auto c3 = e.service->enroll(e.request("node-y"));
  ASSERT_TRUE(c3.has_value());
  auto replica = e.makeService();
  bulwark::v1::ActivateRequest act3;
  act3.set_enrollment_id(c3->enrollment_id());
  act3.set_secret(str(e.rng.draws.front()));
  auto missing = replica->activate(act3);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, "csr-missing");
  act3.set_csr(makeCsr());
  auto swapped = replica->activate(act3);
  ASSERT_FALSE(swapped.has_value());
  EXPECT_EQ(swapped.error().code, "csr-invalid");
  act3.set_csr(e.csr);
  auto ok = replica->activate(act3);
  ASSERT_TRUE(ok.has_value()) << ok.error().code << ": " << ok.error().detail;
}

}  // namespace
}  // namespace bulwark::server::test
