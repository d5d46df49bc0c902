// Relying-party contracts through the real route table and roles with a real SQLite
// store (docs/scheduling.md): kube-scheduler extender documents in both
// nodeCacheCapable modes and key spellings (tests/testdata/k8s), AdmissionReview v1
// documents as the API server sends them, the REST verdict, malformed bodies.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/api/routes.h"
#include "server/http/verifier_routes.h"
#include "tests/unit/sched/sched_fleet.h"

namespace bulwark::server::sched::test {
namespace {

using nlohmann::json;
constexpr Millis kNow = 1'800'000'000'000;

std::string testdata(const std::string& name) {
  const char* root = std::getenv("BULWARK_SOURCE_DIR");
  std::ifstream in(std::string(root != nullptr ? root : ".") + "/tests/testdata/k8s/" + name);
  std::string s{std::istreambuf_iterator<char>(in), {}};
  EXPECT_FALSE(s.empty()) << "missing tests/testdata/k8s/" << name;
  return s;
}

// worker-1 trusted, worker-2 stale, worker-3 untrusted (runc), worker-4 revoked,
// worker-5 never enrolled, worker-6 enrolling; worker-7 approved without evidence.
struct Verifier {
  std::filesystem::path dir;
  std::unique_ptr<SqliteStore> store;
  Millis now = kNow;
  Router router{Authenticator(access())};

