// Pure parts of server/sched: Go-style key lookup, stored reasons as sentences, the
// trust decision and score, and the VerdictCache refresh/age rules with an injected
// clock and loader.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "server/sched/json_keys.h"
#include "server/sched/stored_reasons.h"
#include "server/sched/verdict_cache.h"
#include "tests/unit/sched/sched_fleet.h"

namespace bulwark::server::sched::test {
namespace {

using nlohmann::json;

TEST(SchedJsonKeys, FindsAnySpellingAndRefusesTwo) {
  json doc = json::parse(R"({"NodeNames":1,"pod":2,"nOdEs":3,"Error":4,"error":5})");
  struct Case {
    std::string key;
    std::optional<int> want;  // nullopt: absent
    bool ambiguous;
  };
  const Case cases[] = {{"NodeNames", 1, false},
                        {"nodenames", 1, false},
                        {"Pod", 2, false},
                        {"Nodes", 3, false},
                        {"Node", std::nullopt, false},
                        {"Error", {}, true},
                        {"NodeNamesX", std::nullopt, false}};
  for (const Case& c : cases) {
    auto r = findKey(doc, c.key);
    ASSERT_EQ(r.has_value(), !c.ambiguous) << c.key;
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
      continue;
    }
    ASSERT_EQ(*r != nullptr, c.want.has_value()) << c.key;
    if (c.want) {
      EXPECT_EQ(**r, *c.want) << c.key;
    }
  }
  EXPECT_EQ(*findKey(json::array(), "x"), nullptr);
  EXPECT_EQ(*stringMember(json::parse(R"({"Name":null})"), "name"), "");
  EXPECT_FALSE(stringMember(json::parse(R"({"Name":[]})"), "name").has_value());
}

TEST(SchedReasons, SentencesFromStoredReasons) {
  struct Case {
    std::string json;
    AppraisalStatus status;
    std::string sentence;
    int findings;
  };
  const Case cases[] = {
      {"[]", AppraisalStatus::kAffirming, "", 0},
      {std::string(kRuncFailure), AppraisalStatus::kContraindicated,
       "runtime binary /usr/bin/runc not in reference values (+1 more)", 0},
      {std::string(kTwoFindings), AppraisalStatus::kAffirming, "", 2},
      {R"([{"kind":"failure","code":"measurement-revoked","detail":"kernel /boot/vmlinuz 6.1 sha256:00 matches only revoked reference values"}])",
       AppraisalStatus::kContraindicated,
       "kernel /boot/vmlinuz 6.1 matches only revoked reference values", 0},
      {R"([{"kind":"failure","code":"pcr-digest-mismatch","detail":"PCR 15"}])",
       AppraisalStatus::kContraindicated, "pcr-digest-mismatch: PCR 15", 0},
      {R"([{"kind":"failure","code":"measurement-unknown","detail":"no digest here"}])",
       AppraisalStatus::kWarning, "measurement-unknown: no digest here", 0},
      {"not json", AppraisalStatus::kWarning, "last appraisal warning", 0},
      {R"([{"reason":"pcr_mismatch","pcr":15}])", AppraisalStatus::kContraindicated, "",
       0},  // an object without kind counts as a failure without words
      {R"([1,"x",null])", AppraisalStatus::kNone, "last appraisal none", 0},
      // The most severe container finding is named first, integrity failures before any.
      {R"([{"kind":"failure","code":"isolation-violation","container":"c","severity":"high","detail":"cap"},)"
       R"({"kind":"failure","code":"isolation-violation","container":"c","severity":"critical","detail":"privileged"}])",
       AppraisalStatus::kContraindicated, "isolation-violation: privileged (+1 more)", 0},
      {R"([{"kind":"failure","code":"isolation-violation","container":"c","severity":"critical","detail":"privileged"},)"
       R"({"kind":"failure","code":"measurement-unknown","detail":"runtime-binary /usr/bin/runc sha256:00 has no approved reference value"}])",
       AppraisalStatus::kContraindicated,
       "runtime binary /usr/bin/runc not in reference values (+1 more)", 0},
      {R"([{"kind":"failure","code":"measurement-superseded-unknown","detail":"host-file /usr/sbin/runc was sha256:aa earlier this boot, now sha256:bb: a modified file was measured"}])",
       AppraisalStatus::kWarning,
       "host file /usr/sbin/runc was modified earlier this boot (node needs re-approval)", 0},
  };
  for (const Case& c : cases) {
    StoredReasons r = summarizeReasons(c.json, c.status);
    EXPECT_EQ(r.sentence, c.sentence) << c.json;
    EXPECT_EQ(r.findings, c.findings) << c.json;
  }
  // Long details are clipped on a UTF-8 boundary.
  std::string detail = "runtime-binary /" + std::string(kMaxDetail, 'a') + "\xc3\xa9 sha256:00 x";
  json one =
      json::array({{{"kind", "failure"}, {"code", "measurement-unknown"}, {"detail", detail}}});
  std::string s = summarizeReasons(one.dump(), AppraisalStatus::kContraindicated).sentence;
  EXPECT_TRUE(s.starts_with("runtime binary /aaa")) << s;
  EXPECT_NE(s.find("... not in reference values"), std::string::npos) << s;
  EXPECT_NO_THROW((void)json(s).dump());
}

FleetEntry entry(const std::string& name, NodeState state, std::optional<AppraisalSummary> latest) {
  FleetEntry e;
  e.node.name = name;
  e.node.state = state;
  e.latest = std::move(latest);
  return e;
}

AppraisalSummary summary(std::int64_t id, Millis at, Millis until, std::string reasons = "[]") {
  return {id, at, AppraisalStatus::kAffirming, std::move(reasons), until, 1};
}

TEST(SchedDecision, TrustScoreAndReasonsAtTheTimeAsked) {
  std::vector<FleetEntry> fleet = {
      entry("a", NodeState::kTrusted, summary(1, 0, 600'000)),
      entry("b", NodeState::kTrusted, summary(2, 0, 600'000, std::string(kTwoFindings))),
      entry("c", NodeState::kTrusted, std::nullopt),
      entry("d", NodeState::kTrusted, summary(3, 0, 0)),  // zero TTL: never fresh
  };
  auto snap = VerdictSnapshot::build(fleet, 0);
  struct Case {
    std::string node;
    Millis now;
    Trust trust;
    std::int64_t score;
    std::string reason;
  };
  const Case cases[] = {
      {"a", 0, Trust::kTrusted, 10, "bulwark: trusted, last attestation 0 s ago, fresh for 600 s"},
      {"a", 300'000, Trust::kTrusted, 8,
       "bulwark: trusted, last attestation 300 s ago, fresh for 300 s"},
      {"a", 599'999, Trust::kTrusted, 5,
       "bulwark: trusted, last attestation 599 s ago, fresh for 0 s"},
      {"a", 600'000, Trust::kStale, 0, "bulwark: stale, last attestation 600 s ago"},
      {"b", 0, Trust::kTrusted, 8, "bulwark: trusted, last attestation 0 s ago, fresh for 600 s"},
      {"b", 599'999, Trust::kTrusted, 3,
       "bulwark: trusted, last attestation 599 s ago, fresh for 0 s"},
      {"c", 0, Trust::kStale, 0, "bulwark: stale, no attestation"},
      {"d", 0, Trust::kStale, 0, "bulwark: stale, last attestation 0 s ago"},
      {"e", 0, Trust::kUnknown, 0, "bulwark: unknown node (never enrolled)"},
  };
  for (const Case& c : cases) {
    const NodeVerdict* v = snap->find(c.node);
    Decision d = decide(v, c.now);
    EXPECT_EQ(d.trust, c.trust) << c.node << "@" << c.now;
    EXPECT_EQ(trustScore(v, d, c.now), c.score) << c.node << "@" << c.now;
    EXPECT_EQ(reasonText(v, d, c.now), c.reason);
  }
  EXPECT_EQ(decide(nullptr, "a", 0).trust, Trust::kUnavailable);
  EXPECT_EQ(nodeMessage("a", nullptr, {Trust::kUnavailable, {}}, 0),
            "bulwark: node a is not verifiable now (verifier store unreachable)");
}

TEST(SchedDecision, SnapshotReusesRenderedReasonsOfTheSameVerdict) {
  std::vector<FleetEntry> fleet = {entry(
      "x", NodeState::kUntrusted,
      AppraisalSummary{7, 0, AppraisalStatus::kContraindicated, std::string(kRuncFailure), 1, 1})};
  auto first = VerdictSnapshot::build(fleet, 0);
  fleet[0].latest->reasons_json = "[]";  // same id: not re-read
  auto second = VerdictSnapshot::build(fleet, 1, first.get());
  EXPECT_EQ(second->find("x")->untrusted_detail, first->find("x")->untrusted_detail);
  fleet[0].latest->id = 8;  // a new verdict is read
  auto third = VerdictSnapshot::build(fleet, 2, second.get());
  EXPECT_EQ(third->find("x")->untrusted_detail, "last appraisal contraindicated");
}

struct FakeFleet {
  std::atomic<int> calls{0};
  std::atomic<bool> down{false};
  std::atomic<int> delay_ms{0};
  VerdictCache::Loader loader() {
    return [this]() -> Result<std::vector<FleetEntry>> {
      ++calls;
      if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
      if (down) return fail(ErrorCode::kUnavailable, "database unavailable");
      return std::vector<FleetEntry>{
          entry("n" + std::to_string(calls.load()), NodeState::kTrusted, summary(calls, 0, 1))};
    };
  }
};

TEST(SchedCache, InlineReloadPastRefreshAfterWithoutBackground) {
  FakeFleet f;
  std::atomic<Millis> now{1000};
  VerdictCache cache(f.loader(), [&] { return now.load(); }, {250, 1000, false});
  ASSERT_TRUE(cache.current().has_value());
  EXPECT_EQ(f.calls, 1);
  now = 1250;  // exactly refresh_after: still served
  EXPECT_EQ((*cache.current())->loadedAt(), 1000);
  now = 1251;
  EXPECT_EQ((*cache.current())->loadedAt(), 1251);
  EXPECT_EQ(f.calls, 2);
  now = 1000;  // the clock went backwards: reload
  EXPECT_EQ((*cache.current())->loadedAt(), 1000);
  EXPECT_EQ(f.calls, 3);
}

TEST(SchedCache, NeverServesPastMaxAgeAndFailsClosed) {
  FakeFleet f;
  std::atomic<Millis> now{0};
  VerdictCache cache(f.loader(), [&] { return now.load(); }, {250, 1000, true});
  ASSERT_TRUE(cache.current().has_value());
  f.down = true;
  now = 600;  // stale-while-revalidate: old snapshot served, background reload fails
  auto served = cache.current();
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ((*served)->loadedAt(), 0);
  for (int i = 0; i < 2500 && f.calls < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(f.calls, 2);
  now = 1001;  // past max age: inline reload, which fails
  auto r = cache.current();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(f.calls, 3);
  // Within refresh_after of that failure the answer is the failure, without a query.
  f.down = false;
  EXPECT_FALSE(cache.current().has_value());
  now = 1250;
  EXPECT_FALSE(cache.current().has_value());
  EXPECT_EQ(f.calls, 3);
  now = 1251;
  EXPECT_TRUE(cache.current().has_value());
  EXPECT_EQ(f.calls, 4);
}

TEST(SchedCache, BackgroundReloadReplacesTheSnapshot) {
  FakeFleet f;
  std::atomic<Millis> now{0};
  VerdictCache cache(f.loader(), [&] { return now.load(); }, {250, 1000, true});
  ASSERT_TRUE(cache.current().has_value());
  now = 300;
  EXPECT_EQ((*cache.current())->loadedAt(), 0);          // served at once, reload kicked
  for (int i = 0; i < 2500 && cache.loads() < 2; ++i) {  // up to 5 s on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(cache.loads(), 2u);
  EXPECT_EQ((*cache.current())->loadedAt(), 300);
}

TEST(SchedCache, ConcurrentRequestsShareOneInlineLoad) {
  FakeFleet f;
  f.delay_ms = 50;
  std::atomic<Millis> now{0};
  VerdictCache cache(f.loader(), [&] { return now.load(); }, {250, 1000, true});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ok += cache.current().has_value() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(f.calls, 1);  // single flight: the others waited for it
}

}  // namespace
}  // namespace bulwark::server::sched::test
