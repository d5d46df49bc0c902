// Store: everything the verifier persists, behind one interface (DESIGN §6).
//
// Implementations: SqliteStore (embedded default) and PostgresStore (shared by
// replicas). Both are thread-safe: any method may be called from any thread.
// Every mutating method is one database transaction: on any error nothing it would
// have written is stored. Inputs are validated before the transaction starts.
//
// Errors (bulwark::Error):
//   kInvalidArgument  input violates a documented limit/format or a constraint
//                     (duplicate name, unknown node for a foreign key, ...)
//   kNotFound         the named row does not exist
//   kUnavailable      the database cannot be reached / is locked past the busy
//                     timeout / a transaction was aborted by the server; retryable
//   kUnsupported      the database schema is newer than this binary
//   kIo, kInternal    the database failed otherwise
// A Result<T> value therefore always means the operation happened.
#pragma once

#include <memory>
#include <span>

#include "attest/core/error.h"
#include "server/store/store_types.h"

namespace bulwark::server {

// Outcome of consuming a nonce: an Error means "could not check" (database),
// the inner unexpected means "checked and rejected" with a named reason.
using NonceVerdict = std::expected<void, NonceRejection>;

// One measurement (kind, subject, sha256) as the measurement log names it
// (docs/measurement-log.md); kind and subject follow the reference value rules.
struct MeasurementDigest {
  std::string kind;
  std::string subject;
  Bytes sha256;  // 32 bytes
};

// An operator's acceptance, for one node, of a measurement that a later entry of the
// same boot superseded (re-approval; docs/verifier.md "Superseded entries").
struct MeasurementAcknowledgment {
  std::string node;
  std::string kind;
  std::string subject;
  Bytes sha256;
  Millis acknowledged_at = 0;
  std::string acknowledged_by;  // principal name of the admin who re-approved
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- nodes ----
  // Node rows are created only by completeEnrollment(); these manage them afterwards.
  [[nodiscard]] virtual Result<NodeRecord> getNode(std::string_view name) = 0;
  [[nodiscard]] virtual Result<std::vector<NodeRecord>> listNodes() = 0;
  // Operator approval: enrolling → untrusted (trusted only after affirming evidence).
  // kInvalidArgument if the node is not enrolling.
  [[nodiscard]] virtual Result<NodeRecord> approveNode(std::string_view name, Millis now) = 0;
  // Any state → revoked. A revoked node accepts no appraisal and no enrollment.
  [[nodiscard]] virtual Result<NodeRecord> revokeNode(std::string_view name, Millis now) = 0;
  [[nodiscard]] virtual Result<void> setNodeGroup(std::string_view name, std::string_view group,
                                                  Millis now) = 0;
  // Removes the node with its nonces, evidence and appraisal history.
  [[nodiscard]] virtual Result<void> deleteNode(std::string_view name) = 0;

  // ---- enrollment ----
  // kInvalidArgument if the id exists or a field is malformed.
  [[nodiscard]] virtual Result<void> createPendingEnrollment(const PendingEnrollment& pending) = 0;
  // Counts one activation attempt and returns the enrollment with the new count.
  // kNotFound if the id is unknown or expired at `now`.
  [[nodiscard]] virtual Result<PendingEnrollment> recordEnrollmentAttempt(std::string_view id,
                                                                          Millis now) = 0;
  // Atomically claims the pending enrollment (exactly once across replicas) and creates
  // or re-keys its node: new EK/AK, counters and latest verdict cleared (an old verdict
  // must not vouch for a new AK), state enrolling or untrusted when approve is set.
  // kNotFound if unknown/expired/already claimed; kInvalidArgument if the node is revoked.
  [[nodiscard]] virtual Result<NodeRecord> completeEnrollment(std::string_view id,
                                                              const CompleteEnrollment& done) = 0;
  // Removes expired enrollments; returns how many.
  [[nodiscard]] virtual Result<std::int64_t> purgeExpiredEnrollments(Millis now) = 0;

  // ---- nonces (DESIGN §3 attestation step 1) ----
  // kInvalidArgument for a duplicate value, a bad length or an unknown node.
  [[nodiscard]] virtual Result<void> issueNonce(const NonceRecord& nonce) = 0;
  // Whether `nonce` exists, is bound to `node`, is unused and expires after `now`, without
  // using it: the Appraiser checks before it appraises; recordAttestation consumes.
  [[nodiscard]] virtual Result<NonceVerdict> checkNonce(std::string_view node, ByteView nonce,
                                                        Millis now) = 0;
  // Deletes nonces whose expiry is at or before `now` (used or not: until then a used
  // nonce stays, so a replay is reported as a replay).
  [[nodiscard]] virtual Result<std::int64_t> purgeNonces(Millis now) = 0;

