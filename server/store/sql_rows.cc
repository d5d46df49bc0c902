#include "server/store/sql_rows.h"

namespace bulwark::server::rows {

namespace {

std::unexpected<Error> badEnum(std::string_view column, std::string_view value) {
  return fail(ErrorCode::kInternal,
              "unknown stored " + std::string(column) + " '" + std::string(value) + "'", "store");
}

}  // namespace

std::string select(std::string_view columns, std::string_view table, std::string_view rest) {
  std::string sql = "SELECT ";
  sql += columns;
  sql += " FROM ";
  sql += table;
  sql += ' ';
  sql += rest;
  return sql;
}

std::string prefixed(std::string_view columns, std::string_view alias) {
  std::string out;
  std::size_t start = 0;
  while (start < columns.size()) {
    std::size_t comma = columns.find(',', start);
    if (comma == std::string_view::npos) comma = columns.size();
    std::string_view col = columns.substr(start, comma - start);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += alias;
    out += '.';
    out += col;
    start = comma + 1;
  }
  return out;
}

std::unexpected<Error> notFound(std::string_view what, std::string_view key) {
  return fail(ErrorCode::kNotFound, std::string(what) + " '" + std::string(key) + "' not found",
              "store");
}

Result<NodeRecord> nodeFromRow(const SqlRow& row) {
  std::size_t i = 0;
  NodeRecord n;
  n.name = row.text(i++);
  std::string state = row.text(i++);
  auto parsed = nodeStateFromName(state);
  if (!parsed) return badEnum("node state", state);
  n.state = *parsed;
  n.group = row.text(i++);
  n.ek_cert = row.blob(i++);
  n.ek_public = row.blob(i++);
  n.ak_public = row.blob(i++);
  n.ak_name = row.blob(i++);
  n.enrolled_at = row.integer(i++);
  n.approved_at = row.optInteger(i++);
  n.client_cert_serial = row.text(i++);
  n.reset_count = row.optInteger(i++);
  n.restart_count = row.optInteger(i++);
  n.clock = row.optInteger(i++);
  n.updated_at = row.integer(i++);
  return n;
}

PendingEnrollment pendingFromRow(const SqlRow& row) {
  PendingEnrollment p;
  p.id = row.text(0);
  p.node = row.text(1);
  p.group = row.text(2);
  p.ek_cert = row.blob(3);
  p.ek_public = row.blob(4);
  p.ak_public = row.blob(5);
  p.ak_name = row.blob(6);
  p.secret_hash = row.blob(7);
  p.created_at = row.integer(8);
  p.expires_at = row.integer(9);
  p.attempts = row.integer(10);
  return p;
}

Result<AppraisalRecord> appraisalFromRow(const SqlRow& row) {
  AppraisalRecord a;
  a.id = row.integer(0);
  a.node = row.text(1);
  a.appraised_at = row.integer(2);
  std::string status = row.text(3);
  auto parsed = appraisalStatusFromName(status);
  if (!parsed) return badEnum("appraisal status", status);
  a.status = *parsed;
  a.reasons_json = row.text(4);
  a.trust_vector_json = row.text(5);
  a.ear = row.text(6);
  a.evidence_digest = row.blob(7);
  a.fresh_until = row.integer(8);
  a.reset_count = row.optInteger(9);
  a.restart_count = row.optInteger(10);
  a.clock = row.optInteger(11);
  a.policy_version = row.integer(12);
  return a;
}

Result<ReferenceValue> referenceFromRow(const SqlRow& row) {
  ReferenceValue v;
  v.id = row.integer(0);
  v.kind = row.text(1);
  v.subject = row.text(2);
  v.sha256 = row.blob(3);
  v.source = row.text(4);
  std::string state = row.text(5);
  auto parsed = referenceStateFromName(state);
  if (!parsed) return badEnum("reference state", state);
  v.state = *parsed;
  v.created_at = row.integer(6);
  v.approved_by = row.text(7);
  v.approved_at = row.optInteger(8);
  return v;
}

Result<ImageRule> imageRuleFromRow(const SqlRow& row) {
  ImageRule r;
  r.id = row.integer(0);
  std::string kind = row.text(1);
  auto parsed = imageRuleKindFromName(kind);
  if (!parsed) return badEnum("image rule kind", kind);
  r.kind = *parsed;
  r.value = row.text(2);
  r.created_at = row.integer(3);
  r.created_by = row.text(4);
  return r;
}

Result<ApiToken> tokenFromRow(const SqlRow& row) {
  ApiToken t;
  t.name = row.text(0);
  std::string role = row.text(1);
  auto parsed = apiRoleFromName(role);
  if (!parsed) return badEnum("token role", role);
  t.role = *parsed;
  t.token_hash = row.blob(2);
  t.created_at = row.integer(3);
  return t;
}

}  // namespace bulwark::server::rows
