// Store suite, part 5: one-transaction attestations (recordAttestation, checkNonce) and
// verified log copies (LogCopy, docs/api.md "Incremental logs"). Included by store_suite.h.
#pragma once

#include "tests/unit/store/store_suite_attest.h"

namespace bulwark::server::testing {

inline LogCopy copyFor(const std::string& node, const std::string& content, Millis at = 0) {
  LogCopy c;
  c.node = node;
  c.source = "/var/lib/bulwark/measure.log";
  c.reset_count = 1;
  c.entries = 3;
  c.bytes = static_cast<std::int64_t>(content.size());
  c.sha256 = sha256(asBytes(content));
  c.bank = "sha256";
  c.chain = "15=" + std::string(64, 'a');
  c.content = content;
  c.updated_at = at;
  return c;
}

TYPED_TEST_P(StoreSuite, AttestationConsumesStoresAndIssuesInOneTransaction) {
  Store& s = *this->store_;
  this->enroll("node-a");
  NonceRecord used = nonceFor("node-a", 1);
  ASSERT_OK(s.issueNonce(used));
  auto checked = s.checkNonce("node-a", used.value, 2000);  // checking does not consume
  ASSERT_OK(checked);
  EXPECT_TRUE(checked->has_value());
  ASSERT_TRUE(s.checkNonce("node-a", used.value, 2000)->has_value());
  EXPECT_EQ(rejection(s.checkNonce("node-b", used.value, 2000)), NonceRejection::kForeign);

  Bytes evidence = pattern(512, 3);
  AppraisalRecord a = appraisalFor("node-a", 3000, AppraisalStatus::kAffirming);
  a.evidence_digest = sha256(evidence);
  LogCopy copy = copyFor("node-a", std::string(300, 'x'));
  NonceRecord next = nonceFor("node-a", 2, 3000);
  auto r = s.recordAttestation(used.value, 3000, a, evidence, &copy, next);
  ASSERT_OK(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_GT((*r)->id, 0);
  EXPECT_EQ(rejection(s.checkNonce("node-a", used.value, 3001)), NonceRejection::kReplayed);
  EXPECT_TRUE(s.checkNonce("node-a", next.value, 3001)->has_value());
  EXPECT_EQ(s.latestEvidence("node-a")->bytes, evidence);
  auto stored = s.logCopy("node-a", true);
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->content, copy.content);
  EXPECT_EQ((*stored)->chain, copy.chain);
  EXPECT_EQ((*stored)->entries, 3);
  EXPECT_EQ((*stored)->updated_at, 3000);
  EXPECT_TRUE((*s.logCopy("node-a", false))->content.empty());

  // The same nonce again: refused, and nothing of it is stored.
  AppraisalRecord again = appraisalFor("node-a", 4000, AppraisalStatus::kContraindicated);
  again.evidence_digest = sha256(evidence);
  LogCopy grown = copyFor("node-a", std::string(400, 'y'));
  NonceRecord next2 = nonceFor("node-a", 3, 4000);
  auto replay = s.recordAttestation(used.value, 4000, again, evidence, &grown, next2);
  ASSERT_OK(replay);
  ASSERT_FALSE(replay->has_value());
  EXPECT_EQ(replay->error(), NonceRejection::kReplayed);
  EXPECT_EQ(s.latestAppraisal("node-a")->id, (*r)->id);
  EXPECT_EQ((*s.logCopy("node-a", true))->content, copy.content);
  EXPECT_EQ(rejection(s.checkNonce("node-a", next2.value, 4001)), NonceRejection::kUnknown);
}

TYPED_TEST_P(StoreSuite, BadLogCopiesStoreNothingAndKeepTheNonce) {
  Store& s = *this->store_;
  this->enroll("node-a");
  this->enroll("node-b");
  NonceRecord used = nonceFor("node-a", 1);
  ASSERT_OK(s.issueNonce(used));
  Bytes evidence = pattern(64, 1);
  AppraisalRecord a = appraisalFor("node-a", 3000, AppraisalStatus::kAffirming);
  a.evidence_digest = sha256(evidence);
  LogCopy digest = copyFor("node-a", "abc");
  digest.sha256 = sha256(asBytes(std::string_view("abd")));
  LogCopy length = copyFor("node-a", "abc");
  length.bytes = 4;
  LogCopy foreign = copyFor("node-b", "abc");
  LogCopy chainless = copyFor("node-a", "abc");
  chainless.bank = "";
  for (const LogCopy& bad : {digest, length, foreign, chainless}) {
    auto r = s.recordAttestation(used.value, 3000, a, evidence, &bad,
                                 nonceFor("node-a", 2, 3000));
    EXPECT_FALSE(r.has_value());
  }
  EXPECT_TRUE(s.checkNonce("node-a", used.value, 3001)->has_value());
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM appraisals"), 0);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM log_copies"), 0);
}

TYPED_TEST_P(StoreSuite, LogCopiesAreReplacedAndGoWithTheTpm) {
  Store& s = *this->store_;
  this->enroll("node-a");
  LogCopy first = copyFor("node-a", "first");
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 2000, AppraisalStatus::kAffirming), std::nullopt,
                              &first));
  LogCopy second = copyFor("node-a", "first and second");
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 3000, AppraisalStatus::kAffirming), std::nullopt,
                              &second));
  // A late write of an older state does not move the copy back.
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 2500, AppraisalStatus::kAffirming), std::nullopt,
                              &first));
  auto stored = s.logCopy("node-a", true);
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->content, "first and second");
  // One copy per node: a log of another source replaces it.
  LogCopy other = copyFor("node-a", "other log");
  other.source = "/run/other.log";
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 4000, AppraisalStatus::kAffirming), std::nullopt,
                              &other));
  EXPECT_EQ((*s.logCopy("node-a", true))->source, "/run/other.log");
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM log_copies"), 1);
  EXPECT_FALSE(s.logCopy("ghost", false)->has_value());
  this->enroll("node-a", 9000);  // re-enrollment: a new TPM key, the copy is gone
  EXPECT_FALSE(s.logCopy("node-a", false)->has_value());
}

}  // namespace bulwark::server::testing
