// SqlStore: setup, nodes and enrollment.
#include "server/store/sql_store.h"

#include "server/store/migrations.h"
#include "server/store/sql_rows.h"
#include "server/store/validate.h"

namespace bulwark::server {

namespace {

Result<NodeRecord> singleNode(Result<SqlResult> result) {
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return fail(ErrorCode::kNotFound, "node not found", "store");
  return rows::nodeFromRow(result->rows.front());
}

Result<NodeRecord> readNode(SqlConnection& conn, std::string_view name) {
  auto node = singleNode(conn.query(rows::select(rows::kNodeColumns, "nodes", "WHERE name = $1"),
                                    {std::string(name)}));
  if (!node && node.error().code() == ErrorCode::kNotFound) return rows::notFound("node", name);
  return node;
}

// The enrolling → untrusted transition for an approved node with no verdict yet.
constexpr std::string_view kApproveSql =
    "UPDATE nodes SET state = 'untrusted', approved_at = $2, updated_at = $2 "
    "WHERE name = $1 AND state = 'enrolling' RETURNING ";

// Creates the node, or re-keys it after re-enrollment (TPM clear): new EK/AK, TPM counters
// and the latest-verdict pointer cleared so an appraisal of the old AK cannot vouch for
// the new one. A revoked node is left alone (the WHERE makes RETURNING empty).
constexpr std::string_view kUpsertNodeSql =
    "INSERT INTO nodes (name, state, node_group, ek_cert, ek_public, ak_public, ak_name, "
    "enrolled_at, approved_at, client_cert_serial, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8) "
    "ON CONFLICT (name) DO UPDATE SET state = excluded.state, "
    "node_group = CASE WHEN excluded.node_group = '' THEN nodes.node_group "
    "ELSE excluded.node_group END, "
    "ek_cert = excluded.ek_cert, ek_public = excluded.ek_public, "
    "ak_public = excluded.ak_public, ak_name = excluded.ak_name, "
    "enrolled_at = excluded.enrolled_at, approved_at = excluded.approved_at, "
    "client_cert_serial = excluded.client_cert_serial, reset_count = NULL, "
    "restart_count = NULL, clock = NULL, latest_appraisal_id = NULL, "
    "latest_appraised_at = NULL, updated_at = excluded.updated_at "
    "WHERE nodes.state <> 'revoked' RETURNING ";

}  // namespace

Result<void> SqlStore::initialize() {
  if (auto migrated = migrate(*pool_); !migrated) return std::unexpected(migrated.error());
  return {};
}

Result<std::int64_t> SqlStore::schemaVersion() {
  return withConnection(*pool_, [](SqlConnection& conn) -> Result<std::int64_t> {
    auto r = conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_version", {});
    if (!r) return std::unexpected(r.error());
    return r->rows.empty() ? 0 : r->rows[0].integer(0);
  });
}

Result<NodeRecord> SqlStore::getNode(std::string_view name) {
  if (auto ok = validateNodeName(name); !ok) return std::unexpected(ok.error());
  return withConnection(*pool_, [&](SqlConnection& conn) { return readNode(conn, name); });
}

Result<std::vector<NodeRecord>> SqlStore::listNodes() {
  return withConnection(*pool_, [](SqlConnection& conn) -> Result<std::vector<NodeRecord>> {
    auto r = conn.query(rows::select(rows::kNodeColumns, "nodes", "ORDER BY name"), {});
    if (!r) return std::unexpected(r.error());
    std::vector<NodeRecord> out;
    out.reserve(r->rows.size());
    for (const auto& row : r->rows) {
      auto node = rows::nodeFromRow(row);
      if (!node) return std::unexpected(node.error());
      out.push_back(std::move(*node));
    }
    return out;
  });
}

Result<NodeRecord> SqlStore::approveNode(std::string_view name, Millis now) {
  if (auto ok = validateNodeName(name); !ok) return std::unexpected(ok.error());
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<NodeRecord> {
    auto updated = singleNode(conn.query(std::string(kApproveSql) + std::string(rows::kNodeColumns),
                                         {std::string(name), now}));
    if (updated || updated.error().code() != ErrorCode::kNotFound) return updated;
    auto existing = readNode(conn, name);
    if (!existing) return existing;
    return fail(ErrorCode::kInvalidArgument,
                "node '" + std::string(name) + "' is " +
                    std::string(nodeStateName(existing->state)) + ", not enrolling",
                "store");
  });
}

Result<NodeRecord> SqlStore::revokeNode(std::string_view name, Millis now) {
  if (auto ok = validateNodeName(name); !ok) return std::unexpected(ok.error());
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<NodeRecord> {
    auto updated = singleNode(conn.query(
        "UPDATE nodes SET state = 'revoked', updated_at = $2 WHERE name = $1 RETURNING " +
            std::string(rows::kNodeColumns),
        {std::string(name), now}));
    if (!updated && updated.error().code() == ErrorCode::kNotFound) {
      return rows::notFound("node", name);
    }
    return updated;
  });
}

