// Row ↔ record mapping shared by the SqlStore translation units (internal header).
#pragma once

#include <string_view>

#include "server/store/sql.h"
#include "server/store/store_types.h"

namespace bulwark::server::rows {

// Column lists in the order the *FromRow functions read them.
inline constexpr std::string_view kNodeColumns =
    "name, state, node_group, ek_cert, ek_public, ak_public, ak_name, enrolled_at, approved_at, "
    "client_cert_serial, reset_count, restart_count, clock, updated_at";
inline constexpr std::string_view kPendingColumns =
    "id, node, node_group, ek_cert, ek_public, ak_public, ak_name, secret_hash, created_at, "
    "expires_at, attempts";
inline constexpr std::string_view kAppraisalColumns =
    "id, node, appraised_at, status, reasons, trust_vector, ear, evidence_digest, fresh_until, "
    "reset_count, restart_count, clock, policy_version";
inline constexpr std::string_view kReferenceColumns =
    "id, kind, subject, sha256, source, state, created_at, approved_by, approved_at";
inline constexpr std::string_view kImageRuleColumns = "id, kind, value, created_at, created_by";
inline constexpr std::string_view kTokenColumns = "name, role, token_hash, created_at";

// Each returns kInternal when a stored enum spelling is unknown (a schema the CHECK
// constraints should have prevented), instead of guessing.
Result<NodeRecord> nodeFromRow(const SqlRow& row);
PendingEnrollment pendingFromRow(const SqlRow& row);
Result<AppraisalRecord> appraisalFromRow(const SqlRow& row);
Result<ReferenceValue> referenceFromRow(const SqlRow& row);
Result<ImageRule> imageRuleFromRow(const SqlRow& row);
Result<ApiToken> tokenFromRow(const SqlRow& row);

// "SELECT <columns> FROM <table> <rest>"
std::string select(std::string_view columns, std::string_view table, std::string_view rest);

// "a, b" with alias "t" → "t.a, t.b"
std::string prefixed(std::string_view columns, std::string_view alias);

std::unexpected<Error> notFound(std::string_view what, std::string_view key);

}  // namespace bulwark::server::rows
