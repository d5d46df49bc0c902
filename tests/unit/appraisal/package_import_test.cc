// End to end through the real route table: runc's Debian package imported as
// reference values (what `bulwarkctl policy import-package` posts) makes a node that
// measures the installed runc affirming; a second version is valid at the same time;
// revoking one version (`policy revoke --package --version`) re-appraises the node.
// Also PUT /v1/nodes/{name}/group: the isolation profile changes and the node is
// re-appraised under it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/api/routes.h"
#include "server/appraisal/package.h"
#include "server/http/verifier_routes.h"
#include "server/verifier/soft_agent.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Admin {
  Env& env;
  Router router{Authenticator(access())};

  explicit Admin(Env& e) : env(e) {
    auto ok = addVerifierRoutes(
        router, {[] { return true; }, std::make_shared<Metrics>(), json{{"keys", json::array()}},
                 makeApiHandlers(
                     {env.store.get(), env.appraiser.get(), nullptr, [this] { return env.now; }})});
    EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error().toString());
  }
  static AccessConfig access() {
    AccessConfig a;
    a.tokens = {{"root", Role::kAdmin, sha256(asBytes(std::string_view("tok-admin")))}};
    return a;
  }
  json call(const std::string& method, const std::string& target, const json& body,
            int want = 200) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body.is_null() ? "" : body.dump();
    req.headers = {{"authorization", "Bearer tok-admin"}, {"content-type", "application/json"}};
    HttpResponse r = router.handle(req).response;
    EXPECT_EQ(r.status, want) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  // What bulwarkctl policy import-package posts for one package.
  json import(const PackageContents& p) {
    json values = json::array();
    for (const PackageFile& f : p.files) {
      values.push_back({{"kind", kPackageFileKind},
                        {"subject", f.path},
                        {"sha256", toHex(f.sha256)},
                        {"source", packageSource(p.name, p.version)}});
    }
    return call("POST", "/v1/policy/reference-values", {{"values", values}});
  }
  std::string state() { return call("GET", "/v1/nodes/" + env.who().node, nullptr)["state"]; }
};

// runc's .deb as apt fetched it (deps.sh installs runc); else one repackaged from the
// installed files with dpkg-deb (same binary, same digests), said out loud.
Bytes runcDeb(const TempDir& dir) {
  for (const auto& e : fs::directory_iterator("/var/cache/apt/archives")) {
    std::string name = e.path().filename().string();
    if (name.starts_with("runc_") && name.ends_with(".deb")) {
      auto b = readFile(e.path().string());
      if (b) return *b;
    }
  }
  std::fprintf(stderr,
               "NOTE: no runc .deb in /var/cache/apt/archives; repackaging /usr/sbin/runc\n");
  fs::path root = fs::path(dir.path()) / "runc";
  fs::create_directories(root / "DEBIAN");
  fs::create_directories(root / "usr/sbin");
  fs::copy_file("/usr/sbin/runc", root / "usr/sbin/runc");
  std::ofstream(root / "DEBIAN/control")
      << "Package: runc\nVersion: 0-local\nArchitecture: amd64\nMaintainer: t <t@e>\n"
         "Description: repackaged\n";
  std::string out = dir.path() + "/runc.deb";
  EXPECT_EQ(std::system(
                ("dpkg-deb --root-owner-group --build " + root.string() + " " + out + " >/dev/null")
                    .c_str()),
            0);
  return readFile(out).value_or(Bytes{});
}

struct Node {
  SoftAgent agent;
  std::unique_ptr<Env> env;
};

Node softNode() {
  auto a = SoftAgent::create(Fixtures::get().node);
  EXPECT_TRUE(a.has_value()) << (a ? "" : a.error().toString());
  Node n{std::move(*a), nullptr};
  n.env = std::make_unique<Env>(pipelineOptions(), &n.agent.akPublic());
  return n;
}

// One attestation with a nonce the store issued; returns the stored status.
AppraisalStatus attest(Node& n, std::uint8_t nonce_byte) {
  Bytes nonce(32, nonce_byte);
  n.env->issue(nonce, n.agent.node());
  auto ev = n.agent.evidence(nonce, n.env->now);
  EXPECT_TRUE(ev.has_value());
  auto out = n.env->appraiser->attest(n.env->who(), asBytes(*ev));
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().detail);
  return out ? out->record.status : AppraisalStatus::kNone;
}

