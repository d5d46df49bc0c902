// Drives the enrollment state machine (enrollment_state.h) against the TPM side
// (AgentIdentity) and the verifier (VerifierClient), persisting the state after
// every step, so `bulwark-agent enroll` can be interrupted anywhere and re-run:
// it resumes from the last completed step, and re-running a finished
// enrollment changes nothing (unless --force, or the AK no longer loads after a
// TPM clear, which starts over). Every step reports one progress line.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/enroll/agent_identity.h"
#include "agent/enroll/enrollment_state.h"
#include "agent/enroll/state_store.h"
#include "agent/transport/verifier_client.h"

namespace bulwark::agent {

struct EnrollOptions {
  std::string node;          // validated node name
  std::string verifier_url;  // recorded; a different one needs --force
  std::string ek_type = "auto";
  std::string ak_type = "auto";
  bool force = false;  // forget any previous enrollment and start over
};

struct EnrollEnvironment {
  const StateStore* store = nullptr;
  AgentIdentity* identity = nullptr;
  VerifierClient* verifier = nullptr;
  std::function<bulwark::v1::HostFacts()> host_facts;
  std::function<std::int64_t()> now_unix_ms;
  std::function<void(std::string_view)> progress;  // one line per call
};

class Enroller {
 public:
  Enroller(EnrollOptions options, EnrollEnvironment env);

  // Steps until awaiting-approval or enrolled; the final state.
  [[nodiscard]] Result<EnrollmentState> run();
  // Performs the next step from the persisted state (the first call also checks
  // node/verifier/--force/TPM clear) and returns which step ran (kDone: none).
  [[nodiscard]] Result<EnrollStep> step();

 private:
  Result<EnrollmentState> prepare(EnrollmentState state);
  Result<EnrollmentState> reset(std::string_view why);
  Result<EnrollmentState> createIdentity(EnrollmentState state);
  Result<EnrollmentState> requestChallenge(EnrollmentState state);
  Result<EnrollmentState> activate(EnrollmentState state);
  Result<EnrollmentState> finalize(EnrollmentState state);
  void say(std::string_view line) const;

  EnrollOptions options_;
  EnrollEnvironment env_;
  bool prepared_ = false;
  int challenge_restarts_ = 0;
};

// One sentence telling the operator what to do about an enrollment error
// (verifier error codes of docs/api.md, TPM and network failures).
std::string enrollNextStepHint(const Error& error);

}  // namespace bulwark::agent
