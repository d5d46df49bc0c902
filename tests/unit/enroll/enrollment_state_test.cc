// Pure parts of enrollment: the state machine's next step, its JSON form
// (round trip and malformed files), the verifier's PCR choice, the agent
// settings and host facts parsing.
#include "agent/enroll/enrollment_state.h"

#include <gtest/gtest.h>

#include "agent/enroll/agent_settings.h"
#include "agent/enroll/host_facts.h"
#include "agent/enroll/pcr_choice.h"
#include "agent/enroll/state_store.h"

namespace bulwark::agent {
namespace {

EnrollmentState sample(EnrollPhase phase) {
  EnrollmentState s;
  s.phase = phase;
  s.node = "node-1";
  s.verifier = "https://v:8443";
  s.ek_type = "ecc-p384";
  s.ak_type = "ecc-p256";
  if (phase == EnrollPhase::kChallengeReceived) {
    s.enrollment_id = "enr-7";
    s.credential_blob = {1, 2, 3};
    s.encrypted_secret = {4, 5};
    s.challenge_expires_unix_ms = 1000;
    s.csr = {0x30, 0x01};
  }
  if (phase >= EnrollPhase::kActivated) {
    s.verifier_state = "awaiting-approval";
    s.client_certificate = {0x30, 0x82};
    s.ca_chain = {{0x30, 0x01}, {0x30, 0x02}};
    s.first_nonce = {9, 9};
    s.first_nonce_expires_unix_ms = 5000;
    s.pcr = {"sha384", {0, 15}};
    s.enrolled_unix_ms = 42;
  }
  return s;
}

bool sameState(const EnrollmentState& a, const EnrollmentState& b) {
  return a.phase == b.phase && a.node == b.node && a.verifier == b.verifier &&
         a.ek_type == b.ek_type && a.ak_type == b.ak_type && a.enrollment_id == b.enrollment_id &&
         a.credential_blob == b.credential_blob && a.encrypted_secret == b.encrypted_secret &&
         a.challenge_expires_unix_ms == b.challenge_expires_unix_ms && a.csr == b.csr &&
         a.verifier_state == b.verifier_state && a.client_certificate == b.client_certificate &&
         a.ca_chain == b.ca_chain && a.first_nonce == b.first_nonce &&
         a.first_nonce_expires_unix_ms == b.first_nonce_expires_unix_ms && a.pcr == b.pcr &&
         a.enrolled_unix_ms == b.enrolled_unix_ms;
}

TEST(EnrollmentState, JsonRoundTripsEveryPhase) {
  for (EnrollPhase p :
       {EnrollPhase::kUnenrolled, EnrollPhase::kIdentityCreated, EnrollPhase::kChallengeReceived,
        EnrollPhase::kActivated, EnrollPhase::kAwaitingApproval, EnrollPhase::kEnrolled}) {
    SCOPED_TRACE(std::string(enrollPhaseName(p)));
    EnrollmentState s = sample(p);
    auto back = enrollmentStateFromJson(enrollmentStateToJson(s));
    ASSERT_TRUE(back.has_value()) << back.error().toString();
    EXPECT_TRUE(sameState(s, *back)) << enrollmentStateToJson(*back);
    EXPECT_EQ(enrollPhaseFromName(enrollPhaseName(p)), p);
  }
  EXPECT_FALSE(enrollPhaseFromName("enroled").has_value());
}

TEST(EnrollmentState, MalformedFilesAreErrors) {
  const char* cases[] = {
      "",
      "[]",
      "{",
      R"({"version":2,"phase":"enrolled"})",
      R"({"version":1,"phase":"bogus","node":"n","verifier":"v","ek_type":"e","ak_type":"a"})",
      R"({"version":1,"phase":"identity-created","verifier":"v","ek_type":"e","ak_type":"a"})",
      R"({"version":1,"phase":"identity-created","node":5,"verifier":"v","ek_type":"e","ak_type":"a"})",
      R"({"version":1,"phase":"challenge-received","node":"n","verifier":"v","ek_type":"e","ak_type":"a",
          "enrollment_id":"x","credential_blob":"zz","encrypted_secret":"00","challenge_expires_unix_ms":1,"csr":""})",
      R"({"version":1,"phase":"enrolled","node":"n","verifier":"v","ek_type":"e","ak_type":"a",
          "verifier_state":"s","client_certificate":"","ca_chain":[],"first_nonce":"","first_nonce_expires_unix_ms":0,
          "pcr_bank":"sha256","pcr_selection":[1],"enrolled_unix_ms":0})",
      R"({"version":1,"phase":"enrolled","node":"n","verifier":"v","ek_type":"e","ak_type":"a",
          "verifier_state":"s","client_certificate":"30","ca_chain":[],"first_nonce":"","first_nonce_expires_unix_ms":0,
          "pcr_bank":"sha256","pcr_selection":[99],"enrolled_unix_ms":0})",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    auto s = enrollmentStateFromJson(text);
    ASSERT_FALSE(s.has_value());
    EXPECT_TRUE(s.error().code() == ErrorCode::kMalformed ||
                s.error().code() == ErrorCode::kUnsupported);
  }
}

