// The appraisal pipeline on real swtpm quotes (tests/testdata/appraisal): every
// reason of docs/api.md reached by its own case, each through Appraiser::attest with
// a real SqliteStore, and what was (or was not) stored checked afterwards.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "attest/ear/ear.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

using nlohmann::json;

std::set<std::string> failureCodes(const Verdict& v) {
  std::set<std::string> out;
  for (const Reason& r : v.reasons()) {
    if (r.kind == ReasonKind::kFailure) out.insert(r.code);
  }
  return out;
}

std::set<std::string> eventCodes(const Verdict& v) {
  std::set<std::string> out;
  for (const Reason& r : v.reasons()) {
    if (r.kind == ReasonKind::kEvent) out.insert(r.code);
  }
  return out;
}

// Re-serializes fixture `name` after `edit` changed it (the quote stays as the TPM made it).
Bytes edited(const std::string& name,
             const std::function<void(bulwark::v1::Evidence&, bulwark::v1::Report&)>& edit) {
  bulwark::v1::Evidence ev;
  Bytes raw = Fixtures::get().evidence(name);
  EXPECT_TRUE(ev.ParseFromArray(raw.data(), static_cast<int>(raw.size())));
  bulwark::v1::Report report;
  EXPECT_TRUE(report.ParseFromString(ev.report()));
  edit(ev, report);
  ev.set_report(report.SerializeAsString());
  std::string out = ev.SerializeAsString();
  return Bytes(out.begin(), out.end());
}

struct Case {
  std::string what;
  std::string fixture;
  std::function<void(Env&)> setup;  // policy, extra nodes, ...
  std::function<Bytes()> evidence;  // default: the fixture bytes
  AppraiserOptions options = Env::defaultOptions();
  attest::Tier status;
  std::set<std::string> codes;  // failure codes that must all be present
};

std::vector<Case> verdictCases() {
  auto approveGood = [](Env& e) {
    e.approveFrom("good");
    e.allowImages();
  };
  std::vector<Case> cases = {
      {"everything approved",
       "good",
       approveGood,
       {},
       Env::defaultOptions(),
       attest::Tier::kAffirming,
       {}},
      {"binaries and files unknown",
       "good",
       [](Env& e) { e.allowImages(); },
       {},
       Env::defaultOptions(),
       attest::Tier::kWarning,
       {"measurement-unknown"}},
      {"image not allowed",
       "good",
       [](Env& e) { e.approveFrom("good"); },
       {},
       Env::defaultOptions(),
       attest::Tier::kWarning,
       {"image-not-allowed"}},
      {"image denied by digest",
       "good",
       [approveGood](Env& e) {
         approveGood(e);
         ImageRule deny{0, ImageRuleKind::kDenyDigest,
                        "sha256:" + toHex(sha256(asBytes(std::string_view("alpine image")))), e.now,
                        "test"};
         ASSERT_TRUE(e.store->addImageRule(deny).has_value());
       },
       {},
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"image-denied"}},
      {"only a revoked value matches",
       "good",
       [approveGood](Env& e) {
         approveGood(e);
         ReferenceFilter runc;
         runc.subject = "/usr/bin/runc";
         ASSERT_TRUE(e.store->revokeReferenceValues(runc).has_value());
       },
       {},
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"measurement-revoked"}},
      {"reported measurement missing from the log",
       "not-in-log",
       [approveGood](Env& e) {
         approveGood(e);
         e.approveFrom("not-in-log");
       },
       {},
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"measurement-not-in-log"}},
      {"sha1 bank quoted when sha256 asked (downgrade)",
       "sha1-bank",
       approveGood,
       {},
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"pcr-bank-mismatch"}},
      {"log does not replay to the quoted PCR",
       "log-incomplete",
       [approveGood](Env& e) {
         approveGood(e);
         e.approveFrom("good2");
       },
       {},
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"log-does-not-replay"}},
      {"Bulwark record digest does not match its content",
       "record-invalid",
       [approveGood](Env& e) {
         approveGood(e);
         e.approveFrom("record-invalid");
       },
       {},
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"log-record-invalid"}},
      {"critical isolation finding",
       "critical-finding",
       approveGood,
       {},
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"isolation-violation"}},
      {"report edited after quoting (hash not in quote)",
       "good",
       approveGood,
       [] {
         return edited("good", [](bulwark::v1::Evidence&, bulwark::v1::Report& r) {
           r.set_created_unix_ms(r.created_unix_ms() + 1);
         });
       },
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"quote-nonce-mismatch"}},
      {"PCR value tampered",
       "good",
       approveGood,
       [] {
         return edited("good", [](bulwark::v1::Evidence& ev, bulwark::v1::Report&) {
           std::string d = ev.quote().pcrs(0).pcrs(0).digest();
           d[0] = static_cast<char>(d[0] ^ 1);
           ev.mutable_quote()->mutable_pcrs(0)->mutable_pcrs(0)->set_digest(d);
         });
       },
       Env::defaultOptions(),
       attest::Tier::kContraindicated,
       {"pcr-digest-mismatch"}},
      {"quote of fewer PCRs than asked",
       "good",
       approveGood,
       {},
       Env::defaultOptions("sha256:10,15"),
       attest::Tier::kContraindicated,
       {"pcr-selection-mismatch"}},
      {"IMA list replays to PCR 10",
       "ima",
       [](Env& e) {
         e.approveFrom("ima");
         e.allowImages();
       },
       {},
       Env::defaultOptions("sha256:10,15"),
       attest::Tier::kAffirming,
       {}},
  };
  Case wrong_pcr{"report measures another PCR than the verifier",
                 "good",
                 approveGood,
                 {},
                 Env::defaultOptions(),
                 attest::Tier::kContraindicated,
                 {"measurement-pcr-mismatch"}};
  wrong_pcr.options.measurement_pcr = 14;
  cases.push_back(wrong_pcr);
  Case allowed{"critical finding allowed by the group's profile",
               "critical-finding",
               approveGood,
               {},
               Env::defaultOptions(),
               attest::Tier::kAffirming,
               {}};
  allowed.options.profiles["default"].allow = {"privileged"};
  cases.push_back(allowed);
  Case strict_ima{"IMA entries outside an allowlist",
                  "ima",
                  [](Env& e) {
                    e.approveFrom("ima");
                    e.allowImages();
                  },
                  {},
                  Env::defaultOptions("sha256:10,15"),
                  attest::Tier::kWarning,
                  {"ima-policy-violation"}};
  strict_ima.options.ima_policy = attest::ima::ImaPolicy{};
  cases.push_back(strict_ima);
  return cases;
}

