// The ledger rules of verdict.h: affirming only when every check passed, nothing
// passes by default, a failure can never be undone or read as trust.
#include "server/appraisal/verdict.h"

#include <gtest/gtest.h>

#include "attest/quote/qualifying_data.h"
#include "attest/quote/quote_verifier.h"
#include "server/appraisal/evidence.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server {

struct VerdictTestAccess {
  static NodeProof node() { return {}; }
  static NonceProof nonce() { return {}; }
};

namespace {
using attest::Tier;
using attest::TrustClaim;

// A genuinely verified quote (fixture "good"), the only way to pass the quote check.
attest::VerifiedQuote verifiedQuote() {
  const auto& f = test::Fixtures::get();
  auto ev = parseEvidence(f.evidence("good"));
  EXPECT_TRUE(ev.has_value());
  auto key = attest::AkKey::fromTpm2bPublic(f.ak_public);
  auto verifier = attest::QuoteVerifier::create(*key);
  Bytes qd = attest::qualifyingData(asBytes(ev->report.nonce()), asBytes(ev->report_bytes));
  auto sel = attest::PcrSelection::parse("sha256:15");
  auto verdict = verifier->verify(ev->attest, ev->signature, {qd, &*sel, ev->pcrs});
  EXPECT_TRUE(verdict.has_value() && verdict->verified());
  return *verdict->quote();
}

void passAll(CheckLedger& l, Check except = static_cast<Check>(255)) {
  static const attest::VerifiedQuote q = verifiedQuote();
  if (except != Check::kNode) l.passNode(VerdictTestAccess::node());
  if (except != Check::kNonce) l.passNonce(VerdictTestAccess::nonce());
  if (except != Check::kQuote) l.passQuote(q);
  if (except != Check::kTpmClock) l.passClock();
  if (except != Check::kLogs) l.passLogs();
  if (except != Check::kMeasurements) l.passMeasurements();
  if (except != Check::kImages) l.passImages();
  if (except != Check::kIsolation) l.passIsolation();
}

Reason failure(std::string code, TrustClaim claim, std::int8_t value) {
  Reason r;
  r.code = std::move(code);
  r.claim = claim;
  r.value = value;
  r.detail = "test";
  return r;
}

TEST(Verdict, EmptyLedgerAssertsNothing) {
  Verdict v = conclude(CheckLedger{});
  EXPECT_EQ(v.status(), Tier::kNone);
  EXPECT_FALSE(v.affirming());
  EXPECT_TRUE(v.vector().empty());
  ASSERT_EQ(v.reasons().size(), 1u);
  EXPECT_EQ(v.reasons()[0].code, "appraisal-incomplete");
}

TEST(Verdict, AffirmingNeedsEveryCheck) {
  CheckLedger all;
  passAll(all);
  Verdict v = conclude(all);
  EXPECT_EQ(v.status(), Tier::kAffirming);
  EXPECT_EQ(v.vector().worstTier(), Tier::kAffirming);
  for (std::size_t i = 0; i < kCheckCount; ++i) {
    Check skipped = static_cast<Check>(i);
    SCOPED_TRACE(std::string(checkName(skipped)));
    CheckLedger l;
    passAll(l, skipped);
    Verdict partial = conclude(l);
    EXPECT_FALSE(partial.affirming());
    EXPECT_EQ(partial.status(), Tier::kNone);
  }
}

TEST(Verdict, FailuresStickAndLowerTheirClaim) {
  struct Case {
    Check check;
    Reason reason;
    Tier status;
  };
  const Case cases[] = {
      {Check::kMeasurements, failure("measurement-unknown", TrustClaim::kExecutables, 33),
       Tier::kWarning},
      {Check::kImages, failure("image-denied", TrustClaim::kSourcedData, 96),
       Tier::kContraindicated},
      {Check::kLogs, failure("log-does-not-replay", TrustClaim::kExecutables, 99),
       Tier::kContraindicated},
      // A failure recorded with an affirming value is still a failure (coerced to 99).
      {Check::kIsolation, failure("isolation-violation", TrustClaim::kConfiguration, 2),
       Tier::kContraindicated},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason.code);
    CheckLedger l;
    l.fail(c.check, c.reason);
    passAll(l);  // a later pass() must not undo the failure
    EXPECT_TRUE(l.failed(c.check));
    Verdict v = conclude(l);
    EXPECT_EQ(v.status(), c.status);
    EXPECT_FALSE(v.affirming());
    auto value = v.vector().get(c.reason.claim);
    ASSERT_TRUE(value.has_value());
    EXPECT_NE(attest::tierOf(*value), Tier::kAffirming);
  }
}

TEST(Verdict, ClaimsOfChecksThatDidNotRunStayAbsent) {
  CheckLedger l;
  l.passNode(VerdictTestAccess::node());
  l.passNonce(VerdictTestAccess::nonce());
  l.fail(Check::kQuote, failure("quote-signature-invalid", TrustClaim::kInstanceIdentity, 99));
  Verdict v = conclude(l);
  EXPECT_EQ(v.status(), Tier::kContraindicated);
  EXPECT_EQ(v.vector().get(TrustClaim::kInstanceIdentity), std::optional<std::int8_t>(99));
  for (auto claim : {TrustClaim::kHardware, TrustClaim::kExecutables, TrustClaim::kFileSystem,
                     TrustClaim::kConfiguration, TrustClaim::kSourcedData}) {
    EXPECT_FALSE(v.vector().get(claim).has_value()) << attest::trustClaimName(claim);
  }
}

TEST(Verdict, EventsAndFindingsAreNotFailures) {
  CheckLedger l;
  passAll(l);
  l.event("reboot-detected", "resetCount 4 -> 5");
  Reason f = failure("host-network", TrustClaim::kConfiguration, 96);
  f.container = "web";
  l.finding(f);
  Verdict v = conclude(l);
  EXPECT_TRUE(v.affirming());
  EXPECT_EQ(v.reasons().size(), 2u);
  nlohmann::json j = reasonsToJson(v.reasons());
  EXPECT_EQ(j[0]["kind"], "event");
  EXPECT_EQ(j[1]["kind"], "finding");
  EXPECT_EQ(j[1]["container"], "web");
}

TEST(Verdict, DetailsAreBoundedValidUtf8) {
  CheckLedger l;
  l.fail(Check::kLogs, failure("log-record-invalid", TrustClaim::kFileSystem, 99));
  Reason r = failure("ima-policy-violation", TrustClaim::kFileSystem, 32);
  r.detail = std::string("/bin/\xff\xfe") + std::string(5000, 'a');
  l.fail(Check::kMeasurements, r);
  const Reason& stored = l.reasons().back();
  EXPECT_LE(stored.detail.size(), 1100u);
  EXPECT_NO_THROW((void)nlohmann::json(stored.detail).dump());
}

}  // namespace
}  // namespace bulwark::server