TEST(PackageImport, RuncDebMakesTheNodeAffirmingAndRevocationUndoesIt) {
  TempDir dir;
  auto pkg = readPackage(runcDeb(dir));
  ASSERT_TRUE(pkg.has_value()) << pkg.error().toString();
  ASSERT_EQ(pkg->name, "runc");
  const PackageFile* bin = nullptr;
  for (const auto& f : pkg->files) bin = f.path == "/usr/sbin/runc" ? &f : bin;
  ASSERT_NE(bin, nullptr) << "runc package without /usr/sbin/runc";
  // The digest the agent would measure: the installed file, hashed independently.
  auto installed = readFile("/usr/sbin/runc");
  ASSERT_TRUE(installed.has_value());
  ASSERT_EQ(toHex(bin->sha256), toHex(sha256(*installed)))
      << "installed runc differs from its .deb";

  Node n = softNode();
  Admin admin(*n.env);
  attest::BatchEntry runc{"runtime-binary", "/usr/sbin/runc", sha256(*installed)};
  ASSERT_TRUE(n.agent.measure(std::span(&runc, 1)).has_value());
  EXPECT_EQ(attest(n, 1), AppraisalStatus::kWarning);  // measurement-unknown
  EXPECT_EQ(admin.state(), "untrusted");

  n.env->now += 1000;
  json imported = admin.import(*pkg);
  EXPECT_EQ(imported["changed"], pkg->files.size());
  EXPECT_EQ(imported["reappraised"], 1);
  EXPECT_EQ(admin.state(), "trusted");

  // A second version of the package is valid at the same time.
  PackageContents next = *pkg;
  next.version = "9.9.9-1";
  next.files = {{"/usr/sbin/runc", sha256(asBytes(std::string_view("runc 9.9.9"))), 10}};
  EXPECT_EQ(admin.import(next)["changed"], 1);
  EXPECT_EQ(admin.state(), "trusted");

  // Revoking the installed version re-appraises: contraindicated (revoked digest).
  n.env->now += 1000;
  json revoked =
      admin.call("POST", "/v1/policy/revoke", {{"package", pkg->name}, {"version", pkg->version}});
  EXPECT_EQ(revoked["changed"], pkg->files.size());
  EXPECT_EQ(revoked["reappraised"], 1);
  json node = admin.call("GET", "/v1/nodes/" + n.env->who().node, nullptr);
  EXPECT_EQ(node["state"], "untrusted");
  ASSERT_FALSE(node["reasons"].empty());
  EXPECT_EQ(node["reasons"][0]["code"], "measurement-revoked") << node.dump(1);
  admin.call("POST", "/v1/policy/revoke", {{"package", "runc"}}, 400);  // version required
  admin.call("POST", "/v1/policy/revoke", {{"package", "a b"}, {"version", "1"}}, 400);
}

TEST(NodeGroup, ChangingTheGroupReappraisesUnderItsIsolationProfile) {
  AppraiserOptions opts = pipelineOptions();
  opts.profiles["lab"] = IsolationProfile{"lab", {"privileged"}, "critical"};
  Env env(opts);
  Admin admin(env);
  env.approveFrom("critical-finding");
  env.allowImages();
  const Fixtures& f = Fixtures::get();
  env.issue(f.nonce("critical-finding"), f.node);
  auto out = env.appraiser->attest(env.who(), f.evidence("critical-finding"));
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_EQ(admin.state(), "untrusted");  // isolation-violation under "default"

  env.now += 1000;
  admin.call("PUT", "/v1/nodes/" + f.node + "/group", {{"group", "nope"}}, 400);
  admin.call("PUT", "/v1/nodes/" + f.node + "/group", {{"group", 7}}, 400);
  admin.call("PUT", "/v1/nodes/ghost/group", {{"group", "lab"}}, 404);
  json j = admin.call("PUT", "/v1/nodes/" + f.node + "/group", {{"group", "lab"}});
  EXPECT_EQ(j["group"], "lab");
  EXPECT_EQ(j["reappraised"], true);
  EXPECT_EQ(j["state"], "trusted") << j.dump(1);
  // Back to the default profile: violation again.
  j = admin.call("PUT", "/v1/nodes/" + f.node + "/group", {{"group", ""}});
  EXPECT_EQ(j["state"], "untrusted");
}

}  // namespace
}  // namespace bulwark::server::test
