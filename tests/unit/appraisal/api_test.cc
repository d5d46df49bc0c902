// The /v1 handlers behind server/http's router (real route table, real roles):
// every handler plugs into a table route, agents get protobuf and ErrorBody, node
// views compute "stale" at query time, policy changes re-appraise stored evidence.
#include <gtest/gtest.h>

#include "bulwark/v1/enrollment.pb.h"
#include "server/api/routes.h"
#include "server/http/verifier_routes.h"
#include "server/verifier/soft_agent.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

using nlohmann::json;
constexpr std::string_view kAgentCa =
    "aa00000000000000000000000000000000000000000000000000000000000000";

struct Api {
  Env env;
  Router router{Authenticator(access())};

  // `ak_public`: the fixture node's AK (default: the swtpm fixtures' AK).
  explicit Api(const Bytes* ak_public = nullptr) : env(pipelineOptions(), ak_public) {
    auto ok = addVerifierRoutes(
        router, {[] { return true; }, std::make_shared<Metrics>(), json{{"keys", json::array()}},
                 makeApiHandlers(
                     {env.store.get(), env.appraiser.get(), nullptr, [this] { return env.now; }})});
    EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error().toString());
  }
  static AccessConfig access() {
    AccessConfig a;
    a.tokens = {{"sched", Role::kScheduler, sha256(asBytes(std::string_view("tok-sched")))},
                {"audit", Role::kAuditor, sha256(asBytes(std::string_view("tok-audit")))},
                {"root", Role::kAdmin, sha256(asBytes(std::string_view("tok-admin")))}};
    a.agent_ca_sha256 = std::string(kAgentCa);
    return a;
  }
  HttpResponse call(std::string method, std::string target, std::string token,
                    std::string body = {}) {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
    return router.handle(req).response;
  }
  HttpResponse agent(std::string method, std::string target, const std::string& body,
                     const std::string& node) {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = body;
    req.headers = {{"content-type", "application/x-protobuf"},
                   {"accept", "application/x-protobuf"}};
    PeerCertificate c;
    c.subject_cn = node;
    c.sha256 = std::string(64, 'd');
    c.chain_sha256 = {c.sha256, std::string(kAgentCa)};
    req.peer = c;
    return router.handle(req).response;
  }
  json get(const std::string& target, const std::string& token = "tok-sched") {
    HttpResponse r = call("GET", target, token);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
};

std::string str(ByteView b) { return std::string(b.begin(), b.end()); }

TEST(Api, AttestOverTheRouterAndStaleAtQueryTime) {
  Api api;
  api.env.approveFrom("good");
  api.env.allowImages();
  const Fixtures& f = Fixtures::get();
  api.env.issue(f.nonce("good"), f.node);
  HttpResponse r = api.agent("POST", "/v1/attest", str(f.evidence("good")), f.node);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  bulwark::v1::AttestResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.body));
  EXPECT_EQ(resp.result().status(), bulwark::v1::STATUS_AFFIRMING);
  EXPECT_EQ(resp.pcr_bank(), "sha256");
  EXPECT_EQ(resp.result().trust_vector().at("instance-identity"), 2);

  // Replay: ErrorBody as protobuf for a protobuf caller.
  HttpResponse again = api.agent("POST", "/v1/attest", str(f.evidence("good")), f.node);
  EXPECT_EQ(again.status, 409);
  bulwark::v1::ErrorBody err;
  ASSERT_TRUE(err.ParseFromString(again.body));
  EXPECT_EQ(err.error(), "nonce-replayed");

  json node = api.get("/v1/nodes/" + f.node);
  EXPECT_EQ(node["state"], "trusted");
  EXPECT_EQ(node["last_appraisal"]["status"], "affirming");
  EXPECT_EQ(node["findings"].size(), 1u);
  EXPECT_EQ(node["findings"][0]["control"], "no-new-privileges-unset");
  EXPECT_EQ(node["findings"][0]["violation"], false);
  // Freshness is evaluated when asked: one millisecond past the deadline is stale.
  Millis deadline = node["fresh_until_unix_ms"];
  api.env.now = deadline - 1;
  EXPECT_EQ(api.get("/v1/nodes/" + f.node)["state"], "trusted");
  api.env.now = deadline;
  EXPECT_EQ(api.get("/v1/nodes/" + f.node)["state"], "stale");
  json fleet = api.get("/v1/nodes");
  ASSERT_EQ(fleet["nodes"].size(), 1u);
  EXPECT_EQ(fleet["nodes"][0]["state"], "stale");

  HttpResponse ear = api.call("GET", "/v1/nodes/" + f.node + "/ear", "tok-sched");
  EXPECT_EQ(ear.status, 200);
  EXPECT_EQ(ear.content_type, "application/jwt");
  EXPECT_EQ(ear.body, resp.result().ear());
  json history = api.get("/v1/nodes/" + f.node + "/history?limit=5", "tok-audit");
  EXPECT_EQ(history["appraisals"].size(), 1u);
  // Schedulers may not read history; nobody unauthenticated reads anything.
  EXPECT_EQ(api.call("GET", "/v1/nodes/" + f.node + "/history", "tok-sched").status, 403);
  EXPECT_EQ(api.call("GET", "/v1/nodes", "").status, 401);
}