TEST(EnrollmentState, NextStepTable) {
  struct Case {
    EnrollPhase phase;
    std::int64_t expires;
    std::int64_t now;
    EnrollStep step;
  };
  const Case cases[] = {
      {EnrollPhase::kUnenrolled, 0, 0, EnrollStep::kCreateIdentity},
      {EnrollPhase::kIdentityCreated, 0, 0, EnrollStep::kRequestChallenge},
      {EnrollPhase::kChallengeReceived, 1000, 999, EnrollStep::kActivate},
      {EnrollPhase::kChallengeReceived, 1000, 1000, EnrollStep::kRequestChallenge},
      {EnrollPhase::kChallengeReceived, 0, 5000, EnrollStep::kActivate},  // no expiry given
      {EnrollPhase::kActivated, 0, 0, EnrollStep::kFinalize},
      {EnrollPhase::kAwaitingApproval, 0, 0, EnrollStep::kDone},
      {EnrollPhase::kEnrolled, 0, 0, EnrollStep::kDone},
  };
  for (const auto& tc : cases) {
    EnrollmentState s;
    s.phase = tc.phase;
    s.challenge_expires_unix_ms = tc.expires;
    EXPECT_EQ(nextEnrollStep(s, tc.now), tc.step) << enrollPhaseName(tc.phase) << " now=" << tc.now;
  }
  EXPECT_EQ(phaseForVerifierState("awaiting-approval"), EnrollPhase::kAwaitingApproval);
  EXPECT_EQ(phaseForVerifierState("trusted-pending-attestation"), EnrollPhase::kEnrolled);
  EnrollmentState forgot = withoutChallenge(sample(EnrollPhase::kChallengeReceived));
  EXPECT_EQ(forgot.phase, EnrollPhase::kIdentityCreated);
  EXPECT_TRUE(forgot.enrollment_id.empty() && forgot.credential_blob.empty() && forgot.csr.empty());
  EXPECT_EQ(forgot.node, "node-1");
}

TEST(AttestationState, RoundTripAndMalformed) {
  AttestationState s{{1, 2, 3}, 77, {"sha256", {0, 7, 15}}, "affirming", 99};
  auto back = attestationStateFromJson(attestationStateToJson(s));
  ASSERT_TRUE(back.has_value()) << back.error().toString();
  EXPECT_EQ(back->nonce, s.nonce);
  EXPECT_EQ(back->nonce_expires_unix_ms, 77);
  EXPECT_EQ(back->pcr, s.pcr);
  EXPECT_EQ(back->last_status, "affirming");
  for (
      const char* bad :
      {"{}", "x",
       R"({"version":1,"nonce":"zz","nonce_expires_unix_ms":0,"pcr_bank":"sha256","pcr_selection":[]})",
       R"({"version":1,"nonce":"","nonce_expires_unix_ms":0,"pcr_bank":"sha256","pcr_selection":[-1]})"}) {
    EXPECT_FALSE(attestationStateFromJson(bad).has_value()) << bad;
  }
}

