// Two bulwark-verifier processes (replicas A and B) on one real PostgreSQL
// (tests/support/postgres.h) serve one fleet (DESIGN §6): a swtpm-backed node enrolls
// on A (EK certificate chain + credential activation), attests on B with the nonce A
// issued, both replicas answer queries identically, a nonce consumed on A is refused
// on B, and a policy change made on A governs B's next appraisal.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_record.h"
#include "attest/core/digest.h"
#include "attest/quote/qualifying_data.h"
#include "attest/tpm/esys_tpm.h"
#include "bulwark/v1/enrollment.pb.h"
#include "bulwark/v1/evidence.pb.h"
#include "server/ctl/http_client.h"
#include "tests/support/postgres.h"
#include "tests/support/swtpm.h"

namespace bulwark {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kProto = "application/x-protobuf";
constexpr const char* kAdminToken = "admin-token-for-the-replica-test";
constexpr const char* kNode = "replica-node";

std::string str(ByteView b) { return std::string(b.begin(), b.end()); }
std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One verifier process on the shared config; its own port and log.
class Replica {
 public:
  Replica(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {}
  ~Replica() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Result<void> start() {
    std::string bin = std::string(std::getenv("BULWARK_BINARY_DIR")) + "/bin/bulwark-verifier";
    std::string config = dir_ + "/verifier.yaml", logfile = log();
    pid_ = ::fork();
    if (pid_ < 0) return fail(ErrorCode::kIo, "fork");
    if (pid_ == 0) {
      std::FILE* f = std::freopen(logfile.c_str(), "w", stderr);
      (void)f;
      ::execl(bin.c_str(), bin.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::regex port_re(R"re("msg":"listening".*"port":([0-9]+))re");
    for (int i = 0; i < 300 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::smatch m;
      std::string text = readText(logfile);
      if (std::regex_search(text, m, port_re)) port_ = std::stoi(m[1]);
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return fail(ErrorCode::kUnavailable, name_ + " exited: " + text);
      }
    }
    if (port_ == 0) return fail(ErrorCode::kUnavailable, name_ + " did not listen");
    return {};
  }
  std::string log() const { return dir_ + "/" + name_ + ".log"; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::unique_ptr<ctl::HttpClient> client(const std::string& token, bool agent = false) const {
    auto c = ctl::HttpClient::create({url(), dir_ + "/ca.pem", agent ? dir_ + "/agent.pem" : "",
                                      agent ? dir_ + "/agent.key" : "", token,
                                      std::chrono::seconds(30)});
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().toString());
    return c ? std::move(*c) : nullptr;
  }

 private:
  std::string dir_, name_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class VerifierReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = testing::PostgresServer::start();
    ASSERT_TRUE(pg.has_value()) << pg.error().toString();
    pg_ = std::move(*pg);
    auto db = pg_->createDatabase();
    ASSERT_TRUE(db.has_value()) << db.error().toString();
    auto tpm = testing::Swtpm::start();
    ASSERT_TRUE(tpm.has_value()) << tpm.error().toString();
    swtpm_ = std::move(*tpm);
    std::string tmpl = (fs::temp_directory_path() / "bulwark-replicas-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto pki = testing::runCommand(
        "set -e; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-keyout ca.key -out ca.pem -subj /CN=replica-test-ca -days 2 2>/dev/null; "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
        "-out server.csr -subj /CN=127.0.0.1 2>/dev/null; "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext; openssl x509 -req -in server.csr "
        "-CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext "
        "2>/dev/null",
        dir_);
    ASSERT_EQ(pki.exit_code, 0) << pki.output;
    // One configuration for both replicas: same database, keys and agent CA (docs/verifier.md
    // "Replicas"); each listens on its own free port.
    std::ofstream(dir_ + "/verifier.yaml")
        << "listen: {address: 127.0.0.1, port: 0}\n"
        << "tls: {cert: " << dir_ << "/server.pem, key: " << dir_ << "/server.key}\n"
        << "agent_ca: {cert: " << dir_ << "/agent-ca.pem, key: " << dir_ << "/agent-ca.key}\n"
        << "tokens:\n  - {name: admin, role: admin, sha256: "
        << toHex(sha256(asBytes(std::string_view(kAdminToken)))) << "}\n"
        << "database: {postgres: \"" << *db << "\"}\n"
        << "verifier_key: " << dir_ << "/ear.key\n"
        << "enrollment: {ek_ca: [" << swtpm_->rootCaPem() << "], ek_intermediates: ["
        << swtpm_->issuerCaPem() << "], auto_approve: true}\n"
        << "appraisal: {pcr_bank: sha256}\n";
    // A first: it creates the agent CA and EAR key the second one then loads.
    a_ = std::make_unique<Replica>(dir_, "replica-a");
    ASSERT_TRUE(a_->start().has_value()) << readText(a_->log());
    b_ = std::make_unique<Replica>(dir_, "replica-b");
    ASSERT_TRUE(b_->start().has_value()) << readText(b_->log());

    auto esys = attest::EsysTpm::open({swtpm_->tcti(), ""});
    ASSERT_TRUE(esys.has_value()) << esys.error().toString();
    tpm_ = std::move(*esys);
    auto ek = tpm_->createEk(attest::EkType::kRsa2048);
    ASSERT_TRUE(ek.has_value()) << ek.error().toString();
    ek_ = std::move(*ek);
    auto ak = tpm_->createAk(ek_, attest::AkType::kRsa2048);
    ASSERT_TRUE(ak.has_value()) << ak.error().toString();
    ak_ = std::move(ak->key);
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    ak_ = {};
    ek_ = {};
    tpm_.reset();
    swtpm_.reset();
    pg_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Enrollment on `r` (credential activation with the swtpm); returns the first nonce.
  Bytes enroll(const Replica& r) {
    auto csr = testing::runCommand(
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout agent.key "
        "-outform DER -out agent.csr -subj /CN=x 2>&1",
        dir_);
    EXPECT_EQ(csr.exit_code, 0) << csr.output;
    auto cert = tpm_->readEkCertificate(attest::EkType::kRsa2048);
    EXPECT_TRUE(cert.has_value());
    bulwark::v1::EnrollRequest req;
    req.set_node(kNode);
    req.set_ek_certificate(str(cert.value_or(Bytes{})));
    req.set_ek_public(str(ek_.tpm2bPublic()));
    req.set_ak_public(str(ak_.tpm2bPublic()));
    req.set_csr(readText(dir_ + "/agent.csr"));
    auto anon = r.client("");
    auto r1 = anon->request("POST", "/v1/enroll", req.SerializeAsString(), kProto, kProto);
    EXPECT_TRUE(r1 && r1->status == 200) << (r1 ? r1->body : r1.error().toString());
    bulwark::v1::EnrollChallenge ch;
    EXPECT_TRUE(r1 && ch.ParseFromString(r1->body));
    auto secret = tpm_->activateCredential(ak_, ek_, asBytes(ch.credential_blob()),
                                           asBytes(ch.encrypted_secret()));
    EXPECT_TRUE(secret.has_value());
    bulwark::v1::ActivateRequest act;
    act.set_enrollment_id(ch.enrollment_id());
    act.set_secret(str(secret.value_or(Bytes{})));
    auto r2 = anon->request("POST", "/v1/enroll/activate", act.SerializeAsString(), kProto, kProto);
    EXPECT_TRUE(r2 && r2->status == 200) << (r2 ? r2->body : r2.error().toString());
    bulwark::v1::EnrollResult result;
    EXPECT_TRUE(r2 && result.ParseFromString(r2->body));
    std::ofstream(dir_ + "/agent.der", std::ios::binary) << result.client_certificate();
    auto pem = testing::runCommand("openssl x509 -inform DER -in agent.der -out agent.pem", dir_);
    EXPECT_EQ(pem.exit_code, 0) << pem.output;
    return Bytes(result.nonce().begin(), result.nonce().end());
  }

  // PCR 15 gets one Bulwark batch (runc); the CEL log records it.
  void measure() {
    std::vector<attest::BatchEntry> batch = {
        {"runtime-binary", "/usr/sbin/runc", sha256(asBytes(std::string_view("runc")))}};
    json content = attest::makeBatchContent(batch);
    constexpr HashAlg kBanks[] = {HashAlg::kSha256};
    auto digests = attest::bulwarkDigests(content, kBanks);
    ASSERT_TRUE(digests.has_value());
    std::vector<attest::TaggedDigest> tagged = {{HashAlg::kSha256, (*digests)[0].value}};
    ASSERT_TRUE(tpm_->extendPcr(15, tagged).has_value());
    cel_ += attest::formatCelRecord(15, *digests, attest::kBulwarkContentType,
                                    attest::canonicalContent(content).value_or(""));
    measured_ = batch;
  }

  std::string evidence(ByteView nonce) {
    bulwark::v1::Report r;
    r.set_schema_version(1);
    r.set_node(kNode);
    r.set_nonce(str(nonce));
    r.set_measurement_pcr(15);
    for (const auto& e : measured_) {
      auto* m = r.add_measurements();
      m->set_kind(e.kind);
      m->set_subject(e.subject);
      m->set_sha256(str(e.sha256));
    }
    auto* log = r.add_logs();
    log->set_format(bulwark::v1::EventLog::CEL_JSON);
    log->set_content(cel_);
    std::string bytes = r.SerializeAsString();
    auto q = tpm_->quote(ak_, *attest::PcrSelection::parse("sha256:15"),
                         attest::qualifyingData(nonce, asBytes(bytes)));
    EXPECT_TRUE(q.has_value()) << (q ? "" : q.error().toString());
    bulwark::v1::Evidence ev;
    ev.set_report(bytes);
    ev.mutable_quote()->set_attest(str(q->attest));
    ev.mutable_quote()->set_signature(str(q->signature));
    for (const auto& bank : q->pcrs) {
      auto* b = ev.mutable_quote()->add_pcrs();
      b->set_hash_alg(std::string(hashAlgName(bank.alg)));
      for (const auto& v : bank.values) {
        auto* pv = b->add_pcrs();
        pv->set_index(v.index);
        pv->set_digest(str(v.value));
      }
    }
    return ev.SerializeAsString();
  }

  // POST /v1/attest on `r`: HTTP status and the parsed answer (result or error body).
  std::pair<int, bulwark::v1::AttestResponse> attestOn(const Replica& r, ByteView nonce,
                                                       std::string* error = nullptr) {
    auto reply = r.client("", true)->request("POST", "/v1/attest", evidence(nonce), kProto, kProto);
    EXPECT_TRUE(reply.has_value()) << (reply ? "" : reply.error().toString());
    bulwark::v1::AttestResponse resp;
    if (!reply) return {0, resp};
    if (reply->status == 200) {
      EXPECT_TRUE(resp.ParseFromString(reply->body));
    } else if (error != nullptr) {
      bulwark::v1::ErrorBody e;
      *error = e.ParseFromString(reply->body) ? e.error() : reply->body;
    }
    return {reply->status, resp};
  }

  json getJson(const Replica& r, const std::string& path) {
    auto reply = r.client(kAdminToken)->request("GET", path, "");
    EXPECT_TRUE(reply && reply->status == 200) << path << ": " << (reply ? reply->body : "");
    return reply ? json::parse(reply->body, nullptr, false) : json();
  }

  Bytes nonceFrom(const Replica& r) {
    auto reply = r.client("", true)->request("GET", "/v1/nonce", "", kProto, kProto);
    EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : "");
    bulwark::v1::NonceResponse n;
    EXPECT_TRUE(reply && n.ParseFromString(reply->body));
    return Bytes(n.nonce().begin(), n.nonce().end());
  }

  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<testing::Swtpm> swtpm_;
  std::string dir_;
  std::unique_ptr<Replica> a_, b_;
  std::unique_ptr<attest::EsysTpm> tpm_;
  attest::TpmObject ek_, ak_;
  std::string cel_;
  std::vector<attest::BatchEntry> measured_;
};

TEST_F(VerifierReplicas, OneFleetOnTwoReplicas) {
  Bytes first = enroll(*a_);
  ASSERT_EQ(first.size(), 32u);
  measure();

  // Enrolled on A, attests on B with the nonce A issued.
  auto [status, resp] = attestOn(*b_, first);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(resp.result().status(), bulwark::v1::STATUS_WARNING)
      << "runc has no reference value yet";

  // Both replicas answer queries the same.
  json na = getJson(*a_, std::string("/v1/nodes/") + kNode);
  json nb = getJson(*b_, std::string("/v1/nodes/") + kNode);
  EXPECT_EQ(na["last_appraisal"], nb["last_appraisal"]);
  EXPECT_EQ(na["state"], "untrusted");
  EXPECT_EQ(na["reasons"], nb["reasons"]);
  EXPECT_EQ(getJson(*a_, "/v1/nodes")["nodes"], getJson(*b_, "/v1/nodes")["nodes"]);
  auto ear_a =
      a_->client(kAdminToken)->request("GET", std::string("/v1/nodes/") + kNode + "/ear", "");
  auto ear_b =
      b_->client(kAdminToken)->request("GET", std::string("/v1/nodes/") + kNode + "/ear", "");
  ASSERT_TRUE(ear_a && ear_b);
  EXPECT_EQ(ear_a->body, ear_b->body);
  EXPECT_EQ(getJson(*a_, "/v1/jwks"), getJson(*b_, "/v1/jwks"));  // same EAR key

  // A nonce A issued and A consumed is refused by B (single use across replicas).
  Bytes n = nonceFrom(*a_);
  EXPECT_EQ(attestOn(*a_, n).first, 200);
  std::string error;
  EXPECT_EQ(attestOn(*b_, n, &error).first, 409);
  EXPECT_EQ(error, "nonce-replayed");

  // Policy learned and approved on A governs B's next appraisal (policy version in the DB).
  auto admin = a_->client(kAdminToken);
  auto learned = admin->request("POST", std::string("/v1/policy/learn/") + kNode, "{}");
  ASSERT_TRUE(learned && learned->status == 200) << (learned ? learned->body : "");
  auto approved = admin->request("POST", "/v1/policy/approve", R"({"all":true})");
  ASSERT_TRUE(approved && approved->status == 200) << (approved ? approved->body : "");
  auto [s2, r2] = attestOn(*b_, nonceFrom(*b_));
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(r2.result().status(), bulwark::v1::STATUS_AFFIRMING);
  EXPECT_EQ(getJson(*a_, std::string("/v1/nodes/") + kNode)["state"], "trusted");
}

// The operator CLI against the replicas: bulwarkctl imports a package on A (its files
// become approved reference values visible on B), revokes that version on B, and moves
// the node between groups (an unconfigured group is refused).
TEST_F(VerifierReplicas, BulwarkctlPackagesAndGroupsAcrossReplicas) {
  enroll(*a_);
  fs::path root = fs::path(dir_) / "tiny";
  fs::create_directories(root / "DEBIAN");
  fs::create_directories(root / "usr/bin");
  std::ofstream(root / "DEBIAN/control")
      << "Package: tiny\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@e>\n"
         "Description: t\n";
  std::ofstream(root / "usr/bin/tiny") << "tiny 1.0\n";
  auto deb = testing::runCommand("dpkg-deb --root-owner-group --build tiny tiny.deb 2>&1", dir_);
  ASSERT_EQ(deb.exit_code, 0) << deb.output;
  std::string ctl = std::string(std::getenv("BULWARK_BINARY_DIR")) + "/bin/bulwarkctl";
  auto run = [&](const Replica& r, const std::string& args) {
    return testing::runCommand("BULWARK_TOKEN=" + std::string(kAdminToken) + " " + ctl +
                                   " --verifier " + r.url() + " --cacert ca.pem " + args + " 2>&1",
                               dir_);
  };
  auto imported = run(*a_, "policy import-package tiny.deb");
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_NE(imported.output.find("source package:tiny=1.0-1"), std::string::npos)
      << imported.output;

  auto tinyValues = [&](const Replica& r) {
    std::vector<json> out;
    json policy = getJson(r, "/v1/policy");
    for (const json& v : policy["reference_values"]) {
      if (v["source"] == "package:tiny=1.0-1") out.push_back(v);
    }
    return out;
  };
  auto on_b = tinyValues(*b_);
  ASSERT_EQ(on_b.size(), 1u) << imported.output << getJson(*b_, "/v1/policy").dump();
  EXPECT_EQ(on_b[0]["kind"], "file");
  EXPECT_EQ(on_b[0]["subject"], "/usr/bin/tiny");
  EXPECT_EQ(on_b[0]["sha256"], toHex(sha256(asBytes(std::string_view("tiny 1.0\n")))));
  EXPECT_EQ(on_b[0]["state"], "approved");

  auto revoked = run(*b_, "policy revoke --package tiny --version 1.0-1");
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  auto on_a = tinyValues(*a_);
  ASSERT_EQ(on_a.size(), 1u);
  EXPECT_EQ(on_a[0]["state"], "revoked");

  auto bad = run(*a_, std::string("nodes group ") + kNode + " lab");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("group-unknown"), std::string::npos) << bad.output;
  auto good = run(*b_, std::string("nodes group ") + kNode + " default --json");
  ASSERT_EQ(good.exit_code, 0) << good.output;
  EXPECT_EQ(getJson(*a_, std::string("/v1/nodes/") + kNode)["group"], "default");
}

}  // namespace
}  // namespace bulwark
