// Incremental logs on the verifier (server/appraisal/log_copies.h, appraiser_logs.cc):
// evidence from a SoftAgent (software AK, real CEL log and quote) appraised by the real
// Appraiser on SQLite. The fast path (resume from the copy, replay the policy memo)
// must give exactly the verdict a whole-log appraisal gives, never trust what the copy
// does not cover, and answer 409 without using the nonce when it lacks the copy.
#include <gtest/gtest.h>

#include "server/appraisal/log_copies.h"
#include "server/verifier/soft_agent.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

attest::BatchEntry entry(const std::string& kind, const std::string& subject,
                         const std::string& content) {
  return {kind, subject, sha256(asBytes(content))};
}

class IncrementalAppraisal : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = SoftAgent::create(Fixtures::get().node, SoftAkType::kEccP256);
    ASSERT_TRUE(a.has_value()) << a.error().toString();
    agent_.emplace(std::move(*a));
    env_.emplace(pipelineOptions(), &agent_->akPublic());
    for (int i = 0; i < 20; ++i) {
      auto e = entry(i % 2 ? "host-file" : "runtime-binary", "/usr/bin/f" + std::to_string(i),
                     "v1-" + std::to_string(i));
      ASSERT_TRUE(agent_->measure(std::span(&e, 1)).has_value());
      approve(e);
    }
  }

  void approve(const attest::BatchEntry& e) {
    ReferenceValue v{0,       e.kind,   e.subject, e.sha256, "manual", ReferenceState::kApproved,
                     env_->now, "test", env_->now};
    ASSERT_TRUE(env_->store->addReferenceValues(std::span(&v, 1), env_->now).has_value());
  }

  // One attestation with a fresh nonce; the agent takes the answer's cursor.
  ApiResult<AttestOutcome> attest(Appraiser* appraiser = nullptr, bool take_cursor = true) {
    Bytes nonce(32, static_cast<std::uint8_t>(++k_));
    env_->issue(nonce, agent_->node());
    env_->now += 1000;
    auto ev = agent_->evidence(nonce, env_->now);
    EXPECT_TRUE(ev.has_value());
    auto out = (appraiser ? appraiser : env_->appraiser.get())->attest(env_->who(), asBytes(*ev));
    if (out && take_cursor) {
      agent_->useCursor(out->cursor ? out->cursor->offset : 0,
                        out->cursor ? out->cursor->entries : 0);
    }
    return out;
  }

  std::optional<SoftAgent> agent_;
  std::optional<Env> env_;
  int k_ = 0;
};

TEST_F(IncrementalAppraisal, SteadyStateResumesFromTheCopyAndAppendsAreExpanded) {
  auto first = attest();
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_EQ(first->record.status, AppraisalStatus::kAffirming) << first->record.reasons_json;
  ASSERT_TRUE(first->cursor.has_value());
  EXPECT_EQ(first->cursor->offset, agent_->log().size());
  EXPECT_EQ(first->cursor->entries, agent_->logRecords());
  EXPECT_EQ(first->cursor->sha256, sha256(asBytes(agent_->log())));

  for (int i = 0; i < 3; ++i) {
    auto again = attest();
    ASSERT_TRUE(again.has_value()) << again.error().detail;
    EXPECT_EQ(again->record.status, AppraisalStatus::kAffirming) << again->record.reasons_json;
  }
  EXPECT_EQ(env_->appraiser->resumedAppraisals(), 3u);
  EXPECT_EQ(env_->appraiser->expandedAppraisals(), 0u);

  // An unknown file appended: the delta is expanded with the stored copy and judged.
  auto e = entry("host-file", "/etc/new", "new");
  ASSERT_TRUE(agent_->measure(std::span(&e, 1)).has_value());
  auto grown = attest();
  ASSERT_TRUE(grown.has_value()) << grown.error().detail;
  EXPECT_EQ(env_->appraiser->expandedAppraisals(), 1u);
  EXPECT_EQ(grown->record.status, AppraisalStatus::kWarning) << grown->record.reasons_json;
  EXPECT_NE(grown->record.reasons_json.find("measurement-unknown"), std::string::npos);
  ASSERT_TRUE(grown->cursor.has_value());
  EXPECT_EQ(grown->cursor->offset, agent_->log().size());

  // The memo of that verdict is replayed while nothing changes: still not affirming.
  auto steady = attest();
  ASSERT_TRUE(steady.has_value());
  EXPECT_EQ(env_->appraiser->resumedAppraisals(), 4u);
  EXPECT_EQ(steady->record.status, AppraisalStatus::kWarning);
  EXPECT_EQ(steady->record.reasons_json, grown->record.reasons_json);
}

