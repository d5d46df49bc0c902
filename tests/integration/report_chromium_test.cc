// Compliance report pages served by the real bulwark-verifier, rendered by headless
// Debian chromium (--dump-dom, --screenshot, --print-to-pdf); content is asserted on the
// DOM chromium built, not on our own markup. Then the auditor path end to end:
// bulwarkctl report export (HTTPS, auditor token) and bulwarkctl report verify (offline,
// JWKS from the verifier), including a modified bundle and a wrong JWKS.
//
// The verifier's SQLite store is filled before it starts: four enrolled nodes (trusted,
// stale, untrusted with container violations, enrolling) with appraisals whose EARs are
// signed with the verifier's own key file, one with the swtpm-made evidence fixture
// tests/testdata/appraisal/good.pb, and agent strings holding hostile markup.
// Artifacts (pages, DOM dumps, screenshots, PDF, bundles) stay under
// $BULWARK_BINARY_DIR/test-artifacts/report_chromium/.
#include <gtest/gtest.h>

#include <csignal>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <utility>

#include "attest/core/digest.h"
#include "attest/ear/ear.h"
#include "attest/ear/jwk.h"
#include "attest/ear/verifier_key.h"
#include "server/ctl/http_client.h"
#include "server/store/sqlite_store.h"
#include "tests/support/fleet.h"  // readText, spawnLogged, stopProcess, runCommand