TEST(Api, LearnApproveReappraisesWithoutRestart) {
  Api api;
  api.env.allowImages();
  const Fixtures& f = Fixtures::get();
  api.env.issue(f.nonce("good"), f.node);
  ASSERT_EQ(api.agent("POST", "/v1/attest", str(f.evidence("good")), f.node).status, 200);
  EXPECT_EQ(api.get("/v1/nodes/" + f.node)["state"], "untrusted");

  api.env.now += 1000;
  HttpResponse learn = api.call("POST", "/v1/policy/learn/" + f.node, "tok-admin");
  ASSERT_EQ(learn.status, 200) << learn.body;
  json lj = json::parse(learn.body);
  EXPECT_EQ(lj["learned"], 2);  // runc + os-release; the image is left to image rules
  EXPECT_EQ(lj["changed"], 2);
  EXPECT_EQ(api.get("/v1/nodes/" + f.node)["state"],
            "untrusted");  // pending values vouch for nothing

  api.env.now += 1000;
  HttpResponse approve =
      api.call("POST", "/v1/policy/approve", "tok-admin", R"({"node":"fixture-node"})");
  ASSERT_EQ(approve.status, 200) << approve.body;
  EXPECT_EQ(json::parse(approve.body)["reappraised"], 1);
  json node = api.get("/v1/nodes/" + f.node);
  EXPECT_EQ(node["state"], "trusted") << node.dump(1);
  // Re-appraisal kept the original freshness deadline.
  json history = api.get("/v1/nodes/" + f.node + "/history", "tok-audit");
  ASSERT_EQ(history["appraisals"].size(), 3u);
  EXPECT_EQ(history["appraisals"][0]["fresh_until"], history["appraisals"][2]["fresh_until"]);

  // Revoking the runc value re-appraises again: contraindicated.
  HttpResponse revoke =
      api.call("POST", "/v1/policy/revoke", "tok-admin", R"({"subject":"/usr/bin/runc"})");
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  node = api.get("/v1/nodes/" + f.node);
  EXPECT_EQ(node["state"], "untrusted");
  EXPECT_EQ(node["reasons"][0]["code"], "measurement-revoked");
  // An empty revoke filter is refused, and policy changes need admin.
  EXPECT_EQ(api.call("POST", "/v1/policy/revoke", "tok-admin", "{}").status, 400);
  EXPECT_EQ(api.call("POST", "/v1/policy/approve", "tok-audit", R"({"all":true})").status, 403);
  json policy = api.get("/v1/policy", "tok-audit");
  EXPECT_EQ(policy["reference_values"].size(), 2u);
  EXPECT_EQ(policy["image_rules"].size(), 1u);
}

TEST(Api, LearningFromUnverifiedEvidenceIsRefused) {
  Api api;
  const Fixtures& f = Fixtures::get();
  api.env.issue(f.nonce("sha1-bank"), f.node);
  ASSERT_EQ(api.agent("POST", "/v1/attest", str(f.evidence("sha1-bank")), f.node).status, 200);
  HttpResponse learn = api.call("POST", "/v1/policy/learn/" + f.node, "tok-admin");
  EXPECT_EQ(learn.status, 409);
  EXPECT_EQ(json::parse(learn.body)["error"], "evidence-not-verified");
  EXPECT_EQ(api.call("POST", "/v1/policy/learn/nobody", "tok-admin").status, 404);
}

