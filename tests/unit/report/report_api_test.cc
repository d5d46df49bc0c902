// The report routes through the real route table (roles included), a SQLite Store and
// the real appraisal pipeline fed with the swtpm-made evidence fixtures
// (tests/testdata/appraisal): pages, JSON, bundles that verify offline, hostile strings.
#include <gtest/gtest.h>

#include "attest/ear/jwk.h"
#include "server/api/routes.h"
#include "server/http/verifier_routes.h"
#include "server/report/bundle.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {
using nlohmann::json;

struct ReportApi {
  Env env;
  Router router{Authenticator(access())};

  explicit ReportApi(bool with_key = true) {
    ApiServices s{env.store.get(), env.appraiser.get(), nullptr, [this] { return env.now; },
                  with_key ? env.ear_key : nullptr};
    auto ok = addVerifierRoutes(
        router, {[] { return true; }, std::make_shared<Metrics>(), jwks(), makeApiHandlers(s)});
    EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error().toString());
  }
  static AccessConfig access() {
    AccessConfig a;
    a.tokens = {{"sched", Role::kScheduler, sha256(asBytes(std::string_view("tok-sched")))},
                {"audit", Role::kAuditor, sha256(asBytes(std::string_view("tok-audit")))}};
    return a;
  }
  json jwks() const { return attest::jwks({*attest::publicJwk(env.ear_key.get())}); }
  HttpResponse get(const std::string& target, const std::string& token = "tok-audit") {
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
    return router.handle(req).response;
  }
  void attest(const std::string& fixture) {
    const Fixtures& f = Fixtures::get();
    env.issue(f.nonce(fixture), f.node);
    auto r = env.appraiser->attest(env.who(), f.evidence(fixture));
    ASSERT_TRUE(r.has_value()) << r.error().detail;
  }
};

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(ReportApi, PagesJsonAndRoles) {
  ReportApi api;
  api.env.approveFrom("good");
  api.env.allowImages();
  api.attest("good");
  const std::string node = Fixtures::get().node;

  HttpResponse fleet = api.get("/reports");
  ASSERT_EQ(fleet.status, 200) << fleet.body;
  EXPECT_EQ(fleet.content_type, "text/html; charset=utf-8");
  EXPECT_NE(header(fleet, "content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(fleet.body.find("href=\"/reports/nodes/" + node + "\""), std::string::npos);
  EXPECT_EQ(fleet.body.find("<script"), std::string::npos);

  HttpResponse page = api.get("/reports/nodes/" + node);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Trust timeline"), std::string::npos);
  EXPECT_NE(page.body.find("<svg"), std::string::npos);

  HttpResponse js = api.get("/v1/reports/nodes/" + node);
  ASSERT_EQ(js.status, 200) << js.body;
  json r = json::parse(js.body);
  EXPECT_EQ(r["node"]["state"], "trusted");
  EXPECT_EQ(r["verdict"]["status"], "affirming");
  EXPECT_GT(r["evidence"]["measurements"].get<int>(), 0);
  EXPECT_EQ(r["evidence"]["pcr_banks"][0]["hash_alg"], "sha256");
  EXPECT_EQ(r["timeline"].size(), 1u);
  json f = json::parse(api.get("/v1/reports/fleet").body);
  EXPECT_EQ(f["counts"]["trusted"], 1);
  EXPECT_EQ(f["nodes"][0]["name"], node);

  // Stale at query time, in every view.
  api.env.now = r["verdict"]["fresh_until_unix_ms"].get<Millis>();
  EXPECT_EQ(json::parse(api.get("/v1/reports/fleet").body)["counts"]["stale"], 1);
  EXPECT_NE(api.get("/reports/nodes/" + node).body.find("badge stale"), std::string::npos);

  // Auditors and admins only; nobody anonymous.
  for (const char* path : {"/reports", "/v1/reports/fleet", "/v1/reports/bundle"}) {
    EXPECT_EQ(api.get(path, "tok-sched").status, 403) << path;
    EXPECT_EQ(api.get(path, "").status, 401) << path;
  }
  EXPECT_EQ(api.get("/reports/nodes/nobody").status, 404);
  EXPECT_EQ(api.get("/v1/reports/nodes/nobody").status, 404);
  EXPECT_EQ(api.get("/v1/reports/bundle?node=nobody").status, 404);
}

TEST(ReportApi, BundlesVerifyOffline) {
  ReportApi api;
  api.env.approveFrom("good");
  api.env.allowImages();
  api.attest("good");
  api.env.now += 60000;
  api.attest("critical-finding");
  const std::string node = Fixtures::get().node;
  for (std::string target :
       {"/v1/reports/bundle?node=" + node, std::string("/v1/reports/bundle")}) {
    HttpResponse b = api.get(target);
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_NE(header(b, "content-disposition").find("attachment"), std::string::npos);
    auto check = report::verifyBundle(b.body, api.jwks());
    ASSERT_TRUE(check.has_value());
    std::string reasons;
    for (const auto& x : check->reasons) reasons += x + "\n";
    EXPECT_TRUE(check->ok()) << target << ":\n" << reasons;
  }
  json content = json::parse(api.get("/v1/reports/bundle?node=" + node).body)["content"];
  EXPECT_EQ(content["attestations"].size(), 2u);
  EXPECT_EQ(content["report"]["timeline"].size(), 2u);
  // Without a signing key the verifier says so instead of serving an unsigned bundle.
  ReportApi unsigned_api(false);
  EXPECT_EQ(unsigned_api.get("/v1/reports/bundle").status, 503);
}

// Container names and details come from agents: a hostile agent cannot inject markup.
TEST(ReportApi, HostileAgentStringsAreEscaped) {
  ReportApi api;
  api.attest("good");
  const std::string evil = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>";
  auto latest = api.env.store->latestAppraisal(Fixtures::get().node);
  ASSERT_TRUE(latest.has_value());
  AppraisalRecord a = *latest;
  a.appraised_at += 1000;
  a.reasons_json = json::array({{{"kind", "failure"},
                                 {"code", "isolation-violation"},
                                 {"claim", "configuration"},
                                 {"detail", evil},
                                 {"container", evil},
                                 {"control", "privileged"},
                                 {"severity", "critical"}}})
                       .dump();
  ASSERT_TRUE(static_cast<Store&>(*api.env.store).recordAppraisal(a).has_value());
  for (std::string path : {std::string("/reports"), "/reports/nodes/" + Fixtures::get().node}) {
    HttpResponse page = api.get(path);
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.body.find("<script"), std::string::npos) << path;
    EXPECT_EQ(page.body.find("<img"), std::string::npos) << path;
  }
  EXPECT_NE(api.get("/reports/nodes/" + Fixtures::get().node).body.find("&lt;script&gt;"),
            std::string::npos);
}

}  // namespace
}  // namespace bulwark::server::test