TEST(Pipeline, EveryVerdictReasonOnRealQuotes) {
  for (const Case& c : verdictCases()) {
    SCOPED_TRACE(c.what);
    Env env(c.options);
    if (c.setup) c.setup(env);
    const Fixtures& f = Fixtures::get();
    env.issue(f.nonce(c.fixture), f.node);
    Bytes evidence = c.evidence ? c.evidence() : f.evidence(c.fixture);
    auto out = env.appraiser->attest(env.who(), evidence);
    ASSERT_TRUE(out.has_value()) << out.error().code << ": " << out.error().detail;
    EXPECT_EQ(out->verdict.status(), c.status) << json::parse(out->record.reasons_json).dump(1);
    std::set<std::string> got = failureCodes(out->verdict);
    for (const std::string& code : c.codes)
      EXPECT_TRUE(got.count(code)) << code << " missing; got " << out->record.reasons_json;
    if (c.status == attest::Tier::kAffirming) {
      EXPECT_TRUE(got.empty()) << out->record.reasons_json;
    }
    // Stored, as the node's latest verdict, with an EAR that says the same.
    auto latest = env.store->latestAppraisal(f.node);
    ASSERT_TRUE(latest.has_value());
    EXPECT_EQ(latest->id, out->record.id);
    EXPECT_EQ(latest->status, toAppraisalStatus(c.status));
    auto node = env.store->getNode(f.node);
    ASSERT_TRUE(node.has_value());
    EXPECT_EQ(node->state,
              c.status == attest::Tier::kAffirming ? NodeState::kTrusted : NodeState::kUntrusted);
    auto ear = attest::verifyEar(out->record.ear, env.ear_key.get(), {env.now / 1000, 0});
    ASSERT_TRUE(ear.has_value()) << ear.error().toString();
    EXPECT_EQ(ear->submods.at(f.node).status, c.status);
    EXPECT_EQ(ear->exp, (env.now + 600000) / 1000);
    EXPECT_EQ(out->next.nonce.size(), 32u);
  }
}