TEST_F(IncrementalAppraisal, FastPathGivesTheWholeLogVerdict) {
  // A file replaced (superseded history) and an unknown one: a verdict with several reasons.
  auto before = entry("host-file", "/etc/changed", "a");
  auto changed = entry("host-file", "/etc/changed", "b");
  auto unknown = entry("runtime-binary", "/usr/bin/unknown", "x");
  ASSERT_TRUE(agent_->measure(std::span(&before, 1)).has_value());
  ASSERT_TRUE(agent_->measure(std::span(&changed, 1)).has_value());
  ASSERT_TRUE(agent_->measure(std::span(&unknown, 1)).has_value());
  approve(changed);
  ASSERT_TRUE(attest().has_value());
  auto fast = attest();
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(env_->appraiser->resumedAppraisals(), 1u);

  // The same state appraised whole by a replica without any cache.
  Appraiser whole(*env_->store, env_->ear_key, pipelineOptions(), [this] { return env_->now; },
                  env_->rng);
  std::uint64_t offset = fast->cursor.value().offset;
  agent_->useCursor(0, 0);
  auto full = attest(&whole, false);
  ASSERT_TRUE(full.has_value()) << full.error().detail;
  EXPECT_EQ(whole.resumedAppraisals(), 0u);
  EXPECT_EQ(full->record.status, fast->record.status);
  EXPECT_EQ(full->record.reasons_json, fast->record.reasons_json);
  EXPECT_EQ(full->record.trust_vector_json, fast->record.trust_vector_json);
  EXPECT_NE(fast->record.reasons_json.find("measurement-superseded-unknown"), std::string::npos);
  EXPECT_NE(fast->record.reasons_json.find("measurement-unknown"), std::string::npos);

  // That replica, asked to resume, reads the copy from the Store.
  agent_->useCursor(offset, fast->cursor.value().entries);
  auto resumed = attest(&whole);
  ASSERT_TRUE(resumed.has_value()) << resumed.error().detail;
  EXPECT_EQ(resumed->record.reasons_json, fast->record.reasons_json);
}

TEST_F(IncrementalAppraisal, APolicyChangeIsNeverAnsweredFromTheMemo) {
  ASSERT_TRUE(attest().has_value());
  auto fast = attest();
  ASSERT_TRUE(fast.has_value());
  ASSERT_EQ(fast->record.status, AppraisalStatus::kAffirming);
  ReferenceFilter f;
  f.subject = "/usr/bin/f3";
  ASSERT_TRUE(env_->store->revokeReferenceValues(f).has_value());
  auto after = attest();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(env_->appraiser->expandedAppraisals(), 1u);
  EXPECT_NE(after->record.reasons_json.find("measurement-revoked"), std::string::npos)
      << after->record.reasons_json;
  // So is an acknowledgment (re-approval) of this node.
  ASSERT_TRUE(env_->store
                  ->acknowledgeMeasurements(agent_->node(),
                                            std::vector<MeasurementDigest>{{"host-file", "/x",
                                                                            Bytes(32, 1)}},
                                            "admin", env_->now)
                  .has_value());
  ASSERT_TRUE(attest().has_value());
  EXPECT_EQ(env_->appraiser->expandedAppraisals(), 2u);
}

TEST_F(IncrementalAppraisal, AnUnknownPrefixIs409AndTheNonceStaysUsable) {
  ASSERT_TRUE(attest().has_value());
  // A record boundary the copy does not end at: just after the log-start record.
  std::size_t second = agent_->log().find('\x1e', 1);
  ASSERT_NE(second, std::string::npos);
  agent_->useCursor(second, 1);
  Bytes nonce(32, 0x77);
  env_->issue(nonce, agent_->node());
  auto ev = agent_->evidence(nonce, env_->now);
  auto refused = env_->appraiser->attest(env_->who(), asBytes(*ev));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().status, 409);
  EXPECT_EQ(refused.error().code, "log-prefix-unknown");
  agent_->useCursor(0, 0);
  auto whole = env_->appraiser->attest(env_->who(), asBytes(*agent_->evidence(nonce, env_->now)));
  ASSERT_TRUE(whole.has_value()) << whole.error().detail;
  EXPECT_EQ(whole->record.status, AppraisalStatus::kAffirming);
}

TEST_F(IncrementalAppraisal, ALogThatDivergedFromTheCopyFailsAndHandsOutNoCursor) {
  ASSERT_TRUE(attest().has_value());
  ASSERT_TRUE(attest().has_value());  // the memo exists: the fast path is armed
  // Two histories from one state: the verifier's copy follows the first, the TPM
  // (whose quote the second agent sends) the second, at the same log offset.
  SoftAgent other = *agent_;
  auto mine = entry("host-file", "/usr/bin/f0", "v9-a");
  auto theirs = entry("host-file", "/usr/bin/f0", "v9-b");
  ASSERT_TRUE(agent_->measure(std::span(&mine, 1)).has_value());
  ASSERT_TRUE(other.measure(std::span(&theirs, 1)).has_value());
  auto advanced = attest();
  ASSERT_TRUE(advanced.has_value());
  ASSERT_EQ(other.log().size(), agent_->log().size());
  std::swap(*agent_, other);
  agent_->useCursor(advanced->cursor.value().offset, advanced->cursor.value().entries);
  auto out = attest();
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_NE(out->record.status, AppraisalStatus::kAffirming);
  EXPECT_NE(out->record.reasons_json.find("log-does-not-replay"), std::string::npos)
      << out->record.reasons_json;
  EXPECT_FALSE(out->cursor.has_value());
}