TEST(PcrChoice, ValidatesTheVerifiersChoice) {
  struct Case {
    PcrChoice choice;
    const char* selection;  // nullptr = refused
  };
  const Case cases[] = {
      {{"sha256", {0, 1, 7, 15}}, "sha256:0,1,7,15"},
      {{"sha384", {15}}, "sha384:15"},
      {{"sha1", {15}}, nullptr},
      {{"md5", {15}}, nullptr},
      {{"sha256", {}}, nullptr},
      {{"sha256", {24}}, nullptr},
      {{"sha256", {7, 3}}, nullptr},
      {{"sha256", {3, 3}}, nullptr},
  };
  for (const auto& tc : cases) {
    auto s = pcrSelectionFor(tc.choice);
    if (tc.selection == nullptr) {
      EXPECT_FALSE(s.has_value()) << tc.choice.bank;
    } else {
      ASSERT_TRUE(s.has_value()) << s.error().toString();
      EXPECT_EQ(s->toString(), tc.selection);
    }
  }
}

TEST(AgentSettings, ReadsTheAgentConfigAndNamesBadKeys) {
  auto s = parseAgentSettings(R"(
node: node-7
state_dir: /tmp/state
tpm: {tcti: "swtpm:host=127.0.0.1,port=2321", ek_type: ecc-p384}
verifier: {url: "https://v:8443", ca_file: /etc/ca.pem, timeout: 5s, interval: 2m, firmware_log: ""}
measure: {pcr: 14, log: /run/m.log}
)");
  ASSERT_TRUE(s.has_value()) << s.error().toString();
  EXPECT_EQ(s->node, "node-7");
  EXPECT_EQ(s->state_dir, "/tmp/state");
  EXPECT_EQ(s->tcti, "swtpm:host=127.0.0.1,port=2321");
  EXPECT_EQ(s->ek_type, "ecc-p384");
  EXPECT_EQ(s->verifier_url, "https://v:8443");
  EXPECT_EQ(s->verifier_ca_file, "/etc/ca.pem");
  EXPECT_EQ(s->timeout, std::chrono::seconds(5));
  EXPECT_EQ(s->interval, std::chrono::seconds(120));
  EXPECT_EQ(s->firmware_log, "");
  EXPECT_EQ(s->measurement_pcr, 14u);
  EXPECT_EQ(s->measurement_log, "/run/m.log");
  auto defaults = parseAgentSettings("");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->interval, std::chrono::seconds(30));
  EXPECT_EQ(defaults->state_dir, "/var/lib/bulwark");
  EXPECT_EQ(defaults->ima_log, "/sys/kernel/security/ima/ascii_runtime_measurements");
  // Errors start with the key (agent/config validates the whole file).
  for (const char* bad : {"verifier: {urls: x}", "verifier: {interval: 0}", "tpm: {ek_type: dsa}",
                          "node: -bad", "node: \"a b\""}) {
    auto r = parseAgentSettings(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    std::string key = std::string(bad).substr(0, std::string(bad).find(':'));
    EXPECT_EQ(r.error().message().rfind(key, 0), 0u) << r.error().message();
  }
}

TEST(AgentSettings, NodeNames) {
  for (const char* ok : {"node-1", "a", "n.example.com", "N_1"})
    EXPECT_TRUE(validateNodeName(ok).has_value()) << ok;
  for (std::string badname : {std::string(), std::string(".x"), std::string("-x"),
                              std::string("a b"), std::string("a/b"), std::string(254, 'a')}) {
    EXPECT_FALSE(validateNodeName(badname).has_value()) << badname;
  }
}

TEST(HostFacts, OsReleasePrettyName) {
  EXPECT_EQ(prettyNameFromOsRelease(
                "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
            "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(prettyNameFromOsRelease("NAME='Foo'\n"), "Foo");
  EXPECT_EQ(prettyNameFromOsRelease("PRETTY_NAME=\"say \\\"hi\\\"\""), "say \"hi\"");
  EXPECT_EQ(prettyNameFromOsRelease("ID=x\n"), "");
  auto facts = collectHostFacts(
      {.os_release = "/nonexistent", .boot_id = "/nonexistent", .machine_id = "/nonexistent"});
  EXPECT_EQ(facts.os_release(), "");
  EXPECT_EQ(facts.agent_version(), std::string(kAgentVersion));
  EXPECT_FALSE(facts.kernel().empty());
}

}  // namespace
}  // namespace bulwark::agent