TEST(Pipeline, AffirmingVerdictAssertsEveryClaimAndMovesTheBaseline) {
  Env env;
  env.approveFrom("good");
  env.allowImages();
  const Fixtures& f = Fixtures::get();
  env.issue(f.nonce("good"), f.node);
  auto out = env.appraiser->attest(env.who(), f.evidence("good"));
  ASSERT_TRUE(out.has_value());
  for (auto claim : {attest::TrustClaim::kInstanceIdentity, attest::TrustClaim::kHardware,
                     attest::TrustClaim::kExecutables, attest::TrustClaim::kFileSystem,
                     attest::TrustClaim::kConfiguration, attest::TrustClaim::kSourcedData}) {
    EXPECT_EQ(out->verdict.vector().get(claim), std::optional<std::int8_t>(2))
        << attest::trustClaimName(claim);
  }
  auto node = env.store->getNode(f.node);
  ASSERT_TRUE(node.has_value());
  EXPECT_TRUE(node->reset_count.has_value() && node->clock.has_value());
  // The medium finding is recorded, not a violation.
  json reasons = json::parse(out->record.reasons_json);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0]["kind"], "finding");
  EXPECT_EQ(reasons[0]["container"], "web");
}

TEST(Pipeline, QuoteByAnotherAkIsRejected) {
  // Enrolled with a different (real, tpm2-tools made) RSA AK than the one that quoted.
  auto other = readText(sourceDir() + "/tests/testdata/quote/rsa.ak.pub");
  Bytes other_ak(other.begin(), other.end());
  Env env(Env::defaultOptions(), &other_ak);
  env.approveFrom("good");
  env.allowImages();
  const Fixtures& f = Fixtures::get();
  env.issue(f.nonce("good"), f.node);
  auto out = env.appraiser->attest(env.who(), f.evidence("good"));
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_EQ(out->verdict.status(), attest::Tier::kContraindicated);
  EXPECT_TRUE(failureCodes(out->verdict).count("quote-signature-invalid"))
      << out->record.reasons_json;
  EXPECT_EQ(out->verdict.vector().get(attest::TrustClaim::kInstanceIdentity),
            std::optional<std::int8_t>(99));
  // An unauthenticated quote never sets the TPM counter baseline.
  auto node = env.store->getNode(f.node);
  ASSERT_TRUE(node.has_value());
  EXPECT_FALSE(node->reset_count.has_value());
}

struct ClockCase {
  std::string what;
  std::string first, second;
  attest::Tier status;
  std::string failure;  // expected failure code of the second appraisal, or ""
  std::string event;    // expected event of the second appraisal, or ""
};

TEST(Pipeline, TpmClockAndRebootChecks) {
  const ClockCase cases[] = {
      {"clock forward", "good", "good2", attest::Tier::kAffirming, "", ""},
      {"clock backwards without a reset", "good2", "good", attest::Tier::kContraindicated,
       "tpm-clock-rollback", ""},
      {"reboot is an event", "good", "after-reboot", attest::Tier::kAffirming, "",
       "reboot-detected"},
      {"resetCount going back", "after-reboot", "good", attest::Tier::kContraindicated,
       "tpm-reset-count-decreased", ""},
  };
  const Fixtures& f = Fixtures::get();
  for (const ClockCase& c : cases) {
    SCOPED_TRACE(c.what);
    Env env;
    env.approveFrom("good");
    env.approveFrom("good2");
    env.allowImages();
    env.issue(f.nonce(c.first), f.node);
    env.issue(f.nonce(c.second), f.node);
    auto a = env.appraiser->attest(env.who(), f.evidence(c.first));
    ASSERT_TRUE(a.has_value());
    ASSERT_TRUE(a->verdict.affirming()) << a->record.reasons_json;
    auto b = env.appraiser->attest(env.who(), f.evidence(c.second));
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->verdict.status(), c.status) << b->record.reasons_json;
    if (!c.failure.empty()) {
      EXPECT_TRUE(failureCodes(b->verdict).count(c.failure)) << b->record.reasons_json;
    }
    if (!c.event.empty()) {
      EXPECT_TRUE(eventCodes(b->verdict).count(c.event)) << b->record.reasons_json;
    }
    // A rejected clock never becomes the new baseline.
    auto node = env.store->getNode(f.node);
    ASSERT_TRUE(node.has_value());
    EXPECT_EQ(*node->reset_count,
              c.failure.empty() ? *b->record.reset_count : *a->record.reset_count);
  }
}

struct RequestCase {
  std::string what;
  std::function<void(Env&)> setup;
  std::function<AgentIdentity(const Env&)> who;
  int status;
  std::string code;
};

