// The agent's state directory (<state_dir>, /var/lib/bulwark by default, mode
// 0700) and the files enrollment and attestation keep there (docs/agent.md):
//   ak.blob            the AK (TPM2B_PUBLIC + EK-wrapped TPM2B_PRIVATE), 0600
//   client.key         the mTLS client key (P-256, PKCS#8 PEM), 0600
//   client.pem         the client certificate the verifier issued (PEM)
//   agent-ca.pem       the verifier's agent CA chain (PEM)
//   enrollment.json    the enrollment state machine (enrollment_state.h)
//   attestation.json   the next nonce and the verifier's PCR bank/selection
// Every write is atomic (temp file + fsync + rename), so a crash leaves either
// the old or the new file, never half of one.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/enroll/enrollment_state.h"
#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::agent {

// What the cycle needs between runs (and what enrollment hands to it).
struct AttestationState {
  Bytes nonce;  // unused nonce from the verifier ("" = none)
  std::int64_t nonce_expires_unix_ms = 0;
  PcrChoice pcr;            // what the verifier wants quoted
  std::string last_status;  // "affirming", "contraindicated", ... ("" = never)
  std::int64_t last_attest_unix_ms = 0;
};

std::string attestationStateToJson(const AttestationState& state);
[[nodiscard]] Result<AttestationState> attestationStateFromJson(std::string_view json);

// An exclusive flock(2) on <state_dir>/cycle.lock, released on destruction: one
// attestation cycle at a time per state directory (`run` and a manual
// `attest --once` must not interleave their use of the held nonce).
class StateLock {
 public:
  explicit StateLock(int fd) : fd_(fd) {}
  StateLock(StateLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  StateLock& operator=(StateLock&&) = delete;
  StateLock(const StateLock&) = delete;
  ~StateLock();

 private:
  int fd_;
};

class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string akBlobPath() const { return dir_ + "/ak.blob"; }
  std::string clientKeyPath() const { return dir_ + "/client.key"; }
  std::string clientCertPath() const { return dir_ + "/client.pem"; }
  std::string agentCaPath() const { return dir_ + "/agent-ca.pem"; }
  std::string enrollmentPath() const { return dir_ + "/enrollment.json"; }
  std::string attestationPath() const { return dir_ + "/attestation.json"; }

  // Creates the directory (and parents) with mode 0700 when missing; refuses a
  // state directory others can write to.
  [[nodiscard]] Result<void> ensureDir() const;

  // The saved state, or a fresh `unenrolled` one when there is no file.
  [[nodiscard]] Result<EnrollmentState> loadEnrollment() const;
  [[nodiscard]] Result<void> saveEnrollment(const EnrollmentState& state) const;
  // kNotFound when there is no attestation state yet (not enrolled).
  [[nodiscard]] Result<AttestationState> loadAttestation() const;
  [[nodiscard]] Result<void> saveAttestation(const AttestationState& state) const;

  // Waits for and takes the cycle lock.
  [[nodiscard]] Result<StateLock> lockCycle() const;

  // Writes client.pem and agent-ca.pem from DER (each must parse as X.509).
  [[nodiscard]] Result<void> writeCertificates(ByteView client_der,
                                               const std::vector<Bytes>& ca_chain_der) const;

 private:
  std::string dir_;
};

}  // namespace bulwark::agent
