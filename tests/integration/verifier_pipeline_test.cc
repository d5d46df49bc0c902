// End to end: a swtpm-backed agent identity (EsysTpm) enrolls with the real
// bulwark-verifier binary over HTTPS (SQLite, 127.0.0.1 port 0), attests with
// quotes that bind its report, the operator learns/approves reference values with
// bulwarkctl's HTTP client, a scheduler reads the node's verdict, and the EAR is
// verified against the JWKS — with our code and with Python's `cryptography`.
//
// The suite also regenerates tests/testdata/appraisal (real quotes for the unit tests
// of the pipeline) into a temp dir on every run, and checks each fixture parses;
// BULWARK_WRITE_APPRAISAL_FIXTURES=1 copies them into the source tree.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "attest/cel/bulwark_content.h"
#include "attest/core/digest.h"
#include "attest/ear/ear.h"
#include "attest/ear/jwk.h"
#include "attest/ima/ima_log.h"
#include "attest/quote/qualifying_data.h"
#include "attest/tpm/esys_tpm.h"
#include "bulwark/v1/enrollment.pb.h"
#include "server/appraisal/evidence.h"
#include "server/ctl/http_client.h"
#include "tests/support/swtpm.h"

namespace bulwark {
namespace {

using attest::BatchEntry;
using nlohmann::json;
namespace fs = std::filesystem;

std::string str(ByteView b) { return std::string(b.begin(), b.end()); }
Bytes bytesOf(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes hashOf(std::string_view s) { return sha256(asBytes(s)); }

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- the agent side, as far as the tests need it ------------------------------
class TestAgent {
 public:
  static Result<std::unique_ptr<TestAgent>> start() {
    auto tpm = testing::Swtpm::start();
    if (!tpm) return std::unexpected(tpm.error());
    std::unique_ptr<TestAgent> a(new TestAgent());
    a->swtpm_ = std::move(*tpm);
    if (auto r = a->connect(); !r) return std::unexpected(r.error());
    auto ek = a->tpm_->createEk(attest::EkType::kRsa2048);
    if (!ek) return std::unexpected(ek.error());
    a->ek_ = std::move(*ek);
    auto ak = a->tpm_->createAk(a->ek_, attest::AkType::kRsa2048);
    if (!ak) return std::unexpected(ak.error());
    a->ak_blob_ = ak->blob;
    a->ak_ = std::move(ak->key);
    auto cert = a->tpm_->readEkCertificate(attest::EkType::kRsa2048);
    if (!cert) return std::unexpected(cert.error());
    a->ek_cert_ = std::move(*cert);
    return a;
  }

  // Extends PCR 15 with one Bulwark batch record in every bank and logs it. With
  // `logged_content`, the log carries that content instead (a record that lies).
  Result<void> measure(const std::vector<BatchEntry>& batch,
                       std::optional<json> logged_content = {}) {
    json content = attest::makeBatchContent(batch);
    std::vector<HashAlg> banks = {HashAlg::kSha1, HashAlg::kSha256};
    auto digests = attest::bulwarkDigests(content, banks);
    if (!digests) return std::unexpected(digests.error());
    std::vector<attest::TaggedDigest> tagged;
    for (const auto& d : *digests) tagged.push_back({d.alg, d.value});
    if (auto r = tpm_->extendPcr(15, tagged); !r) return r;
    auto canon = attest::canonicalContent(logged_content.value_or(content));
    if (!canon) return std::unexpected(canon.error());
    cel_ += attest::formatCelRecord(15, *digests, attest::kBulwarkContentType, *canon);
    for (const auto& e : batch) measured_.push_back(e);
    return {};
  }

  // Extends PCR 10 the way IMA does for each entry of `list` (ima_log.h extendValue).
  Result<void> imaMeasure(const std::string& list) {
    auto log = attest::ima::parseImaLog(list, {HashAlg::kSha1, HashAlg::kSha256});
    if (!log) return std::unexpected(log.error());
    for (const auto& e : log->entries) {
      std::vector<attest::TaggedDigest> d = {
          {HashAlg::kSha1, attest::ima::extendValue(e, HashAlg::kSha1)},
          {HashAlg::kSha256, attest::ima::extendValue(e, HashAlg::kSha256)}};
      if (auto r = tpm_->extendPcr(10, d); !r) return r;
    }
    ima_ = list;
    return {};
  }

  bulwark::v1::Report report(const std::string& node, ByteView nonce) const {
    bulwark::v1::Report r;
    r.set_schema_version(1);
    r.set_node(node);
    r.set_nonce(str(nonce));
    r.set_created_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
    r.mutable_host()->set_hostname(node);
    r.mutable_host()->set_agent_version("test");
    r.set_measurement_pcr(15);
    for (const auto& e : measured_) {
      auto* m = r.add_measurements();
      m->set_kind(e.kind);
      m->set_subject(e.subject);
      m->set_sha256(str(e.sha256));
    }
    auto* log = r.add_logs();
    log->set_format(bulwark::v1::EventLog::CEL_JSON);
    log->set_source("/run/bulwark/measure.log");
    log->set_content(cel_);
    if (!ima_.empty()) {
      auto* ima = r.add_logs();
      ima->set_format(bulwark::v1::EventLog::IMA_ASCII);
      ima->set_source("/sys/kernel/security/ima/ascii_runtime_measurements");
      ima->set_content(ima_);
    }
    return r;
  }

  // Evidence for `report` quoted over `selection` (qualifyingData binds the report).
  Result<std::string> evidence(const bulwark::v1::Report& report, const std::string& selection) {
    auto sel = attest::PcrSelection::parse(selection);
    if (!sel) return std::unexpected(sel.error());
    std::string bytes = report.SerializeAsString();
    Bytes qd = attest::qualifyingData(asBytes(report.nonce()), asBytes(bytes));
    auto q = tpm_->quote(ak_, *sel, qd);
    if (!q) return std::unexpected(q.error());
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

  // Simulated reboot: PCRs reset, resetCount + 1, logs start over.
  Result<void> reboot() {
    ak_.reset();
    ek_.reset();
    tpm_.reset();
    if (auto r = swtpm_->restart(); !r) return r;
    if (auto r = connect(); !r) return r;
    auto ek = tpm_->createEk(attest::EkType::kRsa2048);
    if (!ek) return std::unexpected(ek.error());
    ek_ = std::move(*ek);
    auto ak = tpm_->loadAk(ek_, ak_blob_);
    if (!ak) return std::unexpected(ak.error());
    ak_ = std::move(*ak);
    cel_.clear();
    ima_.clear();
    measured_.clear();
    return {};
  }

  void setMeasured(std::vector<BatchEntry> m) { measured_ = std::move(m); }
  void setCel(std::string cel) { cel_ = std::move(cel); }
  const std::string& cel() const { return cel_; }
  attest::Tpm& tpm() { return *tpm_; }
  const attest::TpmObject& ek() const { return ek_; }
  const attest::TpmObject& ak() const { return ak_; }
  const Bytes& ekCert() const { return ek_cert_; }
  const testing::Swtpm& swtpm() const { return *swtpm_; }

 private:
  TestAgent() = default;
  Result<void> connect() {
    auto tpm = attest::EsysTpm::open({swtpm_->tcti(), ""});
    if (!tpm) return std::unexpected(tpm.error());
    tpm_ = std::move(*tpm);
    return {};
  }
  std::unique_ptr<testing::Swtpm> swtpm_;
  std::unique_ptr<attest::EsysTpm> tpm_;
  attest::TpmObject ek_;
  attest::TpmObject ak_;
  Bytes ak_blob_;
  Bytes ek_cert_;
  std::string cel_;
  std::string ima_;
  std::vector<BatchEntry> measured_;
};

const std::vector<BatchEntry> kBatch1 = {
    {"runtime-binary", "/usr/bin/runc", hashOf("runc 1.1.12")},
    {"host-file", "/etc/os-release", hashOf("Debian 12")},
    {"image", "docker.io/library/alpine:3.19", hashOf("alpine image")}};
const std::vector<BatchEntry> kBatch2 = {
    {"runtime-binary", "/usr/bin/containerd", hashOf("containerd 1.7")}};

void addContainer(bulwark::v1::Report& r, const std::string& control, const std::string& severity) {
  auto* c = r.add_containers();
  c->set_id("4f1c2a9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f");
  c->set_name("web");
  c->set_image("alpine:3.19");
  c->set_image_digest("sha256:" + toHex(hashOf("alpine image")));
  c->set_runtime("runc");
  c->set_pid(4242);
  auto* f = c->add_findings();
  f->set_control(control);
  f->set_severity(severity);
  f->set_detail("found by the test agent");
  f->add_refs("CIS-Docker-1.6:5.25");
}

// ---- fixtures for tests/unit/appraisal --------------------------------------------
constexpr const char* kFixtureNode = "fixture-node";

struct FixtureWriter {
  TestAgent& agent;
  std::string dir;
  json manifest = json::object();

  Result<void> add(const std::string& name, bulwark::v1::Report report,
                   const std::string& selection) {
    auto nonce = agent.tpm().getRandom(32);
    if (!nonce) return std::unexpected(nonce.error());
    report.set_nonce(str(*nonce));
    auto ev = agent.evidence(report, selection);
    if (!ev) return std::unexpected(ev.error());
    std::ofstream(dir + "/" + name + ".pb", std::ios::binary) << *ev;
    manifest["fixtures"][name] = {{"nonce", toHex(*nonce)}, {"selection", selection}};
    return {};
  }
};

// Writes every fixture the unit tests use (tests/testdata/appraisal/README.md).
Result<void> writeFixtures(TestAgent& a, const std::string& dir) {
  FixtureWriter w{a, dir};
  const std::string node = kFixtureNode;
  w.manifest["node"] = node;
  w.manifest["ak_public"] = toHex(a.ak().tpm2bPublic());
  w.manifest["ek_public"] = toHex(a.ek().tpm2bPublic());
  w.manifest["ek_cert"] = toHex(a.ekCert());
  fs::copy_file(a.swtpm().rootCaPem(), dir + "/ek_root_ca.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(a.swtpm().issuerCaPem(), dir + "/ek_issuer_ca.pem",
                fs::copy_options::overwrite_existing);
  Bytes none(32, 0);
  if (auto r = a.measure(kBatch1); !r) return r;
  std::string cel1 = a.cel();
  auto good = a.report(node, none);
  addContainer(good, "no-new-privileges-unset", "medium");
  if (auto r = w.add("good", good, "sha256:15"); !r) return r;
  auto extra = good;
  auto* m = extra.add_measurements();
  m->set_kind("runtime-binary");
  m->set_subject("/usr/bin/dockerd");
  m->set_sha256(str(hashOf("dockerd, never extended")));
  if (auto r = w.add("not-in-log", extra, "sha256:15"); !r) return r;
  if (auto r = w.add("sha1-bank", good, "sha1:15"); !r) return r;
  auto critical = a.report(node, none);
  addContainer(critical, "privileged", "critical");
  if (auto r = w.add("critical-finding", critical, "sha256:15"); !r) return r;
  if (auto r = a.measure(kBatch2); !r) return r;
  auto good2 = a.report(node, none);
  addContainer(good2, "no-new-privileges-unset", "medium");
  if (auto r = w.add("good2", good2, "sha256:15"); !r) return r;
  auto incomplete = good2;
  incomplete.mutable_logs(0)->set_content(cel1);  // PCR 15 also holds batch 2
  if (auto r = w.add("log-incomplete", incomplete, "sha256:15"); !r) return r;
  std::vector<BatchEntry> b3 = {{"host-file", "/etc/containerd/config.toml", hashOf("config v2")}};
  std::vector<BatchEntry> b3_lie = {
      {"host-file", "/etc/containerd/config.toml", hashOf("config v1")}};
  if (auto r = a.measure(b3, attest::makeBatchContent(b3_lie)); !r) return r;
  if (auto r = w.add("record-invalid", a.report(node, none), "sha256:15"); !r) return r;
  if (auto r = a.reboot(); !r) return r;
  if (auto r = a.measure(kBatch1); !r) return r;
  auto rebooted = a.report(node, none);
  addContainer(rebooted, "no-new-privileges-unset", "medium");
  if (auto r = w.add("after-reboot", rebooted, "sha256:15"); !r) return r;
  std::string ima =
      readText(std::string(std::getenv("BULWARK_SOURCE_DIR")) +
               "/tests/testdata/ima/rust_keylime_agent_826/ascii_runtime_measurements");
  std::string head;
  std::istringstream lines(ima);
  for (std::string line; head.size() < 8000 && std::getline(lines, line);) head += line + "\n";
  if (auto r = a.imaMeasure(head); !r) return r;
  if (auto r = w.add("ima", a.report(node, none), "sha256:10,15"); !r) return r;
  w.manifest["generated_unix_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
  std::ofstream(dir + "/manifest.json") << w.manifest.dump(2) << "\n";
  return {};
}

// ---- the verifier binary ---------------------------------------------------------
constexpr const char* kAdminToken = "admin-token-for-the-pipeline-test";
constexpr const char* kSchedulerToken = "scheduler-token-for-the-pipeline-test";

std::string tokenHash(const std::string& t) { return toHex(sha256(asBytes(t))); }

class VerifierProcess {
 public:
  // TLS material with openssl(1); config with auto-approval and swtpm's EK CAs.
  static Result<std::unique_ptr<VerifierProcess>> start(const testing::Swtpm& swtpm) {
    std::unique_ptr<VerifierProcess> v(new VerifierProcess());
    std::string tmpl = (fs::temp_directory_path() / "bulwark-pipeline-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return fail(ErrorCode::kIo, "mkdtemp");
    v->dir_ = tmpl;
    auto pki = testing::runCommand(
        "set -e; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
        "ca.key "
        "-out ca.pem -subj /CN=pipeline-test-ca -days 2 2>/dev/null; "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out "
        "server.csr "
        "-subj /CN=127.0.0.1 2>/dev/null; printf 'subjectAltName=IP:127.0.0.1\n' > san.ext; "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
        "-days 2 "
        "-extfile san.ext 2>/dev/null",
        v->dir_);
    if (pki.exit_code != 0) return fail(ErrorCode::kIo, "openssl: " + pki.output);
    const std::string& d = v->dir_;
    std::ofstream(d + "/verifier.yaml")
        << "listen: {address: 127.0.0.1, port: 0}\n"
        << "tls: {cert: " << d << "/server.pem, key: " << d << "/server.key}\n"
        << "agent_ca: {cert: " << d << "/agent-ca.pem, key: " << d
        << "/agent-ca.key, validity: 1d}\n"
        << "tokens:\n"
        << "  - {name: admin, role: admin, sha256: " << tokenHash(kAdminToken) << "}\n"
        << "  - {name: sched, role: scheduler, sha256: " << tokenHash(kSchedulerToken) << "}\n"
        << "database: {sqlite: " << d << "/verifier.db}\n"
        << "verifier_key: " << d << "/ear.key\n"
        << "freshness_ttl: 10m\n"
        << "enrollment: {ek_ca: [" << swtpm.rootCaPem() << "], ek_intermediates: ["
        << swtpm.issuerCaPem() << "], auto_approve: true}\n"
        << "appraisal: {pcr_bank: sha256}\n";
    if (auto r = v->spawn(); !r) return std::unexpected(r.error());
    return v;
  }
  ~VerifierProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (std::getenv("BULWARK_KEEP_PIPELINE_TEST") == nullptr) fs::remove_all(dir_);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  std::string log() const { return readText(dir_ + "/verifier.log"); }

  std::unique_ptr<ctl::HttpClient> client(const std::string& token, const std::string& cert = {},
                                          const std::string& key = {}) const {
    auto c = ctl::HttpClient::create(
        {url(), dir_ + "/ca.pem", cert, key, token, std::chrono::seconds(30)});
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().toString());
    return c ? std::move(*c) : nullptr;
  }

 private:
  VerifierProcess() = default;
  Result<void> spawn() {
    std::string bin = std::string(std::getenv("BULWARK_BINARY_DIR")) + "/bin/bulwark-verifier";
    std::string config = dir_ + "/verifier.yaml";
    std::string logfile = dir_ + "/verifier.log";
    pid_ = ::fork();
    if (pid_ < 0) return fail(ErrorCode::kIo, "fork");
    if (pid_ == 0) {
      std::FILE* f = std::freopen(logfile.c_str(), "w", stderr);
      (void)f;
      ::execl(bin.c_str(), bin.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::regex port_re(R"re("msg":"listening".*"port":([0-9]+))re");
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::smatch m;
      std::string text = log();
      if (std::regex_search(text, m, port_re)) port_ = std::stoi(m[1]);
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return fail(ErrorCode::kUnavailable, "bulwark-verifier exited: " + text);
      }
    }
    if (port_ == 0)
      return fail(ErrorCode::kUnavailable, "bulwark-verifier did not listen: " + log());
    return {};
  }
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

template <typename M>
M parseAs(const ctl::HttpReply& r) {
  M m;
  EXPECT_TRUE(m.ParseFromString(r.body)) << "HTTP " << r.status << ": " << r.body;
  return m;
}

std::string errorCode(const ctl::HttpReply& r) {
  bulwark::v1::ErrorBody e;
  if (r.content_type == "application/x-protobuf" && e.ParseFromString(r.body)) return e.error();
  json j = json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("error", std::string()) : r.body;
}

constexpr const char* kProto = "application/x-protobuf";

class VerifierPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    auto agent = TestAgent::start();
    ASSERT_TRUE(agent.has_value()) << agent.error().toString();
    agent_ = std::move(*agent);
    auto v = VerifierProcess::start(agent_->swtpm());
    ASSERT_TRUE(v.has_value()) << v.error().toString();
    verifier_ = std::move(*v);
  }

  // Enrolls `node` over HTTPS: returns the EnrollResult; writes the client key/cert.
  bulwark::v1::EnrollResult enroll(const std::string& node) {
    const std::string& d = verifier_->dir();
    auto csr = testing::runCommand(
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout agent.key "
        "-outform DER -out agent.csr -subj /CN=whatever 2>&1",
        d);
    EXPECT_EQ(csr.exit_code, 0) << csr.output;
    bulwark::v1::EnrollRequest req;
    req.set_node(node);
    req.set_ek_certificate(str(agent_->ekCert()));
    req.set_ek_public(str(agent_->ek().tpm2bPublic()));
    req.set_ak_public(str(agent_->ak().tpm2bPublic()));
    req.set_csr(readText(d + "/agent.csr"));
    auto anon = verifier_->client("");
    auto r1 = anon->request("POST", "/v1/enroll", req.SerializeAsString(), kProto, kProto);
    EXPECT_TRUE(r1 && r1->status == 200) << (r1 ? r1->body : r1.error().toString());
    if (!r1 || r1->status != 200) return {};
    auto challenge = parseAs<bulwark::v1::EnrollChallenge>(*r1);
    auto secret = agent_->tpm().activateCredential(agent_->ak(), agent_->ek(),
                                                   asBytes(challenge.credential_blob()),
                                                   asBytes(challenge.encrypted_secret()));
    EXPECT_TRUE(secret.has_value()) << secret.error().toString();
    bulwark::v1::ActivateRequest act;
    act.set_enrollment_id(challenge.enrollment_id());
    act.set_secret(str(secret.value_or(Bytes{})));
    auto r2 = anon->request("POST", "/v1/enroll/activate", act.SerializeAsString(), kProto, kProto);
    EXPECT_TRUE(r2 && r2->status == 200) << (r2 ? r2->body : r2.error().toString());
    if (!r2 || r2->status != 200) return {};
    auto result = parseAs<bulwark::v1::EnrollResult>(*r2);
    std::string der = d + "/agent.der";
    std::ofstream(der, std::ios::binary) << result.client_certificate();
    auto pem = testing::runCommand("openssl x509 -inform DER -in agent.der -out agent.pem 2>&1", d);
    EXPECT_EQ(pem.exit_code, 0) << pem.output;
    return result;
  }

  std::unique_ptr<ctl::HttpClient> agentClient() {
    const std::string& d = verifier_->dir();
    return verifier_->client("", d + "/agent.pem", d + "/agent.key");
  }

  std::unique_ptr<TestAgent> agent_;
  std::unique_ptr<VerifierProcess> verifier_;
};

TEST_F(VerifierPipeline, EnrollAttestLearnApproveAndVerifyTheEar) {
  const std::string node = "node-a";
  auto enrolled = enroll(node);
  ASSERT_EQ(enrolled.node(), node);
  EXPECT_EQ(enrolled.state(), "trusted-pending-attestation");
  EXPECT_EQ(enrolled.pcr_bank(), "sha256");
  ASSERT_EQ(enrolled.pcr_selection_size(), 1);
  EXPECT_EQ(enrolled.pcr_selection(0), 15u);
  EXPECT_EQ(enrolled.nonce().size(), 32u);
  ASSERT_EQ(enrolled.ca_chain_size(), 1);

  auto agent = agentClient();
  ASSERT_TRUE(agent);
  ASSERT_TRUE(agent_->measure(kBatch1).has_value());
  auto report = agent_->report(node, asBytes(enrolled.nonce()));
  addContainer(report, "no-new-privileges-unset", "medium");
  auto ev = agent_->evidence(report, "sha256:15");
  ASSERT_TRUE(ev.has_value()) << ev.error().toString();
  auto r = agent->request("POST", "/v1/attest", *ev, kProto, kProto);
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  ASSERT_EQ(r->status, 200) << errorCode(*r);
  auto first = parseAs<bulwark::v1::AttestResponse>(*r);
  // Nothing is approved yet: the binaries are unknown, the image not allowed.
  EXPECT_NE(first.result().status(), bulwark::v1::STATUS_AFFIRMING);
  std::set<std::string> codes;
  for (const auto& reason : first.result().reasons()) codes.insert(reason.code());
  EXPECT_TRUE(codes.count("measurement-unknown")) << first.result().DebugString();
  EXPECT_TRUE(codes.count("image-not-allowed")) << first.result().DebugString();
  EXPECT_EQ(first.next_nonce().size(), 32u);

  // The same evidence again: its nonce is spent.
  auto replay = agent->request("POST", "/v1/attest", *ev, kProto, kProto);
  ASSERT_TRUE(replay.has_value());
  EXPECT_EQ(replay->status, 409);
  EXPECT_EQ(errorCode(*replay), "nonce-replayed");

  // Operator: learn from this node, approve, allow the image; each change re-appraises.
  auto admin = verifier_->client(kAdminToken);
  auto learn = admin->request("POST", "/v1/policy/learn/" + node, "{}");
  ASSERT_TRUE(learn && learn->status == 200) << (learn ? learn->body : learn.error().toString());
  auto approve = admin->request("POST", "/v1/policy/approve", R"({"node":"node-a"})");
  ASSERT_TRUE(approve && approve->status == 200) << (approve ? approve->body : "");
  EXPECT_EQ(json::parse(approve->body)["changed"], 2);  // runc, os-release (images are rules)
  auto image = admin->request("POST", "/v1/policy/images",
                              R"({"kind":"allow_prefix","value":"docker.io/library/alpine"})");
  ASSERT_TRUE(image && image->status == 200) << (image ? image->body : "");
  EXPECT_EQ(json::parse(image->body)["reappraised"], 1);

  auto sched = verifier_->client(kSchedulerToken);
  auto view = sched->request("GET", "/v1/nodes/" + node);
  ASSERT_TRUE(view && view->status == 200);
  json nj = json::parse(view->body);
  EXPECT_EQ(nj["state"], "trusted") << nj.dump(2);
  EXPECT_EQ(nj["trust_vector"]["instance-identity"], 2);
  EXPECT_EQ(nj["findings"].size(), 1u) << nj.dump(2);

  // The same through bulwarkctl (token from the environment, never on the command line).
  std::string ctl = std::string(std::getenv("BULWARK_BINARY_DIR")) + "/bin/bulwarkctl --verifier " +
                    verifier_->url() + " --cacert " + verifier_->dir() + "/ca.pem ";
  auto shown = testing::runCommand("BULWARK_TOKEN=" + std::string(kSchedulerToken) + " " + ctl +
                                   "node " + node);
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("trusted"), std::string::npos) << shown.output;
  auto listed = testing::runCommand("BULWARK_TOKEN=" + std::string(kSchedulerToken) + " " + ctl +
                                    "nodes --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(json::parse(listed.output)["nodes"][0]["name"], node);
  auto denied = testing::runCommand("BULWARK_TOKEN=" + std::string(kSchedulerToken) + " " + ctl +
                                    "policy learn " + node);
  EXPECT_EQ(denied.exit_code, 2) << denied.output;
  EXPECT_NE(denied.output.find("HTTP 403"), std::string::npos) << denied.output;
  auto again = testing::runCommand("BULWARK_TOKEN=" + std::string(kAdminToken) + " " + ctl +
                                   "policy approve --node " + node + " --json");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(json::parse(again.output)["changed"], 0);  // nothing pending any more
  auto shown_policy =
      testing::runCommand("BULWARK_TOKEN=" + std::string(kAdminToken) + " " + ctl + "policy show");
  EXPECT_EQ(shown_policy.exit_code, 0) << shown_policy.output;
  EXPECT_NE(shown_policy.output.find("/usr/bin/runc"), std::string::npos) << shown_policy.output;

  // Next cycle with the piggybacked nonce: affirming straight away.
  auto ev2 = agent_->evidence(agent_->report(node, asBytes(first.next_nonce())), "sha256:15");
  ASSERT_TRUE(ev2.has_value());
  auto r2 = agent->request("POST", "/v1/attest", *ev2, kProto, kProto);
  ASSERT_TRUE(r2 && r2->status == 200);
  auto second = parseAs<bulwark::v1::AttestResponse>(*r2);
  EXPECT_EQ(second.result().status(), bulwark::v1::STATUS_AFFIRMING)
      << second.result().DebugString();

  // The EAR verifies with the published JWKS (our verifier, then Python's cryptography).
  auto jwks = verifier_->client("")->request("GET", "/v1/jwks");
  ASSERT_TRUE(jwks && jwks->status == 200);
  auto key = attest::publicKeyFromJwk(json::parse(jwks->body)["keys"][0]);
  ASSERT_TRUE(key.has_value());
  auto ear = sched->request("GET", "/v1/nodes/" + node + "/ear", "", "", "application/jwt");
  ASSERT_TRUE(ear && ear->status == 200);
  EXPECT_EQ(ear->content_type, "application/jwt");
  EXPECT_EQ(ear->body, second.result().ear());
  auto claims = attest::verifyEar(ear->body, key->get(), {std::time(nullptr), 60});
  ASSERT_TRUE(claims.has_value()) << claims.error().toString();
  ASSERT_TRUE(claims->submods.count(node));
  EXPECT_EQ(claims->submods.at(node).status, attest::Tier::kAffirming);
  EXPECT_EQ(claims->nonce, bytesOf(first.next_nonce()));
  std::ofstream(verifier_->dir() + "/ear.jwt") << ear->body;
  std::ofstream(verifier_->dir() + "/jwks.json") << jwks->body;
  std::ofstream(verifier_->dir() + "/check.py") << R"(import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
token = open(sys.argv[1]).read().strip()
jwk = json.load(open(sys.argv[2]))["keys"][0]
h, p, s = token.split(".")
assert json.loads(b64(h))["alg"] == "ES256"
key = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"), int.from_bytes(b64(jwk["y"]), "big"), ec.SECP256R1()).public_key()
sig = b64(s)
key.verify(utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")), (h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
print(json.loads(b64(p))["submods"]["node-a"]["ear.status"])
)";
  auto py = testing::runCommand("python3 check.py ear.jwt jwks.json", verifier_->dir());
  EXPECT_EQ(py.exit_code, 0) << py.output;
  EXPECT_NE(py.output.find("affirming"), std::string::npos) << py.output;
}

TEST_F(VerifierPipeline, AgentEndpointsRefuseWhatTheyMust) {
  const std::string node = "node-b";
  auto enrolled = enroll(node);
  ASSERT_EQ(enrolled.node(), node);
  auto agent = agentClient();
  // GET /v1/nonce answers protobuf to agents.
  auto nonce = agent->request("GET", "/v1/nonce", "", "", kProto);
  ASSERT_TRUE(nonce && nonce->status == 200);
  auto nr = parseAs<bulwark::v1::NonceResponse>(*nonce);
  EXPECT_EQ(nr.nonce().size(), 32u);
  EXPECT_EQ(nr.pcr_bank(), "sha256");
  // A report naming another node is refused before its nonce is touched.
  ASSERT_TRUE(agent_->measure(kBatch1).has_value());
  auto ev = agent_->evidence(agent_->report("someone-else", asBytes(nr.nonce())), "sha256:15");
  ASSERT_TRUE(ev.has_value());
  auto r = agent->request("POST", "/v1/attest", *ev, kProto, kProto);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(errorCode(*r), "node-mismatch");
  // Garbage: 400 evidence-malformed; JSON: 415.
  auto junk = agent->request("POST", "/v1/attest", std::string(4096, '\x07'), kProto, kProto);
  ASSERT_TRUE(junk.has_value());
  EXPECT_EQ(junk->status, 400);
  EXPECT_EQ(errorCode(*junk), "evidence-malformed");
  auto js = agent->request("POST", "/v1/attest", "{}", "application/json", "application/json");
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->status, 415);
  // The nonce is still good after all of that.
  auto good = agent_->evidence(agent_->report(node, asBytes(nr.nonce())), "sha256:15");
  ASSERT_TRUE(good.has_value());
  auto ok = agent->request("POST", "/v1/attest", *good, kProto, kProto);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200) << errorCode(*ok);
  // A scheduler token cannot attest; an agent certificate cannot read the fleet.
  auto sched = verifier_->client(kSchedulerToken);
  auto s1 = sched->request("POST", "/v1/attest", *good, kProto, kProto);
  ASSERT_TRUE(s1.has_value());
  EXPECT_EQ(s1->status, 403);
  auto a1 = agent->request("GET", "/v1/nodes");
  ASSERT_TRUE(a1.has_value());
  EXPECT_EQ(a1->status, 403);
}

TEST(AppraisalFixtures, RegenerateWithSwtpmAndCheckTheyParse) {
  auto agent = TestAgent::start();
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  std::string dir = (*agent)->swtpm().dir() + "/fixtures";
  fs::create_directories(dir);
  auto wrote = writeFixtures(**agent, dir);
  ASSERT_TRUE(wrote.has_value()) << wrote.error().toString();
  json manifest = json::parse(readText(dir + "/manifest.json"));
  ASSERT_EQ(manifest["fixtures"].size(), 9u);
  for (const auto& [name, info] : manifest["fixtures"].items()) {
    auto ev = server::parseEvidence(bytesOf(readText(dir + "/" + name + ".pb")));
    ASSERT_TRUE(ev.has_value()) << name << ": " << ev.error().toString();
    EXPECT_EQ(toHex(asBytes(ev->report.nonce())), info["nonce"].get<std::string>()) << name;
  }
  if (std::getenv("BULWARK_WRITE_APPRAISAL_FIXTURES") != nullptr) {
    std::string out = std::string(std::getenv("BULWARK_SOURCE_DIR")) + "/tests/testdata/appraisal";
    fs::create_directories(out);
    for (const auto& e : fs::directory_iterator(dir)) {
      fs::copy_file(e.path(), out + "/" + e.path().filename().string(),
                    fs::copy_options::overwrite_existing);
    }
  }
}

}  // namespace
}  // namespace bulwark