namespace bulwark::server {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view kAuditToken = "report-auditor-token-7d3a";
constexpr std::string_view kEvil =
    "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>";

using Command = bulwark::testing::CommandResult;
using bulwark::testing::readText;

Command run(const std::string& cmd) { return bulwark::testing::runCommand(cmd); }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Millis wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::size_t count(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// Fills a verifier database as the pipeline would have: enrollments, then appraisals
// with EARs signed by the verifier key.
class Seeder {
 public:
  Seeder(SqliteStore& store, EVP_PKEY* key) : store_(store), key_(key) {
    manifest_ =
        json::parse(readText(env("BULWARK_SOURCE_DIR") + "/tests/testdata/appraisal/manifest.json"),
                    nullptr, false);
  }

  void enroll(const std::string& node, const std::string& group, bool approve, Millis now) {
    ASSERT_TRUE(manifest_.is_object()) << "appraisal fixtures missing";
    Bytes ak = *fromHex(manifest_["ak_public"].get<std::string>());
    auto parsed = attest::parseTpm2bPublic(ak);
    ASSERT_TRUE(parsed.has_value());
    PendingEnrollment p;
    p.id = "enroll-" + node;
    p.node = node;
    p.group = group;
    p.ek_cert = *fromHex(manifest_["ek_cert"].get<std::string>());
    p.ek_public = *fromHex(manifest_["ek_public"].get<std::string>());
    p.ak_public = ak;
    p.ak_name = attest::objectName(*parsed);
    p.secret_hash = sha256(asBytes(std::string_view("secret")));
    p.created_at = now - 10;
    p.expires_at = now + 60000;
    ASSERT_TRUE(store_.createPendingEnrollment(p).has_value());
    ASSERT_TRUE(store_.completeEnrollment(p.id, {"", approve, now - 5}).has_value());
  }

  void appraise(const std::string& node, Millis at, Millis fresh_until, AppraisalStatus status,
                const json& vector, const json& reasons, const Bytes& evidence = {}) {
    AppraisalRecord a;
    a.node = node;
    a.appraised_at = at;
    a.fresh_until = fresh_until;
    a.status = status;
    a.reasons_json = reasons.dump();
    a.trust_vector_json = vector.dump();
    a.evidence_digest =
        sha256(evidence.empty() ? asBytes(std::string_view(node)) : ByteView(evidence));
    a.policy_version = 4;
    a.reset_count = 7;
    a.restart_count = 0;
    attest::Ear ear;
    ear.iat = at / 1000;
    ear.exp = fresh_until / 1000;
    ear.verifier_id = {"https://github.com/bulwark", "bulwark-verifier 0.1.0"};
    attest::Appraisal ap;
    ap.status = *attest::tierFromName(appraisalStatusName(status));
    ap.vector = *attest::TrustVector::fromJson(vector);
    ap.policy_id = "bulwark:policy:v4";
    ear.submods[node] = ap;
    auto token = attest::signEar(ear, key_);
    ASSERT_TRUE(token.has_value()) << token.error().toString();
    a.ear = *token;
    std::optional<ByteView> ev;
    if (!evidence.empty()) ev = ByteView(evidence);
    auto r = store_.recordAppraisal(a, ev);
    ASSERT_TRUE(r.has_value()) << r.error().toString();
  }

 private:
  SqliteStore& store_;
  EVP_PKEY* key_;
  json manifest_;
};

const json kAffirm = {{"instance-identity", 2}, {"hardware", 2},      {"executables", 2},
                      {"file-system", 2},       {"configuration", 2}, {"sourced-data", 2}};
const json kBadRuntime = {{"instance-identity", 2}, {"hardware", 2},      {"executables", 96},
                          {"file-system", 2},       {"configuration", 2}, {"sourced-data", 2}};
const json kBadIsolation = {{"instance-identity", 2}, {"hardware", 2},       {"executables", 2},
                            {"file-system", 2},       {"configuration", 96}, {"sourced-data", 2}};

void seed(SqliteStore& store, EVP_PKEY* key, Millis now) {
  Seeder s(store, key);
  constexpr Millis kMin = 60000;
  s.enroll("web-01", "web", true, now - 60 * kMin);
  s.enroll("web-02", "web", true, now - 60 * kMin);
  s.enroll("gpu-03", "gpu", true, now - 60 * kMin);
  s.enroll("new-04", "", false, now - 60 * kMin);
  std::string pb = readText(env("BULWARK_SOURCE_DIR") + "/tests/testdata/appraisal/good.pb");
  ASSERT_FALSE(pb.empty());
  Bytes good(pb.begin(), pb.end());
  json accepted = json::array({{{"kind", "finding"},
                                {"code", "rootfs-writable"},
                                {"detail", "root file system is read-write"},
                                {"container", "web"},
                                {"control", "rootfs-writable"},
                                {"severity", "medium"}}});
  json runtime = json::array({{{"kind", "failure"},
                               {"code", "measurement-unknown"},
                               {"claim", "executables"},
                               {"detail", "/usr/bin/runc sha256 00ff.. not in reference values"}}});
  s.appraise("web-01", now - 40 * kMin, now - 30 * kMin, AppraisalStatus::kAffirming, kAffirm,
             accepted);
  s.appraise("web-01", now - 30 * kMin, now - 20 * kMin, AppraisalStatus::kContraindicated,
             kBadRuntime, runtime);
  s.appraise("web-01", now - 20 * kMin, now - 10 * kMin, AppraisalStatus::kAffirming, kAffirm,
             accepted);
  s.appraise("web-01", now - 1 * kMin, now + 60 * kMin, AppraisalStatus::kAffirming, kAffirm,
             accepted, good);
  s.appraise("web-02", now - 120 * kMin, now - 110 * kMin, AppraisalStatus::kAffirming, kAffirm,
             json::array());
  json violations = json::array(
      {{{"kind", "failure"},
        {"code", "isolation-violation"},
        {"claim", "configuration"},
        {"detail", "privileged: all capabilities, seccomp unconfined " + std::string(kEvil)},
        {"container", std::string(kEvil)},
        {"control", "privileged"},
        {"severity", "critical"}},
       {{"kind", "failure"},
        {"code", "isolation-violation"},
        {"claim", "configuration"},
        {"detail", "CAP_SYS_ADMIN in CapEff"},
        {"container", "trainer"},
        {"control", "capability:CAP_SYS_ADMIN"},
        {"severity", "critical"}}});
  s.appraise("gpu-03", now - 5 * kMin, now + 60 * kMin, AppraisalStatus::kContraindicated,
             kBadIsolation, violations, good);
}

class ReportChromium : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env("BULWARK_BINARY_DIR").empty())
        << "BULWARK_BINARY_DIR not set (run through ctest)";
    ASSERT_EQ(run("command -v chromium").exit_code, 0)
        << "chromium is not installed: run scripts/deps.sh (Debian package chromium)";
    dir_ = fs::temp_directory_path() / ("bulwark-report-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    artifacts_ = fs::path(env("BULWARK_BINARY_DIR")) / "test-artifacts" / "report_chromium";
    static bool fresh = false;  // artifacts of every test of this run are kept together
    if (!std::exchange(fresh, true)) fs::remove_all(artifacts_);
    fs::create_directories(artifacts_);
    makePki();
    auto key = attest::loadOrCreateVerifierKey(path("ear-key.pem"));
    ASSERT_TRUE(key.has_value()) << key.error().toString();
    {
      auto store = SqliteStore::open(path("verifier.db"));
      ASSERT_TRUE(store.has_value()) << store.error().toString();
      seed(**store, key->key.get(), wallMs());
    }
    startVerifier();
  }