Result<void> SqlStore::setNodeGroup(std::string_view name, std::string_view group, Millis now) {
  if (auto ok = validateNodeName(name); !ok) return ok;
  if (auto ok = validateGroup(group); !ok) return ok;
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<void> {
    auto r = conn.query("UPDATE nodes SET node_group = $2, updated_at = $3 WHERE name = $1",
                        {std::string(name), std::string(group), now});
    if (!r) return std::unexpected(r.error());
    if (r->affected == 0) return rows::notFound("node", name);
    return {};
  });
}

Result<void> SqlStore::deleteNode(std::string_view name) {
  if (auto ok = validateNodeName(name); !ok) return ok;
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<void> {
    // Nonces, evidence and appraisals go with the node (ON DELETE CASCADE).
    auto r = conn.query("DELETE FROM nodes WHERE name = $1", {std::string(name)});
    if (!r) return std::unexpected(r.error());
    if (r->affected == 0) return rows::notFound("node", name);
    auto pending =
        conn.query("DELETE FROM pending_enrollments WHERE node = $1", {std::string(name)});
    if (!pending) return std::unexpected(pending.error());
    return {};
  });
}

Result<void> SqlStore::createPendingEnrollment(const PendingEnrollment& p) {
  if (auto ok = validatePendingEnrollment(p); !ok) return ok;
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<void> {
    auto state = conn.query("SELECT state FROM nodes WHERE name = $1", {p.node});
    if (!state) return std::unexpected(state.error());
    if (!state->rows.empty() && state->rows[0].text(0) == "revoked") {
      return fail(ErrorCode::kInvalidArgument, "node '" + p.node + "' is revoked", "store");
    }
    auto r = conn.query("INSERT INTO pending_enrollments (" + std::string(rows::kPendingColumns) +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                        {p.id, p.node, p.group, p.ek_cert, p.ek_public, p.ak_public, p.ak_name,
                         p.secret_hash, p.created_at, p.expires_at, p.attempts});
    if (!r) return std::unexpected(r.error());
    return {};
  });
}

Result<PendingEnrollment> SqlStore::recordEnrollmentAttempt(std::string_view id, Millis now) {
  if (auto ok = validateEnrollmentId(id); !ok) return std::unexpected(ok.error());
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<PendingEnrollment> {
    auto r = conn.query(
        "UPDATE pending_enrollments SET attempts = attempts + 1 "
        "WHERE id = $1 AND expires_at > $2 RETURNING " +
            std::string(rows::kPendingColumns),
        {std::string(id), now});
    if (!r) return std::unexpected(r.error());
    if (r->rows.empty()) return rows::notFound("pending enrollment", id);
    return rows::pendingFromRow(r->rows.front());
  });
}

Result<NodeRecord> SqlStore::completeEnrollment(std::string_view id,
                                                const CompleteEnrollment& done) {
  if (auto ok = validateEnrollmentId(id); !ok) return std::unexpected(ok.error());
  if (auto ok = validateClientCertSerial(done.client_cert_serial); !ok) {
    return std::unexpected(ok.error());
  }
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<NodeRecord> {
    // The DELETE is the claim: of two replicas racing, one gets the row, one gets nothing.
    auto claimed = conn.query(
        "DELETE FROM pending_enrollments WHERE id = $1 AND expires_at > $2 "
        "RETURNING " +
            std::string(rows::kPendingColumns),
        {std::string(id), done.now});
    if (!claimed) return std::unexpected(claimed.error());
    if (claimed->rows.empty()) return rows::notFound("pending enrollment", id);
    PendingEnrollment p = rows::pendingFromRow(claimed->rows.front());
    SqlValue approved_at = done.approve ? SqlValue(done.now) : SqlValue();
    std::string state(nodeStateName(done.approve ? NodeState::kUntrusted : NodeState::kEnrolling));
    auto node = singleNode(conn.query(std::string(kUpsertNodeSql) + std::string(rows::kNodeColumns),
                                      {p.node, state, p.group, p.ek_cert, p.ek_public, p.ak_public,
                                       p.ak_name, done.now, approved_at, done.client_cert_serial}));
    if (!node && node.error().code() == ErrorCode::kNotFound) {
      return fail(ErrorCode::kInvalidArgument, "node '" + p.node + "' is revoked", "store");
    }
    if (!node) return node;
    // Evidence quoted by the old AK is useless for re-appraisal under the new one.
    auto dropped = conn.query("DELETE FROM evidence WHERE node = $1", {p.node});
    if (!dropped) return std::unexpected(dropped.error());
    // Acknowledged history belonged to the old TPM's boots; the new one starts clean.
    auto acks = conn.query("DELETE FROM node_acknowledgments WHERE node = $1", {p.node});
    if (!acks) return std::unexpected(acks.error());
    // So do its verified logs (a new AK quotes them again from offset 0).
    auto logs = conn.query("DELETE FROM log_copies WHERE node = $1", {p.node});
    if (!logs) return std::unexpected(logs.error());
    return node;
  });
}

Result<std::int64_t> SqlStore::purgeExpiredEnrollments(Millis now) {
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<std::int64_t> {
    auto r = conn.query("DELETE FROM pending_enrollments WHERE expires_at <= $1", {now});
    if (!r) return std::unexpected(r.error());
    return r->affected;
  });
}

}  // namespace bulwark::server