  // ---- appraisals ----
  // Stores the appraisal (and, when given, the evidence it judged as the node's latest
  // evidence, for re-appraisal after a policy change). If it is the node's newest by
  // appraised_at, it also becomes the node's latest verdict, sets the node's counters,
  // and the state: affirming → trusted, otherwise untrusted. Returns the stored record (id set).
  // kNotFound for an unknown node; kInvalidArgument if the node is enrolling or revoked.
  // `copy` (the node's verified measurement log, LogCopy) replaces the node's copy in the
  // same transaction, so a stored verdict and the log state it was judged on never
  // diverge. A bad copy is kInternal.
  [[nodiscard]] virtual Result<AppraisalRecord> recordAppraisal(
      const AppraisalRecord& appraisal, std::optional<ByteView> evidence = std::nullopt,
      const LogCopy* copy = nullptr) = 0;
  // kNotFound if the node is unknown or has no (current) verdict.
  [[nodiscard]] virtual Result<AppraisalRecord> latestAppraisal(std::string_view node) = 0;
  // Newest first. kNotFound for an unknown node; empty for a node without history.
  [[nodiscard]] virtual Result<std::vector<AppraisalRecord>> appraisalHistory(
      std::string_view node, const HistoryQuery& query) = 0;
  // Every node with its latest verdict, ordered by name; one indexed join.
  // `group`, when given, restricts to one node group.
  [[nodiscard]] virtual Result<std::vector<FleetEntry>> fleet(
      std::optional<std::string_view> group = std::nullopt) = 0;
  [[nodiscard]] virtual Result<StoredEvidence> latestEvidence(std::string_view node) = 0;
  // One POST /v1/attest in ONE transaction: consumes `nonce` — one conditional UPDATE, so
  // it succeeds exactly once across threads and replicas (a rejection, named as
  // checkNonce names it, stores nothing and is the inner unexpected) — records the appraisal with its
  // evidence and log copy as recordAppraisal, and issues `next`. So a stored verdict
  // always consumed its nonce, and an attestation costs one commit.
  [[nodiscard]] virtual Result<std::expected<AppraisalRecord, NonceRejection>> recordAttestation(
      ByteView nonce, Millis now, const AppraisalRecord& appraisal, ByteView evidence,
      const LogCopy* copy, const NonceRecord& next) = 0;
  // The node's verified log copy (none before its first verified log); `with_content`
  // false leaves LogCopy::content empty (the hot path needs only the cursor).
  [[nodiscard]] virtual Result<std::optional<LogCopy>> logCopy(std::string_view node,
                                                               bool with_content) = 0;

  // ---- measurement acknowledgments (node re-approval) ----
  // Records that `by` accepted these superseded measurements for `node`. Idempotent: an
  // entry already acknowledged keeps its original time and author. Returns how many
  // entries were new. kNotFound for an unknown node; kInvalidArgument for a malformed
  // entry or author (then nothing is stored).
  [[nodiscard]] virtual Result<std::int64_t> acknowledgeMeasurements(
      std::string_view node, std::span<const MeasurementDigest> entries, std::string_view by,
      Millis now) = 0;
  // The node's acknowledgments ordered by (kind, subject, sha256); kNotFound for an
  // unknown node. Removed with the node and when it re-enrolls.
  [[nodiscard]] virtual Result<std::vector<MeasurementAcknowledgment>> listAcknowledgments(
      std::string_view node) = 0;

  // ---- reference values and image rules (policy) ----
  // Each mutation that changes a row increments the policy version in the same transaction.
  [[nodiscard]] virtual Result<std::int64_t> policyVersion() = 0;
  // Inserts values (state as given: pending for learned ones, approved for imports);
  // exact duplicates (kind, subject, sha256, source) are skipped, not errors.
  [[nodiscard]] virtual Result<PolicyChange> addReferenceValues(
      std::span<const ReferenceValue> values, Millis now) = 0;
  // pending → approved for every match of the filter.
  [[nodiscard]] virtual Result<PolicyChange> approveReferenceValues(const ReferenceFilter& filter,
                                                                    std::string_view approved_by,
                                                                    Millis now) = 0;
  // pending/approved → revoked for every match of the filter. An empty filter is refused
  // (kInvalidArgument) so a typo cannot revoke the whole policy.
  [[nodiscard]] virtual Result<PolicyChange> revokeReferenceValues(
      const ReferenceFilter& filter) = 0;
  [[nodiscard]] virtual Result<std::vector<ReferenceValue>> listReferenceValues(
      const ReferenceFilter& filter) = 0;
  // kInvalidArgument for a malformed value or an existing (kind, value).
  [[nodiscard]] virtual Result<ImageRule> addImageRule(const ImageRule& rule) = 0;
  [[nodiscard]] virtual Result<PolicyChange> removeImageRule(std::int64_t id) = 0;
  [[nodiscard]] virtual Result<std::vector<ImageRule>> listImageRules() = 0;

  // ---- API tokens (stored hashed) ----
  [[nodiscard]] virtual Result<void> putApiToken(const ApiToken& token) = 0;
  // Replaces the whole token set (tokens come from the config file) atomically.
  [[nodiscard]] virtual Result<void> replaceApiTokens(std::span<const ApiToken> tokens) = 0;
  // kNotFound when no token has this SHA-256.
  [[nodiscard]] virtual Result<ApiToken> findApiToken(ByteView token_hash) = 0;
  [[nodiscard]] virtual Result<std::vector<ApiToken>> listApiTokens() = 0;
  [[nodiscard]] virtual Result<void> deleteApiToken(std::string_view name) = 0;
};

}  // namespace bulwark::server
