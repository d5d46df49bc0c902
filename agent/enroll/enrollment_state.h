// The enrollment state machine (docs/agent.md, DESIGN §3 "Enrollment"), pure:
// phases, what each phase holds, which step comes next, and the JSON form
// persisted in <state_dir>/enrollment.json after every step, so a crash at any
// point resumes from the last completed step.
//
//   unenrolled ──create EK+AK, client key──▶ identity-created
//   identity-created ──POST /v1/enroll──▶ challenge-received
//   challenge-received ──ActivateCredential + POST /v1/enroll/activate──▶ activated
//   activated ──store certificate, nonce, PCR selection──▶ awaiting-approval | enrolled
//   challenge-received ──(challenge expired / enrollment-unknown)──▶ identity-created
//   awaiting-approval ──first accepted nonce/attest──▶ enrolled
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::agent {

enum class EnrollPhase : std::uint8_t {
  kUnenrolled,
  kIdentityCreated,
  kChallengeReceived,
  kActivated,
  kAwaitingApproval,
  kEnrolled,
};

std::string_view enrollPhaseName(EnrollPhase phase);  // "identity-created", ...
std::optional<EnrollPhase> enrollPhaseFromName(std::string_view name);

// The verifier's choice of what to quote (EnrollResult / NonceResponse /
// AttestResponse .pcr_bank + .pcr_selection).
struct PcrChoice {
  std::string bank;                    // "sha256", "sha384", ...
  std::vector<std::uint32_t> indices;  // ascending
  bool operator==(const PcrChoice&) const = default;
};

struct EnrollmentState {
  EnrollPhase phase = EnrollPhase::kUnenrolled;
  std::string node;
  std::string verifier;  // URL enrolled against
  std::string ek_type;   // "rsa2048" | "ecc-p256" | "ecc-p384"
  std::string ak_type;   // "rsa2048" | "ecc-p256"
  // challenge-received
  std::string enrollment_id;
  Bytes credential_blob;
  Bytes encrypted_secret;
  std::int64_t challenge_expires_unix_ms = 0;
  Bytes csr;  // the PKCS#10 sent with EnrollRequest, resent with ActivateRequest
  // activated and later
  std::string verifier_state;   // "trusted-pending-attestation" | "awaiting-approval"
  Bytes client_certificate;     // DER
  std::vector<Bytes> ca_chain;  // DER
  Bytes first_nonce;
  std::int64_t first_nonce_expires_unix_ms = 0;
  PcrChoice pcr;
  std::int64_t enrolled_unix_ms = 0;
};

// What the next `bulwark-agent enroll` step is for a state.
enum class EnrollStep : std::uint8_t {
  kCreateIdentity,    // unenrolled
  kRequestChallenge,  // identity-created (or an expired challenge)
  kActivate,          // challenge-received, challenge still valid
  kFinalize,          // activated: write certificate files, attestation state
  kDone,              // awaiting-approval / enrolled
};
EnrollStep nextEnrollStep(const EnrollmentState& state, std::int64_t now_unix_ms);

// The phase after `activated`, from EnrollResult.state.
EnrollPhase phaseForVerifierState(std::string_view verifier_state);

// A state that forgets the challenge (back to identity-created), keeping the
// identity (AK and client key) so the next step re-requests a challenge.
EnrollmentState withoutChallenge(EnrollmentState state);

// JSON text for enrollment.json (bytes as lower-case hex) and back. Parsing is
// strict: a wrong type, a missing field for the phase or an unknown phase is
// kMalformed (the file may have been edited or corrupted).
std::string enrollmentStateToJson(const EnrollmentState& state);
[[nodiscard]] Result<EnrollmentState> enrollmentStateFromJson(std::string_view json);

}  // namespace bulwark::agent
