// SoftAgent (server/verifier/soft_agent.h), the simulated agent of the load tool, the
// appraisal bench and the replica suite: its evidence must pass the real pipeline for
// both AK types, and the pipeline must still catch what it should (a quote answering
// another nonce, a report edited after quoting, a log that does not replay).
#include "server/verifier/soft_agent.h"

#include <gtest/gtest.h>

#include "bulwark/v1/evidence.pb.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

std::vector<std::string> failureCodes(const AppraisalRecord& r) {
  std::vector<std::string> out;
  for (const auto& j : nlohmann::json::parse(r.reasons_json)) {
    if (j.value("kind", "failure") == "failure") out.push_back(j.value("code", ""));
  }
  return out;
}

class SoftAgentTypes : public ::testing::TestWithParam<SoftAkType> {};

TEST_P(SoftAgentTypes, EvidencePassesThePipelineAndTamperingIsCaught) {
  auto a = SoftAgent::create(Fixtures::get().node, GetParam());
  ASSERT_TRUE(a.has_value()) << a.error().toString();
  Env env(pipelineOptions(), &a->akPublic());
  std::vector<attest::BatchEntry> batch = {
      {"runtime-binary", "/usr/bin/runc", sha256(asBytes(std::string_view("runc")))},
      {"host-file", "/etc/os-release", sha256(asBytes(std::string_view("debian")))}};
  ASSERT_TRUE(a->measure(batch).has_value());
  std::vector<ReferenceValue> values;
  for (const auto& e : batch) {
    values.push_back({0, e.kind, e.subject, e.sha256, "manual", ReferenceState::kApproved, env.now,
                      "test", env.now});
  }
  ASSERT_TRUE(env.store->addReferenceValues(values, env.now).has_value());

  struct Case {
    const char* name;
    std::function<std::string(const Bytes& nonce)> make;
    std::vector<std::string> want;  // failure codes; empty = affirming
  };
  const Case cases[] = {
      {"as made", [&](const Bytes& n) { return *a->evidence(n, env.now); }, {}},
      {"quote answers another nonce",
       [&](const Bytes& n) {
         bulwark::v1::Evidence ev;
         ev.ParseFromString(*a->evidence(Bytes(32, 0xee), env.now));
         bulwark::v1::Report r;
         r.ParseFromString(ev.report());
         r.set_nonce(std::string(n.begin(), n.end()));
         ev.set_report(r.SerializeAsString());
         return ev.SerializeAsString();
       },
       {"quote-nonce-mismatch"}},
      {"log record dropped after quoting",
       [&](const Bytes& n) {
         bulwark::v1::Evidence ev;
         ev.ParseFromString(*a->evidence(n, env.now));
         bulwark::v1::Report r;
         r.ParseFromString(ev.report());
         r.mutable_logs(0)->set_content("");
         ev.set_report(r.SerializeAsString());
         return ev.SerializeAsString();
       },
       {"quote-nonce-mismatch"}},
  };
  std::uint8_t k = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes nonce(32, k++);
    env.issue(nonce, a->node());
    env.now += 1000;
    auto out = env.appraiser->attest(env.who(), asBytes(c.make(nonce)));
    ASSERT_TRUE(out.has_value()) << out.error().detail;
    auto codes = failureCodes(out->record);
    if (c.want.empty()) {
      EXPECT_EQ(out->record.status, AppraisalStatus::kAffirming) << out->record.reasons_json;
    } else {
      for (const auto& w : c.want)
        EXPECT_NE(std::find(codes.begin(), codes.end(), w), codes.end())
            << out->record.reasons_json;
    }
  }
}
INSTANTIATE_TEST_SUITE_P(Ak, SoftAgentTypes,
                         ::testing::Values(SoftAkType::kRsa2048, SoftAkType::kEccP256));

}  // namespace
}  // namespace bulwark::server::test