TEST(Api, NodeAdministration) {
  Api api;
  api.env.enroll("waiting-node", Fixtures::get().ak_public, false);
  EXPECT_EQ(api.get("/v1/nodes/waiting-node")["state"], "enrolling");
  HttpResponse approve = api.call("POST", "/v1/nodes/waiting-node/approve", "tok-admin");
  ASSERT_EQ(approve.status, 200) << approve.body;
  EXPECT_EQ(json::parse(approve.body)["state"], "untrusted");
  EXPECT_EQ(api.call("POST", "/v1/nodes/waiting-node/approve", "tok-admin").status, 409);
  HttpResponse revoke = api.call("POST", "/v1/nodes/waiting-node/revoke", "tok-admin");
  EXPECT_EQ(json::parse(revoke.body)["state"], "revoked");
  EXPECT_EQ(api.call("DELETE", "/v1/nodes/waiting-node", "tok-admin").status, 200);
  EXPECT_EQ(api.call("GET", "/v1/nodes/waiting-node", "tok-sched").status, 404);
  // Image rules: add, list, remove; malformed bodies are 400.
  HttpResponse rule =
      api.call("POST", "/v1/policy/images", "tok-admin",
               R"({"kind":"deny_digest","value":"sha256:)" + std::string(64, 'a') + "\"}");
  ASSERT_EQ(rule.status, 200) << rule.body;
  std::int64_t id = json::parse(rule.body)["id"];
  EXPECT_EQ(api.call("DELETE", "/v1/policy/images/" + std::to_string(id), "tok-admin").status, 200);
  EXPECT_EQ(api.call("POST", "/v1/policy/images", "tok-admin", R"({"kind":"maybe"})").status, 400);
  EXPECT_EQ(api.call("POST", "/v1/policy/images", "tok-admin", "not json").status, 400);
  EXPECT_EQ(api.call("DELETE", "/v1/policy/images/x", "tok-admin").status, 400);
}

TEST(Api, AgentErrorsAndEncodings) {
  Api api;
  const Fixtures& f = Fixtures::get();
  // Enrollment without an agent CA configured: 503 with a code.
  HttpResponse enroll = api.call("POST", "/v1/enroll", "", "x");
  EXPECT_EQ(enroll.status, 503);
  // GET /v1/nonce: protobuf for agents.
  HttpResponse nonce = api.agent("GET", "/v1/nonce", "", f.node);
  ASSERT_EQ(nonce.status, 200) << nonce.body;
  bulwark::v1::NonceResponse nr;
  ASSERT_TRUE(nr.ParseFromString(nonce.body));
  EXPECT_EQ(nr.nonce().size(), 32u);
  ASSERT_EQ(nr.pcr_selection_size(), 1);
  EXPECT_EQ(nr.pcr_selection(0), 15u);
  // Unknown node with a valid agent certificate.
  HttpResponse unknown = api.agent("GET", "/v1/nonce", "", "ghost");
  EXPECT_EQ(unknown.status, 403);
  bulwark::v1::ErrorBody e;
  ASSERT_TRUE(e.ParseFromString(unknown.body));
  EXPECT_EQ(e.error(), "node-unknown");
}

