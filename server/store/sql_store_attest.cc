// SqlStore: nonces, appraisals, evidence and the fleet view.
#include "attest/core/digest.h"
#include "server/store/sql_rows.h"
#include "server/store/sql_store.h"
#include "server/store/validate.h"

namespace bulwark::server {

namespace {

// "This appraisal is the node's newest": ties go to the later writer.
constexpr std::string_view kNewer = "(latest_appraised_at IS NULL OR latest_appraised_at <= $3)";

std::string newerOr(std::string_view value, std::string_view otherwise) {
  return "CASE WHEN " + std::string(kNewer) + " THEN " + std::string(value) + " ELSE " +
         std::string(otherwise) + " END";
}

// Moves the node's latest-verdict pointer, state and TPM counters to this appraisal if it
// is the newest; only for approved, unrevoked nodes. Counters are kept when the appraisal
// carries none. Row lock + re-check of the WHERE serializes replicas racing on one node.
std::string updateNodeSql() {
  return "UPDATE nodes SET latest_appraisal_id = " + newerOr("$2", "latest_appraisal_id") +
         ", state = " + newerOr("$4", "state") +
         ", reset_count = " + newerOr("COALESCE($5, reset_count)", "reset_count") +
         ", restart_count = " + newerOr("COALESCE($6, restart_count)", "restart_count") +
         ", clock = " + newerOr("COALESCE($7, clock)", "clock") +
         ", updated_at = " + newerOr("$3", "updated_at") +
         ", latest_appraised_at = " + newerOr("$3", "latest_appraised_at") +
         " WHERE name = $1 AND state IN ('trusted', 'untrusted') RETURNING name";
}

constexpr std::string_view kInsertAppraisalSql =
    "INSERT INTO appraisals (node, appraised_at, status, reasons, trust_vector, ear, "
    "evidence_digest, fresh_until, reset_count, restart_count, clock, policy_version) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";

constexpr std::string_view kUpsertEvidenceSql =
    "INSERT INTO evidence (node, received_at, digest, bytes) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (node) DO UPDATE SET received_at = excluded.received_at, "
    "digest = excluded.digest, bytes = excluded.bytes "
    "WHERE evidence.received_at <= excluded.received_at";

Result<NodeState> nodeState(SqlConnection& conn, std::string_view node) {
  auto r = conn.query("SELECT state FROM nodes WHERE name = $1", {std::string(node)});
  if (!r) return std::unexpected(r.error());
  if (r->rows.empty()) return rows::notFound("node", node);
  auto state = nodeStateFromName(r->rows[0].text(0));
  if (!state) return fail(ErrorCode::kInternal, "unknown stored node state", "store");
  return *state;
}

Result<void> requireAppraisable(SqlConnection& conn, std::string_view node) {
  auto state = nodeState(conn, node);
  if (!state) return std::unexpected(state.error());
  if (*state == NodeState::kEnrolling || *state == NodeState::kRevoked) {
    return fail(ErrorCode::kInvalidArgument,
                "node '" + std::string(node) + "' is " + std::string(nodeStateName(*state)) +
                    " and accepts no appraisal",
                "store");
  }
  return {};
}

Result<std::vector<AppraisalRecord>> appraisals(Result<SqlResult> r) {
  if (!r) return std::unexpected(r.error());
  std::vector<AppraisalRecord> out;
  out.reserve(r->rows.size());
  for (const auto& row : r->rows) {
    auto a = rows::appraisalFromRow(row);
    if (!a) return std::unexpected(a.error());
    out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace

Result<void> SqlStore::issueNonce(const NonceRecord& n) {
  if (auto ok = validateNonce(n); !ok) return ok;
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<void> {
    // Unknown node → foreign key violation → kInvalidArgument.
    auto r = conn.query(
        "INSERT INTO nonces (value, node, issued_at, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        {n.value, n.node, n.issued_at, n.expires_at});
    if (!r) return std::unexpected(r.error());
    return {};
  });
}

namespace {
// Why `value` is not a usable nonce of `node` (or that it is).
Result<NonceVerdict> judgeNonce(SqlConnection& conn, std::string_view node, const Bytes& value,
                                Millis now) {
  auto why = conn.query("SELECT node, expires_at, used_at FROM nonces WHERE value = $1", {value});
  if (!why) return std::unexpected(why.error());
  if (why->rows.empty()) return NonceVerdict(std::unexpected(NonceRejection::kUnknown));
  const SqlRow& row = why->rows[0];
  if (row.text(0) != node) return NonceVerdict(std::unexpected(NonceRejection::kForeign));
  if (!row.isNull(2)) return NonceVerdict(std::unexpected(NonceRejection::kReplayed));
  if (row.integer(1) <= now) return NonceVerdict(std::unexpected(NonceRejection::kExpired));
  return NonceVerdict();
}

// The single statement that makes a nonce single-use across threads and replicas.
Result<NonceVerdict> useNonce(SqlConnection& conn, std::string_view node, const Bytes& value,
                              Millis now) {
  auto used = conn.query(
      "UPDATE nonces SET used_at = $3 WHERE value = $1 AND node = $2 "
      "AND used_at IS NULL AND expires_at > $3 RETURNING node",
      {value, std::string(node), now});
  if (!used) return std::unexpected(used.error());
  if (!used->rows.empty()) return NonceVerdict();
  // Rejected: find out why, for the named reason (read after the fact; it only labels).
  auto why = judgeNonce(conn, node, value, now);
  if (why && *why) return NonceVerdict(std::unexpected(NonceRejection::kReplayed));  // raced
  return why;
}
}  // namespace

Result<NonceVerdict> SqlStore::checkNonce(std::string_view node, ByteView nonce, Millis now) {
  if (auto ok = validateNodeName(node); !ok) return std::unexpected(ok.error());
  if (nonce.size() < kMinNonce || nonce.size() > kMaxNonce) {
    return NonceVerdict(std::unexpected(NonceRejection::kUnknown));
  }
  Bytes value(nonce.begin(), nonce.end());
  return withConnection(*pool_,
                        [&](SqlConnection& conn) { return judgeNonce(conn, node, value, now); });
}

Result<std::int64_t> SqlStore::purgeNonces(Millis now) {
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<std::int64_t> {
    auto r = conn.query("DELETE FROM nonces WHERE expires_at <= $1", {now});
    if (!r) return std::unexpected(r.error());
    return r->affected;
  });
}

namespace {
Result<void> validateLogCopy(const AppraisalRecord& a, const LogCopy& c) {
  // The verifier builds copies itself: a bad one is its own bug (500), never the node's.
  auto bad = [](std::string what) {
    return fail(ErrorCode::kInternal, "log copy: " + std::move(what), "store");
  };
  if (c.node != a.node) return bad("belongs to another node");
  if (c.source.empty() || c.source.size() > 4096) return bad("source must be 1..4096 bytes");
  if (c.content.size() > kMaxLogCopy) return bad("larger than " + std::to_string(kMaxLogCopy));
  if (c.bytes != static_cast<std::int64_t>(c.content.size()) || c.entries < 0)
    return bad("length or record count does not match the content");
  if (!constantTimeEqual(sha256(asBytes(c.content)), c.sha256))
    return bad("content does not match its digest");
  if (c.bank.empty()) return bad("no PCR bank");  // an empty chain: no record extended yet
  return {};
}

constexpr std::string_view kUpsertLogCopySql =
    "INSERT INTO log_copies (node, source, reset_count, entries, bytes, sha256, bank, chain, "
    "content, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (node) DO UPDATE SET source = excluded.source, "
    "reset_count = excluded.reset_count, "
    "entries = excluded.entries, bytes = excluded.bytes, sha256 = excluded.sha256, "
    "bank = excluded.bank, chain = excluded.chain, content = excluded.content, "
    "updated_at = excluded.updated_at WHERE log_copies.updated_at <= excluded.updated_at";

Result<void> validateRecord(const AppraisalRecord& a, std::optional<ByteView> evidence,
                            const LogCopy* copy) {
  if (auto ok = validateAppraisal(a); !ok) return std::unexpected(ok.error());
  if (copy != nullptr) {
    if (auto ok = validateLogCopy(a, *copy); !ok) return std::unexpected(ok.error());
  }
  if (evidence) {
    if (auto ok = validateEvidence(*evidence); !ok) return std::unexpected(ok.error());
    if (!constantTimeEqual(sha256(*evidence), a.evidence_digest)) {
      return fail(ErrorCode::kInvalidArgument, "evidence does not match its digest", "store");
    }
  }
  return {};
}
}  // namespace

Result<AppraisalRecord> SqlStore::recordAppraisal(const AppraisalRecord& a,
                                                  std::optional<ByteView> evidence,
                                                  const LogCopy* copy) {
  if (auto ok = validateRecord(a, evidence, copy); !ok) return std::unexpected(ok.error());
  return inTransaction(*pool_, [&](SqlConnection& conn) { return recordIn(conn, a, evidence, copy); });
}

Result<std::expected<AppraisalRecord, NonceRejection>> SqlStore::recordAttestation(
    ByteView nonce, Millis now, const AppraisalRecord& a, ByteView evidence,
    const LogCopy* copy, const NonceRecord& next) {
  using Out = std::expected<AppraisalRecord, NonceRejection>;
  if (auto ok = validateRecord(a, evidence, copy); !ok) return std::unexpected(ok.error());
  if (auto ok = validateNonce(next); !ok) return std::unexpected(ok.error());
  if (next.node != a.node) return fail(ErrorCode::kInvalidArgument, "next nonce for another node", "store");
  if (nonce.size() < kMinNonce || nonce.size() > kMaxNonce) return Out(std::unexpected(NonceRejection::kUnknown));
  Bytes value(nonce.begin(), nonce.end());
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<Out> {
    auto used = useNonce(conn, a.node, value, now);
    if (!used) return std::unexpected(used.error());
    if (!*used) return Out(std::unexpected(used->error()));  // nothing written
    auto stored = recordIn(conn, a, evidence, copy);
    if (!stored) return std::unexpected(stored.error());
    auto issued = conn.query(
        "INSERT INTO nonces (value, node, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
        {next.value, next.node, next.issued_at, next.expires_at});
    if (!issued) return std::unexpected(issued.error());
    return Out(std::move(*stored));
  });
}

Result<AppraisalRecord> SqlStore::recordIn(SqlConnection& conn, const AppraisalRecord& a,
                                           std::optional<ByteView> evidence,
                                           const LogCopy* copy) {
  if (auto ok = requireAppraisable(conn, a.node); !ok) return std::unexpected(ok.error());
  std::string status(appraisalStatusName(a.status));
  auto inserted =
      conn.query(kInsertAppraisalSql,
                 {a.node, a.appraised_at, status, a.reasons_json, a.trust_vector_json, a.ear,
                  a.evidence_digest, a.fresh_until, sqlOptional(a.reset_count),
                  sqlOptional(a.restart_count), sqlOptional(a.clock), a.policy_version});
  if (!inserted) return std::unexpected(inserted.error());
  AppraisalRecord stored = a;
  stored.id = inserted->rows.empty() ? 0 : inserted->rows[0].integer(0);
  bool affirming = a.status == AppraisalStatus::kAffirming;
  std::string state(nodeStateName(affirming ? NodeState::kTrusted : NodeState::kUntrusted));
  auto moved = conn.query(updateNodeSql(),
                          {a.node, stored.id, a.appraised_at, state, sqlOptional(a.reset_count),
                           sqlOptional(a.restart_count), sqlOptional(a.clock)});
  if (!moved) return std::unexpected(moved.error());
  if (moved->rows.empty()) {  // revoked by another replica since requireAppraisable
    return fail(ErrorCode::kInvalidArgument, "node '" + a.node + "' accepts no appraisal",
                "store");
  }
  if (evidence) {
    Bytes bytes(evidence->begin(), evidence->end());
    auto kept = conn.query(kUpsertEvidenceSql,
                           {a.node, a.appraised_at, a.evidence_digest, std::move(bytes)});
    if (!kept) return std::unexpected(kept.error());
  }
  if (copy != nullptr) {
    const LogCopy& c = *copy;
    auto kept = conn.query(kUpsertLogCopySql,
                           {c.node, c.source, c.reset_count, c.entries, c.bytes, c.sha256,
                            c.bank, c.chain, Bytes(c.content.begin(), c.content.end()),
                            a.appraised_at});
    if (!kept) return std::unexpected(kept.error());
  }
  return stored;
}

Result<AppraisalRecord> SqlStore::latestAppraisal(std::string_view node) {
  if (auto ok = validateNodeName(node); !ok) return std::unexpected(ok.error());
  return withConnection(*pool_, [&](SqlConnection& conn) -> Result<AppraisalRecord> {
    auto r = appraisals(
        conn.query(rows::select(rows::prefixed(rows::kAppraisalColumns, "a"),
                                "nodes n JOIN appraisals a ON a.id = n.latest_appraisal_id",
                                "WHERE n.name = $1"),
                   {std::string(node)}));
    if (!r) return std::unexpected(r.error());
    if (!r->empty()) return std::move(r->front());
    if (auto exists = nodeState(conn, node); !exists) return std::unexpected(exists.error());
    return fail(ErrorCode::kNotFound, "node '" + std::string(node) + "' has no verdict", "store");
  });
}

Result<std::vector<AppraisalRecord>> SqlStore::appraisalHistory(std::string_view node,
                                                                const HistoryQuery& q) {
  if (auto ok = validateNodeName(node); !ok) return std::unexpected(ok.error());
  auto limit = static_cast<std::int64_t>(std::clamp<std::size_t>(q.limit, 1, kMaxHistoryLimit));
  std::string where = "WHERE node = $1";
  SqlParams params{std::string(node), limit};
  if (q.since) {
    params.emplace_back(*q.since);
    where += " AND appraised_at >= $" + std::to_string(params.size());
  }
  if (q.before) {
    params.emplace_back(*q.before);
    where += " AND appraised_at < $" + std::to_string(params.size());
  }
  std::string sql = rows::select(rows::kAppraisalColumns, "appraisals",
                                 where + " ORDER BY appraised_at DESC, id DESC LIMIT $2");
  return withConnection(*pool_, [&](SqlConnection& conn) -> Result<std::vector<AppraisalRecord>> {
    if (auto exists = nodeState(conn, node); !exists) return std::unexpected(exists.error());
    return appraisals(conn.query(sql, params));
  });
}

Result<std::vector<FleetEntry>> SqlStore::fleet(std::optional<std::string_view> group) {
  if (group) {
    if (auto ok = validateGroup(*group); !ok) return std::unexpected(ok.error());
  }
  // One pass over nodes joined to appraisals by primary key: O(nodes), no per-node query,
  // and only the columns a listing needs (no key material, no EAR).
  std::string sql = rows::select(
      "n.name, n.state, n.node_group, n.enrolled_at, n.approved_at, n.updated_at, "
      "a.id, a.appraised_at, a.status, a.reasons, a.fresh_until, a.policy_version",
      "nodes n LEFT JOIN appraisals a ON a.id = n.latest_appraisal_id",
      group ? "WHERE n.node_group = $1 ORDER BY n.name" : "ORDER BY n.name");
  SqlParams params;
  if (group) params.emplace_back(std::string(*group));
  return withConnection(*pool_, [&](SqlConnection& conn) -> Result<std::vector<FleetEntry>> {
    auto r = conn.query(sql, params);
    if (!r) return std::unexpected(r.error());
    std::vector<FleetEntry> out;
    out.reserve(r->rows.size());
    for (const auto& row : r->rows) {
      auto state = nodeStateFromName(row.text(1));
      if (!state) return fail(ErrorCode::kInternal, "unknown stored node state", "store");
      FleetEntry entry{NodeSummary{row.text(0), *state, row.text(2), row.integer(3),
                                   row.optInteger(4), row.integer(5)},
                       std::nullopt};
      if (!row.isNull(6)) {
        auto status = appraisalStatusFromName(row.text(8));
        if (!status) return fail(ErrorCode::kInternal, "unknown stored status", "store");
        entry.latest = AppraisalSummary{row.integer(6), row.integer(7),  *status,
                                        row.text(9),    row.integer(10), row.integer(11)};
      }
      out.push_back(std::move(entry));
    }
    return out;
  });
}

Result<StoredEvidence> SqlStore::latestEvidence(std::string_view node) {
  if (auto ok = validateNodeName(node); !ok) return std::unexpected(ok.error());
  return withConnection(*pool_, [&](SqlConnection& conn) -> Result<StoredEvidence> {
    auto r = conn.query("SELECT node, received_at, digest, bytes FROM evidence WHERE node = $1",
                        {std::string(node)});
    if (!r) return std::unexpected(r.error());
    if (r->rows.empty()) return rows::notFound("evidence of node", node);
    const SqlRow& row = r->rows[0];
    return StoredEvidence{row.text(0), row.integer(1), row.blob(2), row.blob(3)};
  });
}

Result<std::optional<LogCopy>> SqlStore::logCopy(std::string_view node, bool with_content) {
  if (auto ok = validateNodeName(node); !ok) return std::unexpected(ok.error());
  return withConnection(*pool_, [&](SqlConnection& conn) -> Result<std::optional<LogCopy>> {
    std::string sql = std::string("SELECT node, source, reset_count, entries, bytes, sha256, bank, "
                                  "chain, updated_at") +
                      (with_content ? ", content" : "") + " FROM log_copies WHERE node = $1";
    auto r = conn.query(sql, {std::string(node)});
    if (!r) return std::unexpected(r.error());
    if (r->rows.empty()) return std::optional<LogCopy>();
    const SqlRow& row = r->rows[0];
    LogCopy c{row.text(0), row.text(1), row.integer(2), row.integer(3), row.integer(4),
              row.blob(5),  row.text(6),  row.text(7),    {},             row.integer(8)};
    if (with_content) {
      Bytes content = row.blob(9);
      c.content.assign(content.begin(), content.end());
    }
    return std::optional<LogCopy>(std::move(c));
  });
}

}  // namespace bulwark::server
