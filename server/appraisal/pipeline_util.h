// Helpers shared by the pipeline stages (internal to server/appraisal).
#pragma once

#include <map>
#include <string>

#include "server/appraisal/pipeline.h"

namespace bulwark::server {

inline Reason makeReason(std::string code, attest::TrustClaim claim, std::int8_t value,
                         std::string detail) {
  Reason r;
  r.code = std::move(code);
  r.claim = claim;
  r.value = value;
  r.detail = std::move(detail);
  return r;
}

// Records failures of one check, at most kMaxReasonsPerCode per code; the rest are
// counted and summarised by finish() in one reason per code. The check fails either way.
class CappedFailures {
 public:
  CappedFailures(CheckLedger& ledger, Check check) : ledger_(ledger), check_(check) {}
  ~CappedFailures() { finish(); }
  CappedFailures(const CappedFailures&) = delete;
  CappedFailures& operator=(const CappedFailures&) = delete;

  void add(Reason r) {
    auto& s = seen_[r.code];
    ++s.count;
    ++total_;
    if (s.count <= kMaxReasonsPerCode) {
      ledger_.fail(check_, std::move(r));
    } else {
      s.claim = r.claim;
      s.value = r.value;
    }
  }
  std::size_t count() const { return total_; }
  void finish() {
    for (auto& [code, s] : seen_) {
      if (s.count <= kMaxReasonsPerCode || s.flushed) continue;
      s.flushed = true;
      ledger_.fail(check_,
                   makeReason(code, s.claim, s.value,
                              "... and " + std::to_string(s.count - kMaxReasonsPerCode) + " more"));
    }
  }

 private:
  struct Seen {
    std::size_t count = 0;
    attest::TrustClaim claim = attest::TrustClaim::kInstanceIdentity;
    std::int8_t value = 0;
    bool flushed = false;
  };
  CheckLedger& ledger_;
  Check check_;
  std::map<std::string, Seen> seen_;
  std::size_t total_ = 0;
};

// The one bank the verifier asked for (the selection always has exactly one).
inline HashAlg expectedBank(const PipelineInput& in) { return in.expected->banks()[0].alg; }
inline std::uint32_t expectedMask(const PipelineInput& in) { return in.expected->banks()[0].mask; }

}  // namespace bulwark::server
