// IMA appraisal: continuing a saved replay, a list that runs ahead of the quote,
// and the separation of "does not replay" from policy findings.
#include "attest/ima/ima_appraisal.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/ima/ima_testdata.h"

namespace bulwark::attest::ima {
namespace {

ImaPcrs quotedAfter(const std::string& text, std::size_t lines) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < lines; ++i) pos = text.find('\n', pos) + 1;
  auto log = parseImaLog(text.substr(0, pos), {HashAlg::kSha256});
  EXPECT_TRUE(log.has_value());
  return {{HashAlg::kSha256, {{10, log->state.pcrs.at(HashAlg::kSha256).at(10)}}}};
}

TEST(ImaAppraisal, ListAheadOfTheQuoteAdvancesOnlyToTheMatch) {
  std::string text = realLog();
  ImaPolicy allow_all;
  allow_all.excludes = {"*"};
  // First round: quote after 300 entries, agent sent the whole list.
  auto first = appraiseIma({}, text, quotedAfter(text, 300), allow_all);
  ASSERT_EQ(first.outcome, ImaOutcome::kAffirming) << first.detail;
  EXPECT_EQ(first.state.entries, 300u);
  EXPECT_EQ(first.entries.size(), 300u);
  // Second round: the agent sends from the saved offset; quote covers everything.
  auto second = appraiseIma(first.state, std::string_view(text).substr(first.state.offset), quotedAfter(text, 826), allow_all);
  ASSERT_EQ(second.outcome, ImaOutcome::kAffirming) << second.detail;
  EXPECT_EQ(second.state.entries, 826u);
  EXPECT_EQ(second.state.offset, text.size());
  EXPECT_EQ(second.entries.front().index, 300u);
}

TEST(ImaAppraisal, OutcomesKeepReplayAndPolicyApart) {
  std::string text = realLog();
  ImaPolicy strict;  // empty allowlist: every file is unknown
  auto findings = appraiseIma({}, text, quotedAfter(text, 5), strict);
  EXPECT_EQ(findings.outcome, ImaOutcome::kPolicyFindings);
  EXPECT_EQ(findings.findings.size(), 5u);

  ImaPcrs wrong = quotedAfter(text, 5);
  wrong[HashAlg::kSha256][10][0] ^= 1;
  auto no_replay = appraiseIma({}, text, wrong, strict);
  EXPECT_EQ(no_replay.outcome, ImaOutcome::kDoesNotReplay);
  EXPECT_EQ(no_replay.state.entries, 0u);
  EXPECT_TRUE(no_replay.findings.empty());

  auto malformed = appraiseIma({}, "10 zz ima-ng\n", quotedAfter(text, 1), strict);
  EXPECT_EQ(malformed.outcome, ImaOutcome::kMalformed);
  EXPECT_EQ(appraiseIma({}, text, {}, strict).outcome, ImaOutcome::kDoesNotReplay);

  // A tampered line that still replays (sha1 bank from the logged hash) is a finding.
  std::string tampered = text;
  tampered[tampered.find("/bin/sh") + 5] = 'z';
  auto log = parseImaLog(text, {HashAlg::kSha1});
  ImaPcrs sha1 = {{HashAlg::kSha1, {{10, log->state.pcrs.at(HashAlg::kSha1).at(10)}}}};
  ImaPolicy all;
  all.excludes = {"*"};
  auto t = appraiseIma({}, tampered, sha1, all);
  ASSERT_EQ(t.outcome, ImaOutcome::kPolicyFindings);
  EXPECT_EQ(t.findings[0].kind, ImaFindingKind::kTemplateHashMismatch);
  // The sha256 bank is recomputed from the template data, so there it cannot replay.
  EXPECT_EQ(appraiseIma({}, tampered, quotedAfter(text, 826), all).outcome, ImaOutcome::kDoesNotReplay);
}

}  // namespace
}  // namespace bulwark::attest::ima
