// The Store-facing half of the appraisal pipeline (DESIGN §3 step 4): authenticate
// the node, consume its nonce, run the pure pipeline (pipeline.h) with the node's AK
// and the current policy, sign the EAR, store the appraisal with its evidence, and
// hand out the next nonce. Also issues nonces (GET /v1/nonce, enrollment) and
// re-appraises stored evidence after policy changes.
//
// Thread-safe: one Appraiser serves every request thread. Caches (AK keys by AK name,
// the policy snapshot by policy version) are safe to share between replicas because
// AK names are hashes of the key and the policy version moves with every change.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "attest/credential/rng.h"
#include "attest/ear/ear.h"
#include "attest/ima/ima_policy.h"
#include "attest/quote/ak_key.h"
#include "server/appraisal/api_error.h"
#include "server/appraisal/pipeline.h"
#include "server/store/store.h"

namespace bulwark::server {

using NowFn = std::function<Millis()>;

struct AppraiserOptions {
  attest::PcrSelection selection;  // one bank; what agents must quote
  std::uint32_t measurement_pcr = 15;
  std::chrono::seconds nonce_ttl{120};
  std::chrono::seconds freshness_ttl{600};
  std::map<std::string, IsolationProfile> profiles;  // by node group; "default" for the rest
  std::optional<attest::ima::ImaPolicy> ima_policy;
  std::shared_ptr<const attest::eventlog::CompiledBootPolicy> boot_policy;  // nullptr: replay only
  attest::VerifierId verifier_id{"https://github.com/bulwark", "bulwark-verifier 0.1.0"};
};

// Who called: the node named by a verified agent client certificate.
struct AgentIdentity {
  std::string node;
  std::string cert_serial;  // lower-case hex of the certificate serial
};

struct NonceGrant {
  Bytes nonce;
  Millis expires_at = 0;
};

struct AttestOutcome {
  AppraisalRecord record;  // as stored (id set)
  Verdict verdict;
  NonceGrant next;
  // The node's log the verifier now holds a verified copy of (AttestResponse.log_cursors);
  // none when the logs did not replay, so the agent sends them whole next time.
  std::optional<CopyState> cursor;
};

// What re-approving an enrolled node did (POST /v1/nodes/{name}/approve, docs/api.md).
struct Reapproval {
  // Superseded entries of the latest evidence without an approved reference value, now
  // acknowledged for this node (those acknowledged before included).
  std::vector<MeasurementDigest> acknowledged;
  bool reappraised = false;  // see reappraise()
};

class Appraiser {
 public:
  // `ear_key` signs every EAR (P-256); `now` and `rng` are injected for tests.
  Appraiser(Store& store, std::shared_ptr<EVP_PKEY> ear_key, AppraiserOptions options, NowFn now,
            attest::Rng& rng);

  const AppraiserOptions& options() const { return options_; }

  // POST /v1/attest. ApiErrors (nothing stored, nonce untouched unless it was consumed
  // by this very call): 400 evidence-malformed, 403 node-*, 409 nonce-*, 503.
  // An appraised — affirming or not — Evidence is a value.
  [[nodiscard]] ApiResult<AttestOutcome> attest(const AgentIdentity& who, ByteView evidence);

  // GET /v1/nonce. 403 for unknown, revoked, superseded callers.
  [[nodiscard]] ApiResult<NonceGrant> nonceFor(const AgentIdentity& who);
  // A nonce for a node that just enrolled (no identity check: the caller is enrollment).
  [[nodiscard]] ApiResult<NonceGrant> issueNonce(const std::string& node);

  // Re-runs the pipeline on `node`'s latest stored evidence under the current policy.
  // Returns false (nothing stored) when there is nothing to re-appraise: no evidence,
  // node not trusted/untrusted, or its last verdict is no longer fresh (re-appraisal
  // never extends freshness).
  [[nodiscard]] ApiResult<bool> reappraise(const std::string& node);

  // Accepts the measurement history of `node`'s latest stored evidence for this node
  // only: every superseded entry (supersededEntries()) without an approved reference
  // value is acknowledged by `by`, then that evidence is re-appraised. A current unknown
  // digest is never acknowledged (that takes fleet policy). Refuses evidence whose quote
  // or log replay failed (its entries are whatever the sender claimed).
  // ApiErrors (nothing stored): 404 node-unknown, 409 node-revoked | no-evidence |
  // evidence-not-verified, 503.
  [[nodiscard]] ApiResult<Reapproval> reapprove(const std::string& node, const std::string& by);

  // Drops cached state (tests; policy reloads happen by version on their own).
  void clearCaches();

  // Appraisals that resumed from a log copy and replayed the policy memo (the
  // steady-state fast path), and those that had to expand incremental evidence.
  std::uint64_t resumedAppraisals() const { return resumed_.load(); }
  std::uint64_t expandedAppraisals() const { return expanded_.load(); }
  // Those counters in the Prometheus text format (/metrics).
  std::string metricsText() const;