// Issue 6: a runtime binary tampered with and restored leaves both digests in this boot's
// log. The node stays untrusted (the tampered one may have run) until an admin, after
// investigating, re-approves THIS node; a current unknown digest is never forgiven.
TEST(Api, RestoreReapproveTrustedAgain) {
  auto agent = SoftAgent::create(Fixtures::get().node);
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  Api api(&agent->akPublic());
  const std::string node = agent->node();
  Bytes orig = sha256(asBytes(std::string_view("runc 1.1.12")));
  Bytes evil = sha256(asBytes(std::string_view("runc with a backdoor")));
  auto measureRunc = [&](const Bytes& digest) {
    std::vector<attest::BatchEntry> batch = {{"runtime-binary", "/usr/bin/runc", digest}};
    ASSERT_TRUE(agent->measure(batch).has_value());
  };
  std::uint8_t round = 0;
  auto attest = [&] {
    api.env.now += 1000;
    Bytes nonce(32, ++round);
    api.env.issue(nonce, node);
    auto ev = agent->evidence(nonce, api.env.now);
    EXPECT_TRUE(ev.has_value());
    EXPECT_EQ(api.agent("POST", "/v1/attest", ev.value_or(""), node).status, 200);
    return api.get("/v1/nodes/" + node);
  };
  auto codes = [](const json& view, const char* list) {
    std::vector<std::string> out;
    for (const json& r : view[list]) out.push_back(r["code"]);
    return out;
  };
  using Codes = std::vector<std::string>;
  std::string values =
      R"({"values":[{"kind":"runtime-binary","subject":"/usr/bin/runc","sha256":")" + toHex(orig) +
      "\"}]}";
  ASSERT_EQ(api.call("POST", "/v1/policy/reference-values", "tok-admin", values).status, 200);

  measureRunc(orig);
  EXPECT_EQ(attest()["state"], "trusted");
  measureRunc(evil);  // tampered: the current digest is unknown
  EXPECT_EQ(codes(attest(), "reasons"), Codes{"measurement-unknown"});
  measureRunc(orig);  // restored: the tampered digest is history of this boot
  json view = attest();
  EXPECT_EQ(view["state"], "untrusted");
  ASSERT_EQ(codes(view, "reasons"), Codes{"measurement-superseded-unknown"});
  EXPECT_NE(view["reasons"][0]["detail"].get<std::string>().find("bulwarkctl approve " + node),
            std::string::npos);

  // Bad input changes nothing: unknown node, bad name, not an admin.
  EXPECT_EQ(api.call("POST", "/v1/nodes/ghost/approve", "tok-admin").status, 404);
  EXPECT_EQ(api.call("POST", "/v1/nodes/-bad/approve", "tok-admin").status, 400);
  EXPECT_EQ(api.call("POST", "/v1/nodes/" + node + "/approve", "tok-audit").status, 403);
  EXPECT_TRUE(api.env.store->listAcknowledgments(node)->empty());
  EXPECT_EQ(api.get("/v1/nodes/" + node)["state"], "untrusted");

  for (int i = 0; i < 2; ++i) {  // the second approval changes nothing (idempotent)
    SCOPED_TRACE(i);
    HttpResponse r = api.call("POST", "/v1/nodes/" + node + "/approve", "tok-admin");
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["state"], "trusted") << r.body;
    EXPECT_EQ(j["reappraised"], true);
    ASSERT_EQ(j["acknowledged"].size(), 1u);
    EXPECT_EQ(j["acknowledged"][0]["subject"], "/usr/bin/runc");
    EXPECT_EQ(j["acknowledged"][0]["sha256"], toHex(evil));
    EXPECT_EQ(codes(j, "events"), Codes{"measurement-superseded-acknowledged"});
    auto acks = api.env.store->listAcknowledgments(node);
    ASSERT_TRUE(acks.has_value());
    ASSERT_EQ(acks->size(), 1u);
    EXPECT_EQ((*acks)[0].acknowledged_by, "root");  // the admin token's principal
  }
  // The next attestation of the same boot stays trusted.
  EXPECT_EQ(attest()["state"], "trusted");

  // Tampered again: the current digest is unknown, and approval never accepts it.
  measureRunc(evil);
  EXPECT_EQ(codes(attest(), "reasons"), Codes{"measurement-unknown"});
  HttpResponse again = api.call("POST", "/v1/nodes/" + node + "/approve", "tok-admin");
  ASSERT_EQ(again.status, 200) << again.body;
  json j = json::parse(again.body);
  EXPECT_EQ(j["state"], "untrusted");
  EXPECT_TRUE(j["acknowledged"].empty());  // the superseded entries are approved ones
  EXPECT_EQ(codes(j, "reasons"), Codes{"measurement-unknown"});
}

TEST(Api, ReapprovalNeedsVerifiedEvidence) {
  auto agent = SoftAgent::create(Fixtures::get().node);
  ASSERT_TRUE(agent.has_value()) << agent.error().toString();
  Api api(&agent->akPublic());
  const std::string node = agent->node();
  // No evidence yet.
  HttpResponse none = api.call("POST", "/v1/nodes/" + node + "/approve", "tok-admin");
  EXPECT_EQ(none.status, 409);
  EXPECT_EQ(json::parse(none.body)["error"], "no-evidence");
  // A quote answering another nonce: its log is not this node's word, accept nothing.
  std::vector<attest::BatchEntry> batch = {
      {"runtime-binary", "/usr/bin/runc", sha256(asBytes(std::string_view("a")))}};
  ASSERT_TRUE(agent->measure(batch).has_value());
  batch[0].sha256 = sha256(asBytes(std::string_view("b")));
  ASSERT_TRUE(agent->measure(batch).has_value());
  Bytes nonce(32, 7);
  api.env.issue(nonce, node);
  bulwark::v1::Evidence ev;
  ASSERT_TRUE(ev.ParseFromString(*agent->evidence(Bytes(32, 0xee), api.env.now)));
  bulwark::v1::Report report;
  ASSERT_TRUE(report.ParseFromString(ev.report()));
  report.set_nonce(str(nonce));
  ev.set_report(report.SerializeAsString());
  ASSERT_EQ(api.agent("POST", "/v1/attest", ev.SerializeAsString(), node).status, 200);
  HttpResponse r = api.call("POST", "/v1/nodes/" + node + "/approve", "tok-admin");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"], "evidence-not-verified");
  EXPECT_TRUE(api.env.store->listAcknowledgments(node)->empty());
}

}  // namespace
}  // namespace bulwark::server::test
