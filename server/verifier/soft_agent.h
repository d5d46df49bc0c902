// A simulated agent with a software Attestation Key, for load tests, benchmarks and
// the replica suite (never linked into bulwark-verifier). It builds exactly what a
// TPM-backed agent sends (docs/api.md "POST /v1/attest"): a Report whose CEL log
// replays to a software PCR 15 (sha256 bank), quoted by a TPMS_ATTEST (TPM 2.0 Part 2
// §10.12.12, type TPM_ST_ATTEST_QUOTE) signed with SHA-256 by a software key (RSA-2048
// RSASSA or P-256 ECDSA) published as a restricted signing TPM2B_PUBLIC (Part 2 §12.2.5). The
// verifier cannot tell it from a TPM: that is the point of a load test, and also why such keys must
// only ever be enrolled by a test harness writing the Store directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/cel/bulwark_content.h"
#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::v1 {
class Report;
}

namespace bulwark::server {

// RSA-2048/RSASSA (what most TPM AKs are) or ECC P-256/ECDSA (cheap to generate and to
// sign with: thousands of nodes in memory tests, client CPU left to the verifier).
enum class SoftAkType { kRsa2048, kEccP256 };

class SoftAgent {
 public:
  // A fresh AK for `node`; PCR 15 all zeros, a log holding only its log-start record
  // (like the agent's, agent/measure), TPM clock at 1 s.
  [[nodiscard]] static Result<SoftAgent> create(std::string node,
                                                SoftAkType type = SoftAkType::kRsa2048);

  const std::string& node() const { return node_; }
  const Bytes& akPublic() const { return ak_public_; }  // marshalled TPM2B_PUBLIC
  const Bytes& akName() const { return ak_name_; }      // nameAlg || SHA-256(TPMT_PUBLIC)

  // Extends PCR 15 with one Bulwark batch record and logs it. Like the agent, the report
  // lists only measurements the log cannot express (kind image or runtime-process);
  // `report_all` lists every one (what agents before incremental logs sent).
  [[nodiscard]] Result<void> measure(std::span<const attest::BatchEntry> batch);
  bool report_all = false;

  // Evidence (serialized bulwark.v1.Evidence) answering `nonce`, quoted over sha256:15.
  // Every call advances the TPM clock by one second (same resetCount). The log is
  // shipped from the cursor (useCursor) if one is set, else whole.
  [[nodiscard]] Result<std::string> evidence(ByteView nonce, std::int64_t now_unix_ms);

  // The verifier's AttestResponse.log_cursors for this agent's log (offset 0: none).
  void useCursor(std::uint64_t offset, std::uint64_t entries) {
    cursor_offset_ = offset;
    cursor_entries_ = entries;
  }
  const std::string& log() const { return cel_; }

  // `evidence` (any agent's) with its Report rewritten by `mutate` and quoted again by THIS
  // agent's AK over `pcr15` (default: the value quoted there): the forgeries of the
  // attack tests (tests/unit/appraisal/log_copies_attack_test.cc), whose quotes verify.
  [[nodiscard]] Result<std::string> reseal(
      const std::string& evidence, const std::function<void(bulwark::v1::Report&)>& mutate,
      const std::optional<Bytes>& pcr15 = std::nullopt) const;

  // Simulated reboot: resetCount + 1, PCR 15 and the log start over.
  void reboot();

  std::size_t logRecords() const { return records_; }
  const std::vector<attest::BatchEntry>& measured() const { return measured_; }

 private:
  SoftAgent() = default;
  [[nodiscard]] Result<Bytes> sign(ByteView message) const;      // DER for ECDSA
  [[nodiscard]] Result<Bytes> signature(ByteView attest) const;  // marshalled TPMT_SIGNATURE

  std::string node_;
  SoftAkType type_ = SoftAkType::kRsa2048;
  std::shared_ptr<EVP_PKEY> key_;
  Bytes ak_public_;
  Bytes ak_name_;
  Bytes pcr15_ = Bytes(32, 0);
  std::string cel_;
  std::size_t records_ = 0;  // including the log-start record
  std::uint64_t cursor_offset_ = 0;
  std::uint64_t cursor_entries_ = 0;
  void startLog();
  std::vector<attest::BatchEntry> measured_;
  std::uint64_t clock_ms_ = 1000;
  std::uint32_t reset_count_ = 1;
};

}  // namespace bulwark::server
