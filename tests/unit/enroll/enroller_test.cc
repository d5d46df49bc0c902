// The enrollment state machine driven end to end against fakes (no TPM, no
// network) on a real state directory: every step persists, a crash or lost
// answer at any point resumes, re-runs are idempotent, errors keep state.
#include "agent/enroll/enroller.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "agent/enroll/client_key.h"
#include "tests/unit/enroll/fake_verifier.h"

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;
using testing::FakeEnrollVerifier;
using testing::FakeIdentity;

class EnrollerTest : public ::testing::Test {
 protected:
  EnrollerTest()
      : dir_(fs::temp_directory_path() /
             ("bulwark-enroll-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))),
        store_((dir_ / "state").string()),
        identity_(store_.akBlobPath()) {
    fs::create_directories(dir_);
    verifier_.now = [this] { return now_; };
  }
  ~EnrollerTest() override { fs::remove_all(dir_); }

  Enroller enroller(EnrollOptions options = {}) {
    if (options.node.empty()) options.node = "node-1";
    if (options.verifier_url.empty()) options.verifier_url = "https://verifier.test:8443";
    return Enroller(options, {.store = &store_,
                              .identity = &identity_,
                              .verifier = &verifier_,
                              .host_facts =
                                  [] {
                                    bulwark::v1::HostFacts f;
                                    f.set_hostname("host-a");
                                    return f;
                                  },
                              .now_unix_ms = [this] { return now_; },
                              .progress = [this](std::string_view l) { lines_.emplace_back(l); }});
  }
  EnrollPhase phase() {
    auto s = store_.loadEnrollment();
    EXPECT_TRUE(s.has_value());
    return s ? s->phase : EnrollPhase::kUnenrolled;
  }
  unsigned mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  StateStore store_;
  FakeIdentity identity_;
  FakeEnrollVerifier verifier_;
  std::int64_t now_ = 1'700'000'000'000;
  std::vector<std::string> lines_;
};

TEST_F(EnrollerTest, EnrollsAndStoresEverything) {
  auto state = enroller().run();
  ASSERT_TRUE(state.has_value()) << state.error().toString();
  EXPECT_EQ(state->phase, EnrollPhase::kEnrolled);
  EXPECT_EQ(state->node, "node-1");
  EXPECT_EQ(state->ek_type, "rsa2048");
  EXPECT_EQ(state->verifier_state, "trusted-pending-attestation");
  EXPECT_EQ((PcrChoice{"sha256", {0, 7, 15}}), state->pcr);
  // What went to the verifier.
  const auto& req = verifier_.last_enroll;
  EXPECT_EQ(req.node(), "node-1");
  EXPECT_EQ(req.ek_certificate(), "ek-cert-der");
  EXPECT_EQ(req.ek_public(), "ek-public");
  EXPECT_EQ(req.ak_public(), identity_.akPublic());
  EXPECT_EQ(req.host().hostname(), "host-a");
  EXPECT_FALSE(req.csr().empty());
  EXPECT_EQ(verifier_.last_activate.csr(), req.csr()) << "activation must resend the same CSR";
  EXPECT_EQ(verifier_.last_activate.secret(), "secret-enr-1");
  // Files and modes.
  EXPECT_EQ(mode(store_.dir()), 0700u);
  EXPECT_EQ(mode(store_.clientKeyPath()), 0600u);
  EXPECT_EQ(mode(store_.enrollmentPath()), 0600u);
  EXPECT_TRUE(fs::exists(store_.akBlobPath()));
  EXPECT_TRUE(
      checkCertificateMatchesKey(state->client_certificate, store_.clientKeyPath()).has_value());
  auto pem = readFile(store_.clientCertPath());
  ASSERT_TRUE(pem.has_value());
  EXPECT_EQ(testing::str(*pem).rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  auto attestation = store_.loadAttestation();
  ASSERT_TRUE(attestation.has_value()) << attestation.error().toString();
  EXPECT_EQ(testing::str(attestation->nonce), "first-nonce-enr-1");
  EXPECT_EQ(attestation->pcr, state->pcr);
  // One progress line per step heading.
  int headings = 0;
  for (const auto& l : lines_) headings += l.starts_with("[") ? 1 : 0;
  EXPECT_EQ(headings, 4);
}

// A crash after step k (state saved) followed by a new process: it resumes and
// performs each remote or TPM side effect exactly once overall.
TEST_F(EnrollerTest, ResumesAfterACrashAtEachStep) {
  for (int k = 0; k <= 4; ++k) {
    SCOPED_TRACE("crash after step " + std::to_string(k));
    fs::remove_all(store_.dir());
    identity_ = FakeIdentity(store_.akBlobPath());
    verifier_ = FakeEnrollVerifier();
    verifier_.now = [this] { return now_; };
    {
      Enroller first = enroller();
      for (int i = 0; i < k; ++i) ASSERT_TRUE(first.step().has_value());
    }
    const EnrollPhase expected_after[] = {EnrollPhase::kUnenrolled, EnrollPhase::kIdentityCreated,
                                          EnrollPhase::kChallengeReceived, EnrollPhase::kActivated,
                                          EnrollPhase::kEnrolled};
    if (k > 0) {
      EXPECT_EQ(phase(), expected_after[k]);
    }
    auto state = enroller().run();
    ASSERT_TRUE(state.has_value()) << state.error().toString();
    EXPECT_EQ(state->phase, EnrollPhase::kEnrolled);
    EXPECT_EQ(identity_.creates, 1);
    EXPECT_EQ(verifier_.enroll_calls, 1);
    EXPECT_EQ(verifier_.activate_calls, 1);
    EXPECT_EQ(identity_.activations, 1);
  }
}

TEST_F(EnrollerTest, LostChallengeIsRequestedAgain) {
  verifier_.lose_next_enroll = true;
  auto failed = enroller().run();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(phase(), EnrollPhase::kIdentityCreated);
  auto state = enroller().run();
  ASSERT_TRUE(state.has_value()) << state.error().toString();
  EXPECT_EQ(state->phase, EnrollPhase::kEnrolled);
  EXPECT_EQ(identity_.creates, 1) << "the identity is kept";
  EXPECT_EQ(verifier_.enroll_calls, 2);
}

// The verifier activated but the answer was lost: the enrollment id is spent,
// so the re-run learns enrollment-unknown and asks for a new challenge.
TEST_F(EnrollerTest, LostActivationAnswerRestartsTheChallenge) {
  verifier_.lose_next_activate = true;
  ASSERT_FALSE(enroller().run().has_value());
  EXPECT_EQ(phase(), EnrollPhase::kChallengeReceived);
  auto state = enroller().run();
  ASSERT_TRUE(state.has_value()) << state.error().toString();
  EXPECT_EQ(state->phase, EnrollPhase::kEnrolled);
  EXPECT_EQ(verifier_.enroll_calls, 2);
  EXPECT_EQ(verifier_.activate_calls, 3);  // lost, refused (spent id), accepted
  EXPECT_EQ(identity_.creates, 1);
}

TEST_F(EnrollerTest, ExpiredChallengeIsNotActivated) {
  Enroller first = enroller();
  ASSERT_TRUE(first.step().has_value());
  ASSERT_TRUE(first.step().has_value());
  ASSERT_EQ(phase(), EnrollPhase::kChallengeReceived);
  now_ += verifier_.challenge_ttl_ms + 1;
  auto state = enroller().run();
  ASSERT_TRUE(state.has_value()) << state.error().toString();
  EXPECT_EQ(verifier_.enroll_calls, 2);
  EXPECT_EQ(verifier_.activate_calls, 1);
  EXPECT_EQ(identity_.activations, 1);
}

TEST_F(EnrollerTest, ReRunWhenEnrolledChangesNothing) {
  ASSERT_TRUE(enroller().run().has_value());
  auto before = readFile(store_.enrollmentPath()).value();
  Enroller again = enroller();
  auto step = again.step();
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(*step, EnrollStep::kDone);
  ASSERT_TRUE(enroller().run().has_value());
  EXPECT_EQ(readFile(store_.enrollmentPath()).value(), before);
  EXPECT_EQ(identity_.creates, 1);
  EXPECT_EQ(verifier_.enroll_calls, 1);
}

TEST_F(EnrollerTest, AnotherNodeOrVerifierNeedsForce) {
  ASSERT_TRUE(enroller().run().has_value());
  EnrollOptions other_node, other_verifier;
  other_node.node = "node-2";
  other_verifier.verifier_url = "https://other.test";
  for (const EnrollOptions& o : {other_node, other_verifier}) {
    auto refused = enroller(o).run();
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message().find("--force"), std::string::npos);
  }
  EXPECT_EQ(verifier_.enroll_calls, 1);
  EnrollOptions force = other_node;
  force.force = true;
  auto forced = enroller(force).run();
  ASSERT_TRUE(forced.has_value()) << forced.error().toString();
  EXPECT_EQ(forced->node, "node-2");
  EXPECT_EQ(identity_.creates, 2) << "--force makes a new AK";
}

TEST_F(EnrollerTest, TpmClearStartsOver) {
  ASSERT_TRUE(enroller().run().has_value());
  identity_.cleared = true;
  auto state = enroller().run();
  ASSERT_TRUE(state.has_value()) << state.error().toString();
  EXPECT_EQ(state->phase, EnrollPhase::kEnrolled);
  EXPECT_EQ(identity_.creates, 2);
  EXPECT_EQ(verifier_.enroll_calls, 2);
  bool said = false;
  for (const auto& l : lines_) said |= l.find("TPM cleared") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST_F(EnrollerTest, MissingKeyFilesStartOver) {
  Enroller first = enroller();
  ASSERT_TRUE(first.step().has_value());
  fs::remove(store_.clientKeyPath());
  ASSERT_TRUE(enroller().run().has_value());
  EXPECT_EQ(identity_.creates, 2);
}

TEST_F(EnrollerTest, AwaitingApprovalIsItsOwnPhase) {
  verifier_.result_state = "awaiting-approval";
  auto state = enroller().run();
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->phase, EnrollPhase::kAwaitingApproval);
  EXPECT_TRUE(fs::exists(store_.clientCertPath()));
}

TEST_F(EnrollerTest, VerifierRefusalsKeepStateAndSayWhatToDo) {
  struct Case {
    Error error;
    const char* hint;
  };
  const Case cases[] = {
      {testing::serverError(409, "node-name-taken", "POST /v1/enroll"), "--node"},
      {testing::serverError(403, "ek-cert-untrusted-issuer", "POST /v1/enroll"),
       "enrollment.ek_ca"},
      {testing::serverError(403, "ak-not-restricted", "POST /v1/enroll"), "--force"},
      {testing::serverError(503, "store-unavailable", "POST /v1/enroll"), "later"},
      {Error(ErrorCode::kUnavailable, "connection refused", "connect"), "verifier.url"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.error.toString());
    verifier_.enroll_error = tc.error;
    auto r = enroller().run();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message(), tc.error.message());
    EXPECT_EQ(phase(), EnrollPhase::kIdentityCreated);
    EXPECT_NE(enrollNextStepHint(r.error()).find(tc.hint), std::string::npos)
        << enrollNextStepHint(r.error());
  }
  EXPECT_EQ(identity_.creates, 1);
}

TEST_F(EnrollerTest, TpmFailureBeforeAnythingLeavesUnenrolled) {
  identity_.fail_create = true;
  ASSERT_FALSE(enroller().run().has_value());
  EXPECT_EQ(phase(), EnrollPhase::kUnenrolled);
  EXPECT_FALSE(fs::exists(store_.clientKeyPath()));
  identity_.fail_create = false;
  EXPECT_TRUE(enroller().run().has_value());
}

TEST_F(EnrollerTest, UnusableResultsAreRefused) {
  verifier_.bad_certificate = true;
  auto wrong_key = enroller().run();
  ASSERT_FALSE(wrong_key.has_value());
  EXPECT_NE(wrong_key.error().message().find("not for this agent's client key"), std::string::npos);
  EXPECT_EQ(phase(), EnrollPhase::kChallengeReceived);
  verifier_.bad_certificate = false;
  verifier_.pcr_bank = "sha1";
  auto downgrade = enroller().run();
  ASSERT_FALSE(downgrade.has_value());
  EXPECT_NE(downgrade.error().message().find("SHA-1"), std::string::npos);
  EXPECT_FALSE(fs::exists(store_.clientCertPath()));
}

}  // namespace
}  // namespace bulwark::agent

namespace bulwark::agent {
namespace {

TEST(EnrollHint, NamesTheTpmWhenItCannotBeReached) {
  Error tpm(ErrorCode::kUnavailable, "Tss2_TctiLdr_Initialize(swtpm:port=1): tcti:IO failure",
            "tpm.tcti 'swtpm:port=1'");
  EXPECT_NE(enrollNextStepHint(tpm).find("tpm.tcti"), std::string::npos) << enrollNextStepHint(tpm);
  Error net(ErrorCode::kUnavailable, "Connection refused", "connect https://127.0.0.1:1");
  EXPECT_NE(enrollNextStepHint(net).find("verifier.url"), std::string::npos);
  Error no_cert(ErrorCode::kNotFound, "this TPM has no EK certificate in NV");
  EXPECT_NE(enrollNextStepHint(no_cert).find("EK certificate"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::agent
