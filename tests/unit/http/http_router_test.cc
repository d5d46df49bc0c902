// Access control of the verifier's routes: every route x every role x
// {no credential, wrong token, unmapped certificate}, from an expectation
// table written independently of verifier_routes.cc. Plus router mechanics.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "attest/core/digest.h"
#include "server/http/router.h"
#include "server/http/verifier_routes.h"

namespace bulwark::server {
namespace {

constexpr std::string_view kAgentCa = "aa00000000000000000000000000000000000000000000000000000000000000";
constexpr std::string_view kOtherCa = "bb00000000000000000000000000000000000000000000000000000000000000";
constexpr std::string_view kOpsCert = "cc00000000000000000000000000000000000000000000000000000000000000";

TokenCredential token(std::string name, Role role, std::string_view secret) {
  return {std::move(name), role, sha256(asBytes(secret))};
}

AccessConfig accessConfig() {
  AccessConfig a;
  a.tokens = {token("sched", Role::kScheduler, "tok-scheduler"),
              token("audit", Role::kAuditor, "tok-auditor"),
              token("root", Role::kAdmin, "tok-admin")};
  a.client_certs = {{"ops-laptop", Role::kAdmin, std::string(kOpsCert)}};
  a.agent_ca_sha256 = std::string(kAgentCa);
  return a;
}

PeerCertificate cert(std::string cn, std::string sha, std::vector<std::string> chain) {
  PeerCertificate c;
  c.subject_cn = std::move(cn);
  c.sha256 = std::move(sha);
  c.chain_sha256 = std::move(chain);
  return c;
}

PeerCertificate agentCert(std::string cn, std::string_view issuer = kAgentCa) {
  std::string leaf(64, 'd');
  return cert(std::move(cn), leaf, {leaf, std::string(issuer)});
}

Router verifierRouter() {
  Router r{Authenticator(accessConfig())};
  auto ok = addVerifierRoutes(r, {[] { return true; }, std::make_shared<Metrics>(),
                                  nlohmann::json{{"keys", nlohmann::json::array()}}, {}});
  EXPECT_TRUE(ok.has_value());
  return r;
}

HttpRequest request(std::string method, std::string target) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  return req;
}

HttpRequest withToken(HttpRequest req, std::string_view secret) {
  req.headers.emplace_back("authorization", "Bearer " + std::string(secret));
  return req;
}

// Expected access, written out by hand (not derived from the route table).
struct Expectation {
  const char* method;
  const char* path;
  bool is_public;
  std::set<Role> allowed;
  int ok_status;  // what an allowed caller gets today
};
const std::set<Role> kReaders = {Role::kScheduler, Role::kAuditor, Role::kAdmin};
const std::set<Role> kAuditors = {Role::kAuditor, Role::kAdmin};
const std::set<Role> kAdmin = {Role::kAdmin};
const Expectation kExpected[] = {
    {"GET", "/healthz", true, {}, 200},
    {"GET", "/readyz", true, {}, 200},
    {"GET", "/metrics", false, kAuditors, 200},
    {"GET", "/v1/jwks", true, {}, 200},
    {"POST", "/v1/enroll", true, {}, 501},
    {"POST", "/v1/enroll/activate", true, {}, 501},
    {"POST", "/v1/enroll/e1/activate", true, {}, 501},
    {"GET", "/v1/nonce", false, {Role::kAgent}, 501},
    {"POST", "/v1/attest", false, {Role::kAgent}, 501},
    {"GET", "/v1/nodes", false, kReaders, 501},
    {"GET", "/v1/nodes/n1", false, kReaders, 501},
    {"GET", "/v1/nodes/n1/ear", false, kReaders, 501},
    {"GET", "/v1/nodes/n1/history", false, kAuditors, 501},
    {"POST", "/v1/nodes/n1/approve", false, kAdmin, 501},
    {"POST", "/v1/nodes/n1/revoke", false, kAdmin, 501},
    {"DELETE", "/v1/nodes/n1", false, kAdmin, 501},
    {"PUT", "/v1/nodes/n1/group", false, kAdmin, 501},
    {"GET", "/v1/policy", false, kAuditors, 501},
    {"POST", "/v1/policy/learn/n1", false, kAdmin, 501},
    {"POST", "/v1/policy/approve", false, kAdmin, 501},
    {"POST", "/v1/policy/reference-values", false, kAdmin, 501},
    {"POST", "/v1/policy/revoke", false, kAdmin, 501},
    {"DELETE", "/v1/policy/reference-values/7", false, kAdmin, 501},
    {"POST", "/v1/policy/images", false, kAdmin, 501},
    {"POST", "/v1/policy/image-rules", false, kAdmin, 501},
    {"DELETE", "/v1/policy/images/3", false, kAdmin, 501},
    // Relying parties (docs/scheduling.md): verdict readers.
    {"POST", "/v1/k8s/filter", false, kReaders, 501},
    {"POST", "/v1/k8s/prioritize", false, kReaders, 501},
    {"POST", "/v1/k8s/admit", false, kReaders, 501},
    {"GET", "/v1/verdicts", false, kReaders, 501},
    {"GET", "/v1/verdicts/n1", false, kReaders, 501},
    // Compliance reports (docs/reports.md): auditors.
    {"GET", "/reports", false, kAuditors, 501},
    {"GET", "/reports/nodes/n1", false, kAuditors, 501},
    {"GET", "/v1/reports/fleet", false, kAuditors, 501},
    {"GET", "/v1/reports/nodes/n1", false, kAuditors, 501},
    {"GET", "/v1/reports/bundle", false, kAuditors, 501},
};

// One authenticated request per role.
HttpRequest asRole(Role role, const Expectation& e) {
  HttpRequest req = request(e.method, e.path);
  switch (role) {
    case Role::kAgent: req.peer = agentCert("n1"); return req;
    case Role::kScheduler: return withToken(req, "tok-scheduler");
    case Role::kAuditor: return withToken(req, "tok-auditor");
    case Role::kAdmin: return withToken(req, "tok-admin");
  }
  return req;
}

TEST(VerifierAccess, TableCoversEveryRoute) {
  const auto& table = verifierRouteTable();
  ASSERT_EQ(table.size(), std::size(kExpected));
  for (const RouteSpec& spec : table) {
    std::map<std::string, std::string> params;
    bool found = false;
    for (const Expectation& e : kExpected) {
      found = found || (spec.method == e.method && matchPattern(spec.pattern, e.path, params));
    }
    EXPECT_TRUE(found) << spec.method << " " << spec.pattern << " has no expectation";
  }
}

TEST(VerifierAccess, EveryRouteTimesEveryRole) {
  Router router = verifierRouter();
  for (const Expectation& e : kExpected) {
    for (Role role : kAllRoles) {
      Dispatch d = router.handle(asRole(role, e));
      bool allowed = e.is_public || e.allowed.count(role) > 0;
      EXPECT_EQ(d.response.status, allowed ? e.ok_status : 403)
          << e.method << " " << e.path << " as " << roleName(role) << ": " << d.response.body;
    }
  }
}

TEST(VerifierAccess, MissingOrWrongCredentials) {
  Router router = verifierRouter();
  for (const Expectation& e : kExpected) {
    int denied = e.is_public ? e.ok_status : 401;
    Dispatch none = router.handle(request(e.method, e.path));
    EXPECT_EQ(none.response.status, denied) << e.path << " without credentials";
    Dispatch wrong = router.handle(withToken(request(e.method, e.path), "tok-wrong"));
    EXPECT_EQ(wrong.response.status, denied) << e.path << " with a wrong token";
    // A certificate the client CA verified but that maps to no role.
    HttpRequest unmapped = request(e.method, e.path);
    unmapped.peer = agentCert("n1", kOtherCa);
    EXPECT_EQ(router.handle(unmapped).response.status, e.is_public ? e.ok_status : 403)
        << e.path << " with an unmapped certificate";
    if (!e.is_public) {
      bool challenged = false;
      for (const auto& [k, v] : none.response.headers) challenged |= k == "WWW-Authenticate";
      EXPECT_TRUE(challenged) << "401 without WWW-Authenticate on " << e.path;
    }
  }
}

TEST(Authenticator, TokenAndCertificateRules) {
  Authenticator auth(accessConfig());
  using O = AuthResult::Outcome;
  auto outcome = [&](HttpRequest req) { return auth.authenticate(req); };
  HttpRequest base = request("GET", "/v1/nodes");

  EXPECT_EQ(outcome(base).outcome, O::kAnonymous);
  auto lower_scheme = base;
  lower_scheme.headers.emplace_back("authorization", "bearer tok-admin");
  EXPECT_EQ(outcome(lower_scheme).principal.name, "root");
  for (const char* bad : {"Basic dG9rLWFkbWlu", "Bearer ", "Bearer tok-admin2", "tok-admin",
                          "Bearer TOK-ADMIN"}) {
    auto r = base;
    r.headers.emplace_back("authorization", bad);
    EXPECT_EQ(outcome(r).outcome, O::kInvalid) << bad;
    EXPECT_EQ(outcome(r).why.find("tok-"), std::string::npos) << "token leaked into reason";
  }
  // A bad token is not rescued by a valid agent certificate.
  auto mixed = withToken(base, "nope");
  mixed.peer = agentCert("n1");
  EXPECT_EQ(outcome(mixed).outcome, O::kInvalid);
  // Agent identity is the certificate CN; invalid node names get no agent role.
  auto agent = base;
  agent.peer = agentCert("node-7.example");
  EXPECT_EQ(outcome(agent).principal.name, "node-7.example");
  EXPECT_TRUE(outcome(agent).principal.roles.has(Role::kAgent));
  for (const char* cn : {"", "-x", "a/b", "a b", ".."}) {
    auto r = base;
    r.peer = agentCert(cn);
    EXPECT_TRUE(outcome(r).principal.roles.empty()) << "'" << cn << "'";
  }
  // The agent CA must be an issuer, not the leaf itself.
  auto self = base;
  self.peer = cert("n1", std::string(kAgentCa), {std::string(kAgentCa)});
  EXPECT_TRUE(outcome(self).principal.roles.empty());
  // Certificates mapped in config get their role, not agent.
  auto ops = base;
  ops.peer = cert("laptop", std::string(kOpsCert), {std::string(kOpsCert), std::string(kAgentCa)});
  EXPECT_EQ(outcome(ops).principal.name, "ops-laptop");
  EXPECT_EQ(outcome(ops).principal.roles, (RoleSet{Role::kAdmin}));
}

TEST(Router, MethodsUnknownPathsAndFailures) {
  Router r{Authenticator(accessConfig())};
  r.add("GET", "/public", Access::anyone(), [](const RouteContext&) {
    return HttpResponse::json(200, "{}");
  });
  r.add("GET", "/v1/things/{id}", Access::only({Role::kAdmin}), [](const RouteContext& c) {
    return HttpResponse::json(200, c.params.at("id") + "|" + c.principal->name);
  });
  r.add("GET", "/boom", Access::only({Role::kAdmin}),
        [](const RouteContext&) -> HttpResponse { throw std::runtime_error("secret detail"); });

  auto admin = [](std::string m, std::string t) { return withToken(request(m, t), "tok-admin"); };
  EXPECT_EQ(r.handle(admin("GET", "/v1/things/42?x=1")).response.body, "42|root");
  EXPECT_EQ(r.handle(admin("GET", "/v1/things/42")).route, "/v1/things/{id}");
  EXPECT_EQ(r.handle(admin("GET", "/v1/things/")).response.status, 404);
  EXPECT_EQ(r.handle(admin("GET", "/v1/things/42/x")).response.status, 404);
  EXPECT_EQ(r.handle(admin("GET", "/nope")).response.status, 404);
  EXPECT_EQ(r.handle(admin("GET", "/nope")).route, "unmatched");
  // Anonymous callers learn nothing about which protected paths exist.
  EXPECT_EQ(r.handle(request("GET", "/nope")).response.status, 401);
  EXPECT_EQ(r.handle(request("DELETE", "/v1/things/1")).response.status, 401);
  auto wrong_method = r.handle(admin("DELETE", "/v1/things/1"));
  EXPECT_EQ(wrong_method.response.status, 405);
  EXPECT_EQ(r.handle(request("POST", "/public")).response.status, 405);
  auto boom = r.handle(admin("GET", "/boom"));
  EXPECT_EQ(boom.response.status, 500);
  EXPECT_EQ(boom.response.body.find("secret detail"), std::string::npos);
}

TEST(Router, PatternMatching) {
  struct Case {
    const char* pattern;
    const char* path;
    bool match;
  };
  const Case kCases[] = {
      {"/a", "/a", true},          {"/a", "/a/", false},       {"/a", "/b", false},
      {"/a/{x}", "/a/1", true},    {"/a/{x}", "/a/", false},   {"/a/{x}", "/a", false},
      {"/a/{x}/b", "/a/1/b", true}, {"/a/{x}/b", "/a/1/c", false}, {"/a", "a", false},
      {"/a/{x}", "/a/1/2", false}, {"/", "/", true},
  };
  for (const Case& c : kCases) {
    std::map<std::string, std::string> params;
    EXPECT_EQ(matchPattern(c.pattern, c.path, params), c.match) << c.pattern << " " << c.path;
  }
}

TEST(VerifierRoutes, ReadinessAndJwksBodies) {
  Router down{Authenticator(accessConfig())};
  ASSERT_TRUE(addVerifierRoutes(down, {[] { return false; }, std::make_shared<Metrics>(),
                                       nlohmann::json{{"keys", {{{"kid", "k1"}}}}}, {}})
                  .has_value());
  EXPECT_EQ(down.handle(request("GET", "/readyz")).response.status, 503);
  auto jwks = down.handle(request("GET", "/v1/jwks")).response;
  EXPECT_EQ(jwks.content_type, "application/jwk-set+json");
  EXPECT_EQ(nlohmann::json::parse(jwks.body)["keys"][0]["kid"], "k1");
  int calls = 0;
  auto probe = cachedProbe([&calls] { return ++calls > 0; }, std::chrono::hours(1));
  EXPECT_TRUE(probe());
  EXPECT_TRUE(probe());
  EXPECT_EQ(calls, 1);
}

TEST(VerifierRoutes, PluggedHandlersKeepDeclaredAccess) {
  VerifierRouteDeps deps{[] { return true; }, std::make_shared<Metrics>(), nlohmann::json::object(),
                         {}};
  deps.handlers["POST /v1/attest"] = [](const RouteContext& c) {
    return HttpResponse::json(200, "\"" + c.principal->name + "\"");
  };
  Router r{Authenticator(accessConfig())};
  ASSERT_TRUE(addVerifierRoutes(r, deps).has_value());
  HttpRequest agent = request("POST", "/v1/attest");
  agent.peer = agentCert("n1");
  EXPECT_EQ(r.handle(agent).response.body, "\"n1\"");
  EXPECT_EQ(r.handle(withToken(request("POST", "/v1/attest"), "tok-admin")).response.status, 403);
  // Unknown or built-in routes cannot be plugged.
  for (const char* key : {"POST /v1/attestx", "GET /healthz", "GET /v1/jwks"}) {
    VerifierRouteDeps bad = deps;
    bad.handlers = {{key, [](const RouteContext&) { return HttpResponse::json(200, "{}"); }}};
    Router rr{Authenticator(accessConfig())};
    EXPECT_FALSE(addVerifierRoutes(rr, bad).has_value()) << key;
  }
}

}  // namespace
}  // namespace bulwark::server