  Verifier() {
    dir = std::filesystem::temp_directory_path() /
          ("sched-contract-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto s = openStore((dir / "verifier.db").string());
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().toString());
    if (!s) return;
    store = std::move(*s);
    const std::pair<const char*, Situation> fleet[] = {
        {"worker-1", Situation::kTrusted},   {"worker-2", Situation::kStale},
        {"worker-3", Situation::kUntrusted}, {"worker-4", Situation::kRevoked},
        {"worker-6", Situation::kEnrolling}, {"worker-7", Situation::kNoVerdict},
        {"worker-8", Situation::kFindings}};
    for (const auto& [name, situation] : fleet) {
      auto r = addNode(*store, name, situation, kNow);
      EXPECT_TRUE(r.has_value()) << name << ": " << (r ? "" : r.error().toString());
    }
    auto ok = addVerifierRoutes(
        router, {[] { return true; }, std::make_shared<Metrics>(), json{{"keys", json::array()}},
                 makeApiHandlers({store.get(), nullptr, nullptr, [this] { return now; }})});
    EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error().toString());
  }
  ~Verifier() {
    router = Router{Authenticator(access())};  // handlers (and their cache) before the store
    store.reset();
    std::filesystem::remove_all(dir);
  }
  static AccessConfig access() {
    AccessConfig a;
    a.tokens = {{"sched", Role::kScheduler, sha256(asBytes(std::string_view("tok-sched")))},
                {"audit", Role::kAuditor, sha256(asBytes(std::string_view("tok-audit")))}};
    return a;
  }
  HttpResponse call(std::string method, std::string target, std::string body,
                    std::string token = "tok-sched") {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.headers.emplace_back("content-type", "application/json");
    if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
    return router.handle(req).response;
  }
  json post(const std::string& target, const std::string& body, int status = 200) {
    HttpResponse r = call("POST", target, body);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
};

const std::map<std::string, std::string> kRefusals = {
    {"worker-2", "bulwark: stale, last attestation 95 s ago"},
    {"worker-3", "bulwark: runtime binary /usr/bin/runc not in reference values (+1 more)"},
    {"worker-4", "bulwark: revoked"},
    {"worker-5", "bulwark: unknown node (never enrolled)"},
    {"worker-6", "bulwark: enrolling (enrollment not approved)"}};

void expectRefusals(const json& result) {
  for (const char* map : {"FailedNodes", "FailedAndUnresolvableNodes"}) {
    ASSERT_TRUE(result[map].is_object()) << result.dump();
    EXPECT_EQ(result[map].size(), kRefusals.size()) << map;
    for (const auto& [node, reason] : kRefusals) EXPECT_EQ(result[map].value(node, ""), reason);
  }
  EXPECT_EQ(result["Error"], "");
}

TEST(SchedContract, FilterNodeNamesMode) {
  Verifier v;
  json r = v.post("/v1/k8s/filter", testdata("filter-names.json"));
  EXPECT_TRUE(r["Nodes"].is_null());
  EXPECT_EQ(r["NodeNames"], json::array({"worker-1"}));
  expectRefusals(r);
}

TEST(SchedContract, FilterNodesModePassesNodeObjectsThroughUnchanged) {
  Verifier v;
  json request = json::parse(testdata("filter-nodes.json"));
  json r = v.post("/v1/k8s/filter", request.dump());
  EXPECT_TRUE(r["NodeNames"].is_null());
  ASSERT_EQ(r["Nodes"]["items"].size(), 1u) << r.dump();
  EXPECT_EQ(r["Nodes"]["items"][0], request["Nodes"]["items"][0]);  // worker-1, whole object
  expectRefusals(r);
}

TEST(SchedContract, KeysAreReadCaseInsensitivelyLikeGo) {
  Verifier v;
  json lower = v.post("/v1/k8s/filter", testdata("filter-names-lowercase.json"));
  EXPECT_EQ(lower["NodeNames"], json::array({"worker-1"}));
  expectRefusals(lower);
  json upper = v.post("/v1/k8s/filter", testdata("filter-nodes-uppercase.json"));
  ASSERT_EQ(upper["Nodes"]["items"].size(), 1u);
  EXPECT_EQ(upper["Nodes"]["items"][0]["metadata"]["name"], "worker-1");
  expectRefusals(upper);
}

TEST(SchedContract, MalformedBodiesAre400WithError) {
  Verifier v;
  const std::pair<std::string, std::string> cases[] = {
      {"", "not JSON"},
      {"{", "not JSON"},
      {"[]", "must be a JSON object"},
      {R"({"Pod":{}})", "exactly one of"},
      {R"({"Pod":{},"Nodes":null,"NodeNames":null})", "exactly one of"},
      {R"({"NodeNames":["a"],"Nodes":{"items":[]}})", "exactly one of"},
      {R"({"NodeNames":["worker-1"],"nodenames":["worker-3"]})", "ambiguous"},
      {R"({"NodeNames":"worker-1"})", "must be an array"},
      {R"({"NodeNames":[1]})", "must hold strings"},
      {R"({"NodeNames":["worker-1",{"x":"worker-1"}]})", "must hold strings"},
      {R"({"NodeNames":[["worker-1"]]})", "must hold strings"},
      {R"({"NodeNames":["worker-1"],"Nodes":{"items":[]}})", "exactly one of"},
      {R"({"Pod":{},"POD":{},"NodeNames":["worker-1"]})", "ambiguous"},
      {R"(["worker-1"])", "must be a JSON object"},
      {R"({"NodeNames":["worker-1"]} trailing)", "not JSON"},
      {R"({"Pod":"x","NodeNames":[]})", "Pod"},
      {R"({"Nodes":[]})", "NodeList"},
      {R"({"Nodes":{"items":{}}})", "must be an array"},
      {R"({"Nodes":{"items":[{"metadata":{}}]}})", "no metadata.name"},
      {R"({"Nodes":{"items":[{"spec":{}}]}})", "no metadata"},
      {R"({"Nodes":{"items":[{"metadata":{"name":7}}]}})", "must be a string"},
      {R"({"Nodes":{"items":[{"metadata":{"name":"a","Name":"b"}}]}})", "ambiguous"},
  };
  for (const auto& [body, want] : cases) {
    json r = v.post("/v1/k8s/filter", body, 400);
    EXPECT_NE(r.value("Error", "").find(want), std::string::npos) << body << " -> " << r.dump();
    EXPECT_TRUE(r["NodeNames"].is_null()) << body;  // nothing passes a malformed request
    json p = v.post("/v1/k8s/prioritize", body, 400);
    EXPECT_NE(p.value("Error", "").find(want), std::string::npos) << body << " -> " << p.dump();
  }
}

TEST(SchedContract, PrioritizeScoresTrustInBothModes) {
  Verifier v;
  for (const char* file : {"filter-names.json", "filter-nodes.json"}) {
    json names = json::parse(testdata(file));
    json r = v.post("/v1/k8s/prioritize", names.dump());
    ASSERT_TRUE(r.is_array()) << r.dump();
    ASSERT_EQ(r.size(), 6u);
    // 12 s into a 600 s TTL: 5 + round(5 * 588/600) = 10; every refused node 0.
    const std::int64_t want[] = {10, 0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < 6; ++i) {
      EXPECT_EQ(r[i]["Host"], "worker-" + std::to_string(i + 1)) << file;
      EXPECT_EQ(r[i]["Score"], want[i]) << file << " " << r[i].dump();
    }
  }
  // Two findings cost two points; half the TTL gone costs three.
  v.now = kNow + 288'000;
  json r = v.post("/v1/k8s/prioritize", R"({"NodeNames":["worker-8","worker-1"]})");
  EXPECT_EQ(r[0]["Score"], 5 + 3 - 2);
  EXPECT_EQ(r[1]["Score"], 5 + 3);
}

TEST(SchedContract, StaleIsDecidedAtRequestTime) {
  Verifier v;
  const std::string body = R"({"NodeNames":["worker-1"]})";
  EXPECT_EQ(v.post("/v1/k8s/filter", body)["NodeNames"].size(), 1u);
  // worker-1's deadline is kNow + 588 s: one millisecond before it is still trusted,
  // at it the same snapshot already refuses.
  v.now = kNow + 588'000 - 1;
  EXPECT_EQ(v.post("/v1/k8s/filter", body)["NodeNames"].size(), 1u);
  v.now = kNow + 588'000;
  json r = v.post("/v1/k8s/filter", body);
  EXPECT_TRUE(r["NodeNames"].empty());
  EXPECT_EQ(r["FailedNodes"]["worker-1"], "bulwark: stale, last attestation 600 s ago");
}

TEST(SchedContract, NewVerdictsReachTheSchedulerWithinMaxAge) {
  Verifier v;
  const std::string body = R"({"NodeNames":["worker-1","worker-3"]})";
  EXPECT_EQ(v.post("/v1/k8s/filter", body)["NodeNames"], json::array({"worker-1"}));
  ASSERT_TRUE(v.store->revokeNode("worker-1", kNow).has_value());
  // Past the snapshot's max age (1 s on the injected clock) the request reloads inline.
  v.now = kNow + 1001;
  json r = v.post("/v1/k8s/filter", body);
  EXPECT_TRUE(r["NodeNames"].empty()) << r.dump();
  EXPECT_EQ(r["FailedNodes"]["worker-1"], "bulwark: revoked");
}

json review(const std::string& file, const std::string& node) {
  json doc = json::parse(testdata(file));
  json& obj = doc["request"]["object"];
  if (obj.contains("target")) obj["target"]["name"] = node;
  if (obj["spec"].contains("nodeName")) obj["spec"]["nodeName"] = node;
  if (doc["request"]["userInfo"]["username"].get<std::string>().starts_with("system:node:")) {
    doc["request"]["userInfo"]["username"] = "system:node:" + node;
  }
  return doc;
}

TEST(SchedContract, AdmissionRefusesPlacementOnUntrustedNodes) {
  Verifier v;
  const std::map<std::string, std::string> messages = {
      {"worker-2", "bulwark: node worker-2 is stale (last attestation 95 s ago)"},
      {"worker-3",
       "bulwark: node worker-3 is untrusted (runtime binary /usr/bin/runc not in reference "
       "values (+1 more))"},
      {"worker-4", "bulwark: node worker-4 is revoked"},
      {"worker-5", "bulwark: node worker-5 is unknown (never enrolled)"},
      {"worker-7", "bulwark: node worker-7 is untrusted (no attestation since enrollment)"}};
  for (const char* file :
       {"admit-binding.json", "admit-legacy-binding.json", "admit-pod-nodename.json"}) {
    for (const char* node :
         {"worker-1", "worker-2", "worker-3", "worker-4", "worker-5", "worker-7"}) {
      json doc = review(file, node);
      json r = v.post("/v1/k8s/admit", doc.dump());
      EXPECT_EQ(r["apiVersion"], "admission.k8s.io/v1");
      EXPECT_EQ(r["kind"], "AdmissionReview");
      EXPECT_EQ(r["response"]["uid"], doc["request"]["uid"]);
      bool trusted = std::string(node) == "worker-1";
      EXPECT_EQ(r["response"]["allowed"], trusted) << file << " " << node;
      if (trusted) {
        EXPECT_FALSE(r["response"].contains("status"));
        continue;
      }
      EXPECT_EQ(r["response"]["status"]["code"], 403);
      EXPECT_EQ(r["response"]["status"]["message"], messages.at(node)) << file;
    }
  }
}

TEST(SchedContract, AdmissionAllowsWhatPlacesNothing) {
  Verifier v;
  // Unscheduled pod, UPDATE of a pinned pod, the untrusted node's own kubelet creating
  // its mirror pod: allowed. The same mirror pod from anyone else: refused.
  for (const char* file :
       {"admit-pod-unscheduled.json", "admit-pod-update.json", "admit-mirror-pod.json"}) {
    json r = v.post("/v1/k8s/admit", review(file, "worker-3").dump());
    EXPECT_EQ(r["response"]["allowed"], true) << file << r.dump();
  }
  json forged = review("admit-mirror-pod.json", "worker-3");
  forged["request"]["userInfo"]["username"] = "system:node:worker-1";
  EXPECT_EQ(v.post("/v1/k8s/admit", forged.dump())["response"]["allowed"], false);
  json unannotated = review("admit-mirror-pod.json", "worker-3");  // kubelet, not a mirror
  unannotated["request"]["object"]["metadata"].erase("annotations");
  EXPECT_EQ(v.post("/v1/k8s/admit", unannotated.dump())["response"]["allowed"], false);
  json no_target = review("admit-binding.json", "x");
  no_target["request"]["object"].erase("target");
  json r = v.post("/v1/k8s/admit", no_target.dump());
  EXPECT_EQ(r["response"]["allowed"], false);
  EXPECT_EQ(r["response"]["status"]["message"],
            "bulwark: binding of pod shop/web-7d4b9c8f6-x2kqp names no target node");
}

TEST(SchedContract, MalformedAdmissionReviewIs400) {
  Verifier v;
  json good = review("admit-binding.json", "worker-1");
  std::vector<json> bad(7, good);
  bad[0]["apiVersion"] = "admission.k8s.io/v1beta1";
  bad[1]["kind"] = "Pod";
  bad[2].erase("request");
  bad[3]["request"].erase("uid");
  bad[4]["request"]["object"] = "binding";
  bad[5]["request"]["object"]["target"] = {{"name", 3}};
  bad[6]["request"]["Operation"] = "DELETE";  // second spelling of operation
  for (const json& b : bad) {
    json r = v.post("/v1/k8s/admit", b.dump(), 400);
    EXPECT_EQ(r["error"], "malformed-request") << b.dump();
  }
  for (const char* body : {"", "null", "[]", "{\"request\":{}}"}) {
    EXPECT_EQ(v.call("POST", "/v1/k8s/admit", body).status, 400) << body;
  }
}

TEST(SchedContract, RestVerdicts) {
  Verifier v;
  json all = v.post("/v1/verdicts", "", 405);  // GET only
  HttpResponse r = v.call("GET", "/v1/verdicts", "");
  ASSERT_EQ(r.status, 200) << r.body;
  json list = json::parse(r.body);
  ASSERT_EQ(list["verdicts"].size(), 7u);  // every enrolled node, by name
  EXPECT_EQ(list["verdicts"][0]["node"], "worker-1");
  EXPECT_EQ(list["verdicts"][0]["trusted"], true);
  EXPECT_EQ(list["verdicts"][0]["state"], "trusted");
  EXPECT_EQ(list["verdicts"][0]["fresh_until"], "2027-01-15T08:09:48.000Z");
  EXPECT_EQ(list["verdicts"][0]["checked_at"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(list["checked_at"], "2027-01-15T08:00:00.000Z");
  json some =
      json::parse(v.call("GET", "/v1/verdicts?nodes=worker-2,worker-5%2Cworker-1", "").body);
  ASSERT_EQ(some["verdicts"].size(), 3u);
  EXPECT_EQ(some["verdicts"][0]["state"], "stale");
  EXPECT_EQ(some["verdicts"][0]["trusted"], false);
  EXPECT_EQ(some["verdicts"][0]["reason"], "bulwark: stale, last attestation 95 s ago");
  EXPECT_EQ(some["verdicts"][1]["state"], "unknown");
  EXPECT_EQ(some["verdicts"][2]["trusted"], true);
  EXPECT_EQ(v.call("GET", "/v1/verdicts?nodes=a,,b", "").status, 400);
  EXPECT_EQ(v.call("GET", "/v1/verdicts?nodes=../x", "").status, 400);
  std::string many = "/v1/verdicts?nodes=n0";
  for (int i = 1; i <= 10000; ++i) many += ",n" + std::to_string(i);  // 10,001 names
  EXPECT_EQ(v.call("GET", many, "").status, 400);

  HttpResponse one = v.call("GET", "/v1/verdicts/worker-3", "", "tok-audit");
  ASSERT_EQ(one.status, 200);
  json j = json::parse(one.body);
  EXPECT_EQ(j["trusted"], false);
  EXPECT_EQ(j["state"], "untrusted");
  EXPECT_EQ(j["reason"], kRefusals.at("worker-3"));
  HttpResponse unknown = v.call("GET", "/v1/verdicts/worker-5", "");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["trusted"], false);
  // Deny by default: no credential, no answer.
  EXPECT_EQ(v.call("GET", "/v1/verdicts/worker-1", "", "").status, 401);
  EXPECT_EQ(v.call("POST", "/v1/k8s/filter", testdata("filter-names.json"), "").status, 401);
}

TEST(SchedContract, StoreGoneMeansEveryNodeRefused) {
  Verifier v;
  const std::string body = R"({"NodeNames":["worker-1"]})";
  EXPECT_EQ(v.post("/v1/k8s/filter", body)["NodeNames"].size(), 1u);
  // The store stops answering the fleet query (here: its table vanishes behind its back,
  // done with SQLite's own client): once the snapshot is past its max age nothing is
  // trusted any more.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((v.dir / "verifier.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, "ALTER TABLE nodes RENAME TO nodes_gone", nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  v.now = kNow + 1001;
  json r = v.post("/v1/k8s/filter", body);
  EXPECT_TRUE(r["NodeNames"].empty()) << r.dump();
  EXPECT_EQ(r["FailedNodes"]["worker-1"],
            "bulwark: verdicts unavailable (verifier store unreachable)");
  EXPECT_EQ(v.call("GET", "/v1/verdicts/worker-1", "").status, 503);
  json a = v.post("/v1/k8s/admit", review("admit-binding.json", "worker-1").dump());
  EXPECT_EQ(a["response"]["allowed"], false);
}

}  // namespace
}  // namespace bulwark::server::sched::test