 private:
  // The verified log copy of one node as this replica last saw it (appraiser_logs.cc).
  struct NodeLogs {
    Bytes ak_name;  // the enrollment it belongs to
    Millis enrolled_at = 0;
    std::optional<CopyState> copy;
    std::shared_ptr<const LogPolicyMemo> memo;  // for exactly this copy, or null
  };
  using NodeLogsPtr = std::shared_ptr<const NodeLogs>;
  // How evidence with a kept log is appraised: resumed from the copy (fast path:
  // `resume` and `memo` set) or whole (expanded when shipped incrementally).
  struct LogPlan {
    NodeLogsPtr known;                    // the node's copy as cached or stored
    const CopyState* resume = nullptr;    // fast path: known->copy
    const LogPolicyMemo* memo = nullptr;  // fast path: known->memo
    std::optional<LogCopy> write;         // new copy to store with the appraisal
    NodeLogsPtr after;                    // the cache entry afterwards (its copy: the cursor)
  };
  ApiResult<NodeLogsPtr> nodeLogs(const NodeRecord& node, bool reload);
  ApiResult<LogPlan> prepareLogs(const NodeRecord& node, ParsedEvidence& ev,
                                 std::int64_t policy_version,
                                 const std::vector<MeasurementAcknowledgment>& acks);
  ApiResult<bool> resumable(const NodeRecord& node, const ParsedLog& log, LogPlan& plan);
  void concludeLogs(const NodeRecord& node, const ParsedEvidence& ev, const PipelineResult& result,
                    std::int64_t policy_version, const std::vector<MeasurementAcknowledgment>& acks,
                    LogPlan& plan);
  void forgetLogs(const std::string& node);

 public:
  // Makes the node's latest stored evidence whole again when it was shipped
  // incrementally (its log copies are read from the Store): re-appraisal, re-approval,
  // `policy learn`. 409 no-evidence when the copies no longer cover it.
  [[nodiscard]] ApiResult<void> expandStored(const std::string& node, ParsedEvidence& ev);

 private:
  ApiResult<NodeRecord> authenticate(const AgentIdentity& who);
  ApiResult<std::shared_ptr<const attest::AkKey>> akFor(const NodeRecord& node);
  ApiResult<std::shared_ptr<const PolicySnapshot>> policy();
  const IsolationProfile& profileFor(const std::string& group) const;
  // What POST /v1/attest stores with its verdict, in the same transaction.
  struct NonceTurn {
    ByteView used;     // the evidence's nonce, consumed
    NonceRecord next;  // the next one, issued
  };
  ApiResult<AppraisalRecord> record(const NodeRecord& node, const ParsedEvidence& ev,
                                    const PipelineResult& result, Millis now, Millis fresh_until,
                                    std::int64_t policy_version, ByteView evidence,
                                    const LogCopy* copy = nullptr,
                                    const NonceTurn* turn = nullptr);
  ApiResult<NonceRecord> makeNonce(const std::string& node);
  PipelineResult run(CheckLedger ledger, const NodeRecord& node, const ParsedEvidence& ev,
                     const attest::AkKey& ak, const PolicySnapshot& policy,
                     const std::vector<MeasurementAcknowledgment>& acknowledged) const;
  PipelineInput inputFor(const NodeRecord& node, const ParsedEvidence& ev, const attest::AkKey& ak,
                         const PolicySnapshot& policy) const;
  ApiResult<std::vector<MeasurementAcknowledgment>> acknowledgments(const std::string& node);

  Store& store_;
  std::shared_ptr<EVP_PKEY> ear_key_;
  AppraiserOptions options_;
  IsolationProfile default_profile_;
  NowFn now_;
  attest::Rng& rng_;

  // Expired nonces and enrollments are purged at most once per kPurgeEvery, on the way.
  void purgeExpired(Millis now);
  static constexpr Millis kPurgeEvery = 60000;
  std::atomic<Millis> last_purge_{0};

  std::mutex mu_;  // guards the caches below
  std::map<Bytes, std::shared_ptr<const attest::AkKey>> ak_cache_;
  std::shared_ptr<const PolicySnapshot> policy_;
  std::unordered_map<std::string, NodeLogsPtr> node_logs_;
  std::atomic<std::uint64_t> resumed_{0};
  std::atomic<std::uint64_t> expanded_{0};
};

// The EAR for one verdict: submodule = node name, eat_nonce = report nonce,
// iat = appraised_at, exp = fresh_until (seconds). Exposed for tests.
[[nodiscard]] Result<attest::Ear> makeEar(const std::string& node, const Verdict& verdict,
                                          ByteView nonce, Millis appraised_at, Millis fresh_until,
                                          std::int64_t policy_version,
                                          const attest::VerifierId& verifier_id);

AppraisalStatus toAppraisalStatus(attest::Tier tier);

}  // namespace bulwark::server