  void TearDown() override {
    bulwark::testing::stopProcess(pid_, SIGTERM, 20s);
    fs::remove_all(dir_);
  }

  std::string path(std::string_view name) const { return (dir_ / name).string(); }

  void makePki() {
    std::ofstream(path("server.ext"))
        << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
           "basicConstraints=critical,CA:FALSE\n";
    std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    for (const std::string& cmd :
         {"openssl req -x509" + ec + "-keyout " + path("ca.key") + " -out " + path("ca.pem") +
              " -days 2 -subj /CN=report-test-ca",
          "openssl req" + ec + "-keyout " + path("server.key") + " -out " + path("server.csr") +
              " -subj /CN=127.0.0.1",
          "openssl x509 -req -in " + path("server.csr") + " -CA " + path("ca.pem") + " -CAkey " +
              path("ca.key") + " -CAcreateserial -days 2 -out " + path("server.pem") +
              " -extfile " + path("server.ext")}) {
      Command c = run(cmd);
      ASSERT_EQ(c.exit_code, 0) << cmd << "\n" << c.output;
    }
  }

  void startVerifier() {
    std::string binary = env("BULWARK_BINARY_DIR") + "/bin/bulwark-verifier";
    ASSERT_TRUE(fs::exists(binary)) << binary << " missing: build target bulwark-verifier";
    std::ofstream(path("verifier.yaml"))
        << "listen: {address: 127.0.0.1, port: 0}\n"
        << "tls: {cert: " << path("server.pem") << ", key: " << path("server.key") << "}\n"
        << "tokens: [{name: audit, role: auditor, sha256: " << toHex(sha256(asBytes(kAuditToken)))
        << "}]\n"
        << "database: {sqlite: " << path("verifier.db") << "}\n"
        << "verifier_key: " << path("ear-key.pem") << "\n";
    std::string log = path("verifier.log");
    pid_ = bulwark::testing::spawnLogged({binary, "--config", path("verifier.yaml")}, {}, log);
    ASSERT_GT(pid_, 0) << "cannot start " << binary;
    std::regex port_re(R"re("msg":"listening".*"port":([0-9]+))re");
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      std::this_thread::sleep_for(100ms);
      std::string text = readText(log);
      std::smatch m;
      if (std::regex_search(text, m, port_re)) port_ = std::stoi(m[1]);
    }
    ASSERT_NE(port_, 0) << "verifier did not start: " << readText(log);
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  // GET with the auditor token; the body, or "" with a test failure.
  std::string fetch(const std::string& target) {
    auto client = ctl::HttpClient::create(
        {url(), path("ca.pem"), "", "", std::string(kAuditToken), std::chrono::seconds(30)});
    EXPECT_TRUE(client.has_value());
    if (!client) return "";
    auto reply = (*client)->request("GET", target, "", "application/json", "*/*");
    EXPECT_TRUE(reply.has_value()) << target;
    if (!reply) return "";
    EXPECT_EQ(reply->status, 200) << target << ": " << reply->body;
    return reply->body;
  }

