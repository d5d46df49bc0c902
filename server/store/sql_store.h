// SqlStore: the Store operations written once in SQL both engines accept, over a
// ConnectionPool of engine-specific connections. SqliteStore and PostgresStore only
// differ in how they open connections (docs/storage.md §Engines).
#pragma once

#include <memory>

#include "server/store/sql.h"
#include "server/store/store.h"

namespace bulwark::server {

class SqlStore : public Store {
 public:
  Result<NodeRecord> getNode(std::string_view name) override;
  Result<std::vector<NodeRecord>> listNodes() override;
  Result<NodeRecord> approveNode(std::string_view name, Millis now) override;
  Result<NodeRecord> revokeNode(std::string_view name, Millis now) override;
  Result<void> setNodeGroup(std::string_view name, std::string_view group, Millis now) override;
  Result<void> deleteNode(std::string_view name) override;

  Result<void> createPendingEnrollment(const PendingEnrollment& pending) override;
  Result<PendingEnrollment> recordEnrollmentAttempt(std::string_view id, Millis now) override;
  Result<NodeRecord> completeEnrollment(std::string_view id,
                                        const CompleteEnrollment& done) override;
  Result<std::int64_t> purgeExpiredEnrollments(Millis now) override;

  Result<void> issueNonce(const NonceRecord& nonce) override;
  Result<NonceVerdict> checkNonce(std::string_view node, ByteView nonce, Millis now) override;
  Result<std::int64_t> purgeNonces(Millis now) override;

  Result<AppraisalRecord> recordAppraisal(const AppraisalRecord& appraisal,
                                          std::optional<ByteView> evidence = std::nullopt,
                                          const LogCopy* copy = nullptr) override;
  Result<AppraisalRecord> latestAppraisal(std::string_view node) override;
  Result<std::vector<AppraisalRecord>> appraisalHistory(std::string_view node,
                                                        const HistoryQuery& query) override;
  Result<std::vector<FleetEntry>> fleet(std::optional<std::string_view> group) override;
  Result<StoredEvidence> latestEvidence(std::string_view node) override;
  Result<std::expected<AppraisalRecord, NonceRejection>> recordAttestation(
      ByteView nonce, Millis now, const AppraisalRecord& appraisal, ByteView evidence,
      const LogCopy* copy, const NonceRecord& next) override;
  Result<std::optional<LogCopy>> logCopy(std::string_view node, bool with_content) override;

  Result<std::int64_t> acknowledgeMeasurements(std::string_view node,
                                               std::span<const MeasurementDigest> entries,
                                               std::string_view by, Millis now) override;
  Result<std::vector<MeasurementAcknowledgment>> listAcknowledgments(
      std::string_view node) override;

  Result<std::int64_t> policyVersion() override;
  Result<PolicyChange> addReferenceValues(std::span<const ReferenceValue> values,
                                          Millis now) override;
  Result<PolicyChange> approveReferenceValues(const ReferenceFilter& filter,
                                              std::string_view approved_by, Millis now) override;
  Result<PolicyChange> revokeReferenceValues(const ReferenceFilter& filter) override;
  Result<std::vector<ReferenceValue>> listReferenceValues(const ReferenceFilter& filter) override;
  Result<ImageRule> addImageRule(const ImageRule& rule) override;
  Result<PolicyChange> removeImageRule(std::int64_t id) override;
  Result<std::vector<ImageRule>> listImageRules() override;

  Result<void> putApiToken(const ApiToken& token) override;
  Result<void> replaceApiTokens(std::span<const ApiToken> tokens) override;
  Result<ApiToken> findApiToken(ByteView token_hash) override;
  Result<std::vector<ApiToken>> listApiTokens() override;
  Result<void> deleteApiToken(std::string_view name) override;

  // Schema version the database is at (after open: latestSchemaVersion()).
  [[nodiscard]] Result<std::int64_t> schemaVersion();

 protected:
  explicit SqlStore(std::unique_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {}
  // Applies migrations; called once by the engine's open().
  [[nodiscard]] Result<void> initialize();

 private:
  // recordAppraisal's writes, inside the caller's transaction.
  Result<AppraisalRecord> recordIn(SqlConnection& conn, const AppraisalRecord& appraisal,
                                   std::optional<ByteView> evidence, const LogCopy* copy);
  Result<PolicyChange> setReferenceState(const ReferenceFilter& filter, ReferenceState target,
                                         std::string_view approved_by, Millis now);

  std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace bulwark::server
