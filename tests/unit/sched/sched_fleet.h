// Test fleets for the relying-party tests and the extender bench: nodes enrolled into a
// real Store through its public API, each with the verdict of one named situation as of
// `now`. No gtest here, so tests/bench can include it.
#pragma once

#include <memory>
#include <string>

#include "attest/core/digest.h"
#include "server/store/sqlite_store.h"

namespace bulwark::server::sched::test {

enum class Situation {
  kTrusted,    // affirming 12 s ago, fresh for another 588 s (TTL 600 s)
  kStale,      // affirming 95 s ago, deadline passed 5 s ago
  kUntrusted,  // contraindicated 10 s ago: runc not in reference values, +1 more
  kRevoked,    // was trusted, then revoked by an admin
  kEnrolling,  // enrolled, not approved
  kNoVerdict,  // approved, no evidence yet
  kFindings,   // trusted like kTrusted, with two informational isolation findings
};

inline constexpr std::string_view kRuncFailure =
    R"([{"kind":"failure","code":"measurement-unknown","claim":"executables",)"
    R"("detail":"runtime-binary /usr/bin/runc sha256:)"
    R"(5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa has no approved reference value"},)"
    R"({"kind":"failure","code":"image-not-allowed","claim":"sourced-data","detail":"container web image x"},)"
    R"({"kind":"event","code":"reboot","detail":"resetCount 3 -> 4"}])";

inline constexpr std::string_view kTwoFindings =
    R"([{"kind":"finding","code":"isolation-finding","detail":"no-new-privileges unset",)"
    R"("container":"web","control":"no-new-privileges-unset","severity":"low"},)"
    R"({"kind":"finding","code":"isolation-finding","detail":"rootfs writable",)"
    R"("container":"web","control":"rootfs-writable","severity":"low"}])";

inline Result<std::unique_ptr<SqliteStore>> openStore(const std::string& path) {
  SqliteOptions o;
  o.durable = false;  // test speed; durability is the store suite's subject
  return SqliteStore::open(path, o);
}

inline AppraisalRecord appraisal(const std::string& node, Millis at, Millis ttl,
                                 AppraisalStatus status, std::string_view reasons) {
  AppraisalRecord a;
  a.node = node;
  a.appraised_at = at;
  a.status = status;
  a.reasons_json = std::string(reasons);
  a.trust_vector_json = R"({"instance-identity":2})";
  a.ear = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln";
  a.evidence_digest = sha256(asBytes(node + std::to_string(at)));
  a.fresh_until = at + ttl;
  a.reset_count = 1;
  a.restart_count = 0;
  a.clock = at;
  return a;
}

// Enrolls `name` and gives it `situation` as of `now`.
inline Result<void> addNode(Store& store, const std::string& name, Situation situation,
                            Millis now) {
  PendingEnrollment p;
  p.id = "enr-" + name;
  p.node = name;
  p.ek_public = sha256(asBytes("ek " + name));
  p.ak_public = sha256(asBytes("ak " + name));
  p.ak_name = sha256(asBytes("name " + name));
  p.secret_hash = sha256(asBytes("secret " + name));
  p.created_at = now - 600'000;
  p.expires_at = now + 600'000;
  if (auto r = store.createPendingEnrollment(p); !r) return r;
  bool approve = situation != Situation::kEnrolling;
  if (auto r = store.completeEnrollment(p.id, {"", approve, now - 599'000}); !r) {
    return std::unexpected(r.error());
  }
  Result<AppraisalRecord> rec;
  switch (situation) {
    case Situation::kEnrolling:
    case Situation::kNoVerdict:
      return {};
    case Situation::kTrusted:
    case Situation::kRevoked:
      rec = store.recordAppraisal(
          appraisal(name, now - 12'000, 600'000, AppraisalStatus::kAffirming, "[]"));
      break;
    case Situation::kFindings:
      rec = store.recordAppraisal(
          appraisal(name, now - 12'000, 600'000, AppraisalStatus::kAffirming, kTwoFindings));
      break;
    case Situation::kStale:
      rec = store.recordAppraisal(
          appraisal(name, now - 95'000, 90'000, AppraisalStatus::kAffirming, "[]"));
      break;
    case Situation::kUntrusted:
      rec = store.recordAppraisal(
          appraisal(name, now - 10'000, 600'000, AppraisalStatus::kContraindicated, kRuncFailure));
      break;
  }
  if (!rec) return std::unexpected(rec.error());
  if (situation == Situation::kRevoked) {
    if (auto r = store.revokeNode(name, now - 1000); !r) return std::unexpected(r.error());
  }
  return {};
}

}  // namespace bulwark::server::sched::test