  // Serves `target` to a file and lets chromium render it; returns the DOM it built.
  std::string renderDom(const std::string& target, const std::string& name) {
    fs::path html = artifacts_ / (name + ".html");
    std::ofstream(html) << fetch(target);
    Command dom = run(chromium("--dump-dom file://" + html.string()));
    EXPECT_EQ(dom.exit_code, 0) << dom.output;
    std::ofstream(artifacts_ / (name + ".dom.html")) << dom.output;
    fs::path png = artifacts_ / (name + ".png");
    Command shot = run(chromium("--window-size=1280,4800 --screenshot=" + png.string() +
                                " file://" + html.string()));
    EXPECT_EQ(shot.exit_code, 0) << shot.output;
    std::string bytes = readText(png);
    EXPECT_GT(bytes.size(), 10000u) << png;
    EXPECT_EQ(bytes.substr(0, 4), "\x89PNG") << png;
    std::printf("[ artifact ] %s\n[ artifact ] %s\n", html.c_str(), png.c_str());
    return dom.output;
  }

  std::string chromium(const std::string& args) const {
    return "(timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --no-first-run "
           "--user-data-dir=" +
           path("chromium-profile") + " " + args + " 2>/dev/null)";
  }

  std::string ctl(const std::string& args) const {
    return "BULWARK_TOKEN=" + std::string(kAuditToken) + " " + env("BULWARK_BINARY_DIR") +
           "/bin/bulwarkctl --verifier " + url() + " --cacert " + path("ca.pem") + " " + args;
  }