TEST_F(IncrementalAppraisal, ReappraisalAfterAPolicyChangeUsesTheCopy) {
  ASSERT_TRUE(attest().has_value());
  auto e = entry("host-file", "/etc/later", "later");
  ASSERT_TRUE(agent_->measure(std::span(&e, 1)).has_value());
  auto grown = attest();  // incremental evidence, stored as the node's latest
  ASSERT_TRUE(grown.has_value());
  ASSERT_EQ(grown->record.status, AppraisalStatus::kWarning);
  approve(e);
  auto re = env_->appraiser->reappraise(agent_->node());
  ASSERT_TRUE(re.has_value()) << re.error().detail;
  EXPECT_TRUE(*re);
  auto latest = env_->store->latestAppraisal(agent_->node());
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->status, AppraisalStatus::kAffirming) << latest->reasons_json;
}

TEST_F(IncrementalAppraisal, ARebootStartsANewLogWhole) {
  ASSERT_TRUE(attest().has_value());
  ASSERT_TRUE(attest().has_value());
  agent_->reboot();  // new log, cursor dropped (as the agent does)
  auto e = entry("host-file", "/usr/bin/f1", "v1-1");
  ASSERT_TRUE(agent_->measure(std::span(&e, 1)).has_value());
  auto out = attest();
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_EQ(out->record.status, AppraisalStatus::kAffirming) << out->record.reasons_json;
  ASSERT_TRUE(out->cursor.has_value());
  EXPECT_EQ(out->cursor->entries, 2u);
  EXPECT_EQ(out->cursor->offset, agent_->log().size());
  auto copy = env_->store->logCopy(agent_->node(), true);
  ASSERT_TRUE(copy.has_value());
  ASSERT_TRUE(copy->has_value());
  EXPECT_EQ((*copy)->content, agent_->log());  // the old boot's copy was replaced
  auto steady = attest();
  ASSERT_TRUE(steady.has_value());
  EXPECT_EQ(steady->record.status, AppraisalStatus::kAffirming);
}

TEST_F(IncrementalAppraisal, AReEnrolledNodeStartsAgainFromWholeLogs) {
  ASSERT_TRUE(attest().has_value());
  auto armed = attest();  // cached copy and memo
  ASSERT_TRUE(armed.has_value());
  // A TPM clear: a new AK enrolls for the node; its log is byte-for-byte the old one.
  auto fresh = SoftAgent::create(agent_->node(), SoftAkType::kEccP256);
  ASSERT_TRUE(fresh.has_value());
  for (const auto& e : agent_->measured()) ASSERT_TRUE(fresh->measure(std::span(&e, 1)).has_value());
  ASSERT_EQ(fresh->log(), agent_->log());
  env_->enroll(agent_->node(), fresh->akPublic());
  agent_.emplace(std::move(*fresh));
  agent_->useCursor(armed->cursor.value().offset, armed->cursor.value().entries);
  auto refused = attest(nullptr, false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, "log-prefix-unknown");
  agent_->useCursor(0, 0);
  auto whole = attest();
  ASSERT_TRUE(whole.has_value()) << whole.error().detail;
  EXPECT_EQ(whole->record.status, AppraisalStatus::kAffirming) << whole->record.reasons_json;
}

TEST(LogCopies, ChainsRoundTripAndBadRowsAreErrors) {
  std::map<std::uint32_t, Bytes> chain{{15, Bytes(32, 0xab)}, {16, Bytes(32, 1)}};
  LogCopy c;
  c.source = "/x";
  c.bank = "sha256";
  c.chain = formatChain(chain);
  c.bytes = 10;
  c.entries = 2;
  auto st = copyStateOf(c);
  ASSERT_TRUE(st.has_value()) << st.error().toString();
  EXPECT_EQ(st->chain, chain);
  for (const std::string& bad : std::vector<std::string>{"15", "x=00", "15=zz", "24=" + std::string(64, '0'), "15=00"}) {
    c.chain = bad;
    EXPECT_FALSE(copyStateOf(c).has_value()) << bad;
  }
  c.chain = formatChain(chain);
  c.bank = "md5";
  EXPECT_FALSE(copyStateOf(c).has_value());
}

}  // namespace
}  // namespace bulwark::server::test