TEST(Pipeline, RequestsRefusedBeforeAppraisalChangeNothing) {
  const Fixtures& f = Fixtures::get();
  const Bytes nonce = f.nonce("good");
  auto self = [](const Env& e) { return e.who(); };
  const RequestCase cases[] = {
      {"nonce never issued", [](Env&) {}, self, 409, "nonce-unknown"},
      {"nonce issued to another node",
       [&](Env& e) {
         e.enroll("other-node", f.ak_public);
         e.issue(nonce, "other-node");
       },
       self, 409, "nonce-foreign"},
      {"nonce expired", [&](Env& e) { e.issue(nonce, f.node, 0); }, self, 409, "nonce-expired"},
      {"report names another node than the certificate",
       [&](Env& e) {
         e.issue(nonce, f.node);
         e.enroll("intruder", f.ak_public);
       },
       [](const Env&) {
         return AgentIdentity{"intruder", ""};
       },
       403, "node-mismatch"},
      // The caller is checked before its evidence is parsed.
      {"certificate of a node never enrolled", [&](Env& e) { e.issue(nonce, f.node); },
       [](const Env&) {
         return AgentIdentity{"stranger", ""};
       },
       403, "node-unknown"},
      {"revoked node",
       [&](Env& e) {
         e.issue(nonce, f.node);
         ASSERT_TRUE(e.store->revokeNode(f.node, e.now).has_value());
       },
       self, 403, "node-revoked"},
      {"certificate of an older enrollment",
       [&](Env& e) {
         e.issue(nonce, f.node);
         PendingEnrollment p;
         p.id = "re-enroll";
         p.node = f.node;
         p.ek_public = f.ek_public;
         p.ak_public = f.ak_public;
         p.ak_name = attest::objectName(*attest::parseTpm2bPublic(f.ak_public));
         p.secret_hash = Bytes(32, 1);
         p.created_at = e.now - 1;
         p.expires_at = e.now + 1000;
         ASSERT_TRUE(e.store->createPendingEnrollment(p).has_value());
         ASSERT_TRUE(e.store->completeEnrollment("re-enroll", {"0a1b2c", true, e.now}).has_value());
       },
       self, 403, "client-certificate-superseded"},
  };
  for (const RequestCase& c : cases) {
    SCOPED_TRACE(c.what);
    Env env;
    c.setup(env);
    auto out = env.appraiser->attest(c.who(env), f.evidence("good"));
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, c.status);
    EXPECT_EQ(out.error().code, c.code) << out.error().detail;
    auto latest = env.store->latestAppraisal(f.node);
    EXPECT_FALSE(latest.has_value()) << "an appraisal was stored";
  }
}

TEST(Pipeline, ReplayedNonceIsRefusedAndTheFirstVerdictStands) {
  Env env;
  env.approveFrom("good");
  env.allowImages();
  const Fixtures& f = Fixtures::get();
  env.issue(f.nonce("good"), f.node);
  auto first = env.appraiser->attest(env.who(), f.evidence("good"));
  ASSERT_TRUE(first.has_value());
  env.now += 1000;
  auto again = env.appraiser->attest(env.who(), f.evidence("good"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().status, 409);
  EXPECT_EQ(again.error().code, "nonce-replayed");
  auto history = env.store->appraisalHistory(f.node, {});
  ASSERT_TRUE(history.has_value());
  EXPECT_EQ(history->size(), 1u);
}

TEST(Pipeline, ExpiredNoncesArePurgedOnTheWay) {
  Env env;
  const Fixtures& f = Fixtures::get();
  env.issue(f.nonce("good"), f.node);
  ASSERT_TRUE(env.appraiser->attest(env.who(), f.evidence("good")).has_value());
  // Within the TTL a replay is named a replay; after it (and a purge) the nonce is gone.
  env.now += 121000;
  ASSERT_TRUE(env.appraiser->issueNonce(f.node).has_value());
  auto again = env.appraiser->attest(env.who(), f.evidence("good"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, "nonce-unknown");
}

TEST(Pipeline, AwaitingApprovalNodeCannotAttest) {
  Env env;
  const Fixtures& f = Fixtures::get();
  env.enroll("pending-node", f.ak_public, false);
  auto out = env.appraiser->attest(
      {"pending-node", ""},
      edited("good", [](auto&, bulwark::v1::Report& r) { r.set_node("pending-node"); }));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, "node-awaiting-approval");
}

}  // namespace
}  // namespace bulwark::server::test