  fs::path dir_;
  fs::path artifacts_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(ReportChromium, FleetPageInChromium) {
  std::string dom = renderDom("/reports", "fleet");
  for (const char* node : {"web-01", "web-02", "gpu-03", "new-04"}) {
    EXPECT_NE(dom.find(std::string("<b class=\"nw\">") + node + "</b>"), std::string::npos) << node;
    EXPECT_NE(dom.find(std::string("href=\"/reports/nodes/") + node + "\""), std::string::npos);
  }
  // One badge per state in the counts, then the per-node badges.
  EXPECT_NE(dom.find("<span class=\"badge trusted\">trusted</span> 1"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<span class=\"badge stale\">stale</span> 1"), std::string::npos);
  EXPECT_NE(dom.find("<span class=\"badge untrusted\">untrusted</span> 1"), std::string::npos);
  EXPECT_NE(dom.find("<span class=\"badge enrolling\">enrolling</span> 1"), std::string::npos);
  EXPECT_EQ(dom.find("<script"), std::string::npos);
}

TEST_F(ReportChromium, NodePagesInChromium) {
  std::string web = renderDom("/reports/nodes/web-01", "node-web-01");
  EXPECT_NE(web.find("Node web-01 <span class=\"badge trusted\">trusted</span>"),
            std::string::npos);
  EXPECT_NE(web.find("Trust timeline"), std::string::npos);
  // Four appraisals: four dots in the timeline SVG chromium parsed, one contraindicated.
  std::size_t svg = web.find("<svg");
  ASSERT_NE(svg, std::string::npos);
  std::string timeline = web.substr(svg, web.find("</svg>", svg) - svg);
  EXPECT_EQ(count(timeline, "<circle"), 4u) << timeline;
  EXPECT_EQ(count(timeline, "fill=\"#cf222e\"></circle>"), 1u);
  EXPECT_NE(web.find("NIST SP 800-190 4.4.3<br>CIS Docker 5.15"), std::string::npos);
  // Evidence summary of the swtpm-made fixture evidence: host facts, measurements, PCR bank.
  EXPECT_NE(web.find("fixture-node"), std::string::npos) << "evidence summary lacks host facts";
  EXPECT_NE(web.find("(host-file 1; image 1; runtime-binary 1) into PCR 15"), std::string::npos);
  EXPECT_NE(web.find("sha256: PCR [15]"), std::string::npos);
  EXPECT_NE(web.find("Containers inspected"), std::string::npos);

  std::string gpu = renderDom("/reports/nodes/gpu-03", "node-gpu-03");
  EXPECT_NE(gpu.find("<span class=\"badge untrusted\">untrusted</span>"), std::string::npos);
  // The hostile container name is text in the DOM: no script or img element was created.
  EXPECT_EQ(gpu.find("<script"), std::string::npos);
  EXPECT_EQ(gpu.find("<img"), std::string::npos);
  EXPECT_NE(gpu.find("&lt;script&gt;alert(document.cookie)&lt;/script&gt;"), std::string::npos);
  // Control rows: privileged fails with its CIS/NIST references, capability too.
  std::size_t priv = gpu.find("<b>privileged</b>");
  ASSERT_NE(priv, std::string::npos);
  std::size_t row = gpu.rfind("<tr>", priv);
  std::string privileged_row = gpu.substr(row, gpu.find("</tr>", priv) - row);
  EXPECT_NE(privileged_row.find("badge fail"), std::string::npos) << privileged_row;
  EXPECT_NE(privileged_row.find("CIS Docker 5.4"), std::string::npos) << privileged_row;
  // Printable: chromium prints the page to PDF with the print stylesheet.
  fs::path pdf = artifacts_ / "node-gpu-03.pdf";
  Command print = run(chromium("--no-pdf-header-footer --print-to-pdf=" + pdf.string() +
                               " file://" + (artifacts_ / "node-gpu-03.html").string()));
  EXPECT_EQ(print.exit_code, 0) << print.output;
  EXPECT_EQ(readText(pdf).substr(0, 5), "%PDF-") << pdf;
  std::printf("[ artifact ] %s\n", pdf.c_str());
}

TEST_F(ReportChromium, BulwarkctlExportAndOfflineVerify) {
  std::string jwks = (artifacts_ / "jwks.json").string();
  std::ofstream(jwks) << fetch("/v1/jwks");
  for (const std::string& what : {std::string("web-01"), std::string("--fleet")}) {
    std::string file =
        (artifacts_ /
         ("bundle" + (what == "--fleet" ? std::string("-fleet") : "-" + what) + ".json"))
            .string();
    Command exp = run(ctl("report export " + what + " -o " + file));
    ASSERT_EQ(exp.exit_code, 0) << exp.output;
    Command ok = run(ctl("report verify " + file + " --jwks " + jwks));
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_EQ(ok.output.rfind("OK bundle verified", 0), 0u) << ok.output;
    std::printf("[ artifact ] %s\n", file.c_str());
  }
  std::string file = (artifacts_ / "bundle-web-01.json").string();
  std::string bytes = readText(file);
  json doc = json::parse(bytes);
  EXPECT_EQ(doc["content"]["attestations"].size(), 4u);
  // One changed character in the report → rejected with a named reason (exit 1).
  std::string tampered = bytes;
  auto pos = tampered.find("\"state\":\"trusted\"");
  ASSERT_NE(pos, std::string::npos);
  tampered.replace(pos, 17, "\"state\":\"trustee\"");
  std::ofstream(path("tampered.json")) << tampered;
  Command bad = run(ctl("report verify " + path("tampered.json") + " --jwks " + jwks));
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("REJECTED bundle-signature-invalid"), std::string::npos) << bad.output;
  // A JWKS of another verifier: rejected; an unreadable JWKS: error (exit 2).
  auto other = attest::generateP256Key();
  ASSERT_TRUE(other.has_value());
  std::ofstream(path("other.jwks")) << attest::jwks({*attest::publicJwk(other->get())}).dump();
  Command foreign = run(ctl("report verify " + file + " --jwks " + path("other.jwks")));
  EXPECT_EQ(foreign.exit_code, 1) << foreign.output;
  EXPECT_NE(foreign.output.find("REJECTED bundle-key-unknown"), std::string::npos)
      << foreign.output;
  Command broken = run(ctl("report verify " + file + " --jwks " + path("missing.jwks")));
  EXPECT_EQ(broken.exit_code, 2) << broken.output;
  // Without the auditor token the verifier refuses the export.
  Command anon = run(env("BULWARK_BINARY_DIR") + "/bin/bulwarkctl --verifier " + url() +
                     " --cacert " + path("ca.pem") + " report export --fleet -o " + path("x.json"));
  EXPECT_EQ(anon.exit_code, 2) << anon.output;
  EXPECT_FALSE(fs::exists(path("x.json")));
}

}  // namespace
}  // namespace bulwark::server
