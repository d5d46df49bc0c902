// SqlStore: reference values, image rules, the policy version, API tokens.
#include "server/store/sql_rows.h"
#include "server/store/sql_store.h"
#include "server/store/validate.h"

namespace bulwark::server {

namespace {

Result<std::int64_t> currentVersion(SqlConnection& conn) {
  auto r = conn.query("SELECT version FROM policy_state WHERE id = 1", {});
  if (!r) return std::unexpected(r.error());
  if (r->rows.empty()) return fail(ErrorCode::kInternal, "policy_state row missing", "store");
  return r->rows[0].integer(0);
}

// Increments the version inside the caller's transaction, so the change and its version
// commit together; the row lock orders concurrent policy changes across replicas.
Result<PolicyChange> finishChange(SqlConnection& conn, std::int64_t changed) {
  if (changed == 0) {
    auto v = currentVersion(conn);
    if (!v) return std::unexpected(v.error());
    return PolicyChange{0, *v};
  }
  auto r = conn.query(
      "UPDATE policy_state SET version = version + 1 WHERE id = 1 "
      "RETURNING version",
      {});
  if (!r) return std::unexpected(r.error());
  if (r->rows.empty()) return fail(ErrorCode::kInternal, "policy_state row missing", "store");
  return PolicyChange{changed, r->rows[0].integer(0)};
}

// WHERE conditions for a filter, numbering parameters after those already in `params`.
std::string filterSql(const ReferenceFilter& f, SqlParams& params) {
  std::string sql;
  auto add = [&](std::string_view column, SqlValue value) {
    params.push_back(std::move(value));
    sql += " AND " + std::string(column) + " = $" + std::to_string(params.size());
  };
  if (f.kind) add("kind", *f.kind);
  if (f.subject) add("subject", *f.subject);
  if (f.source) add("source", *f.source);
  if (f.state) add("state", std::string(referenceStateName(*f.state)));
  if (!f.ids.empty()) {
    sql += " AND id IN (";
    for (std::size_t i = 0; i < f.ids.size(); ++i) {
      params.emplace_back(f.ids[i]);
      sql += (i == 0 ? "$" : ", $") + std::to_string(params.size());
    }
    sql += ")";
  }
  return sql;
}

bool emptyFilter(const ReferenceFilter& f) {
  return !f.kind && !f.subject && !f.source && !f.state && f.ids.empty();
}

constexpr std::string_view kInsertReferenceSql =
    "INSERT INTO reference_values (kind, subject, sha256, source, state, created_at, "
    "approved_by, approved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (kind, subject, sha256, source) DO NOTHING";

}  // namespace

Result<std::int64_t> SqlStore::policyVersion() {
  return withConnection(*pool_, [](SqlConnection& conn) { return currentVersion(conn); });
}

Result<PolicyChange> SqlStore::addReferenceValues(std::span<const ReferenceValue> values,
                                                  Millis now) {
  for (const auto& v : values) {
    if (auto ok = validateReferenceValue(v); !ok) return std::unexpected(ok.error());
  }
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<PolicyChange> {
    std::int64_t inserted = 0;
    for (const auto& v : values) {
      bool approved = v.state == ReferenceState::kApproved;
      auto r = conn.query(
          kInsertReferenceSql,
          {v.kind, v.subject, v.sha256, v.source, std::string(referenceStateName(v.state)), now,
           approved ? v.approved_by : std::string(), approved ? SqlValue(now) : SqlValue()});
      if (!r) return std::unexpected(r.error());
      inserted += r->affected;
    }
    return finishChange(conn, inserted);
  });
}

Result<PolicyChange> SqlStore::setReferenceState(const ReferenceFilter& filter,
                                                 ReferenceState target,
                                                 std::string_view approved_by, Millis now) {
  if (auto ok = validateReferenceFilter(filter); !ok) return std::unexpected(ok.error());
  if (emptyFilter(filter)) {
    return fail(ErrorCode::kInvalidArgument, "refusing a reference filter that matches everything",
                "store");
  }
  SqlParams params;
  std::string sql;
  if (target == ReferenceState::kApproved) {
    params = {std::string(approved_by), now};
    sql =
        "UPDATE reference_values SET state = 'approved', approved_by = $1, approved_at = $2 "
        "WHERE state = 'pending'";
  } else {
    sql = "UPDATE reference_values SET state = 'revoked' WHERE state IN ('pending', 'approved')";
  }
  sql += filterSql(filter, params);
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<PolicyChange> {
    auto r = conn.query(sql, params);
    if (!r) return std::unexpected(r.error());
    return finishChange(conn, r->affected);
  });
}

Result<PolicyChange> SqlStore::approveReferenceValues(const ReferenceFilter& filter,
                                                      std::string_view approved_by, Millis now) {
  if (auto ok = validateActor(approved_by); !ok) return std::unexpected(ok.error());
  return setReferenceState(filter, ReferenceState::kApproved, approved_by, now);
}

Result<PolicyChange> SqlStore::revokeReferenceValues(const ReferenceFilter& filter) {
  return setReferenceState(filter, ReferenceState::kRevoked, {}, 0);
}

Result<std::vector<ReferenceValue>> SqlStore::listReferenceValues(const ReferenceFilter& filter) {
  if (auto ok = validateReferenceFilter(filter); !ok) return std::unexpected(ok.error());
  SqlParams params;
  std::string sql = rows::select(rows::kReferenceColumns, "reference_values",
                                 "WHERE 1 = 1" + filterSql(filter, params) + " ORDER BY id");
  return withConnection(*pool_, [&](SqlConnection& conn) -> Result<std::vector<ReferenceValue>> {
    auto r = conn.query(sql, params);
    if (!r) return std::unexpected(r.error());
    std::vector<ReferenceValue> out;
    out.reserve(r->rows.size());
    for (const auto& row : r->rows) {
      auto v = rows::referenceFromRow(row);
      if (!v) return std::unexpected(v.error());
      out.push_back(std::move(*v));
    }
    return out;
  });
}

Result<ImageRule> SqlStore::addImageRule(const ImageRule& rule) {
  if (auto ok = validateImageRule(rule); !ok) return std::unexpected(ok.error());
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<ImageRule> {
    auto r = conn.query(
        "INSERT INTO image_rules (kind, value, created_at, created_by) "
        "VALUES ($1, $2, $3, $4) RETURNING id",
        {std::string(imageRuleKindName(rule.kind)), rule.value, rule.created_at, rule.created_by});
    if (!r) return std::unexpected(r.error());
    ImageRule stored = rule;
    stored.id = r->rows.empty() ? 0 : r->rows[0].integer(0);
    if (auto v = finishChange(conn, 1); !v) return std::unexpected(v.error());
    return stored;
  });
}

Result<PolicyChange> SqlStore::removeImageRule(std::int64_t id) {
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<PolicyChange> {
    auto r = conn.query("DELETE FROM image_rules WHERE id = $1", {id});
    if (!r) return std::unexpected(r.error());
    if (r->affected == 0) return rows::notFound("image rule", std::to_string(id));
    return finishChange(conn, r->affected);
  });
}

Result<std::vector<ImageRule>> SqlStore::listImageRules() {
  return withConnection(*pool_, [](SqlConnection& conn) -> Result<std::vector<ImageRule>> {
    auto r = conn.query(rows::select(rows::kImageRuleColumns, "image_rules", "ORDER BY id"), {});
    if (!r) return std::unexpected(r.error());
    std::vector<ImageRule> out;
    for (const auto& row : r->rows) {
      auto rule = rows::imageRuleFromRow(row);
      if (!rule) return std::unexpected(rule.error());
      out.push_back(std::move(*rule));
    }
    return out;
  });
}

namespace {

Result<void> insertToken(SqlConnection& conn, const ApiToken& t) {
  auto r = conn.query(
      "INSERT INTO api_tokens (" + std::string(rows::kTokenColumns) + ") VALUES ($1, $2, $3, $4)",
      {t.name, std::string(apiRoleName(t.role)), t.token_hash, t.created_at});
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace

Result<void> SqlStore::putApiToken(const ApiToken& token) {
  if (auto ok = validateApiToken(token); !ok) return ok;
  return inTransaction(*pool_, [&](SqlConnection& conn) { return insertToken(conn, token); });
}

Result<void> SqlStore::replaceApiTokens(std::span<const ApiToken> tokens) {
  for (const auto& t : tokens) {
    if (auto ok = validateApiToken(t); !ok) return ok;
  }
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<void> {
    if (auto r = conn.query("DELETE FROM api_tokens", {}); !r) return std::unexpected(r.error());
    for (const auto& t : tokens) {
      if (auto ok = insertToken(conn, t); !ok) return ok;
    }
    return {};
  });
}

Result<ApiToken> SqlStore::findApiToken(ByteView token_hash) {
  if (token_hash.size() != 32) {
    return fail(ErrorCode::kInvalidArgument, "token hash must be 32 bytes (SHA-256)", "store");
  }
  Bytes hash(token_hash.begin(), token_hash.end());
  return withConnection(*pool_, [&](SqlConnection& conn) -> Result<ApiToken> {
    auto r = conn.query(rows::select(rows::kTokenColumns, "api_tokens", "WHERE token_hash = $1"),
                        {hash});
    if (!r) return std::unexpected(r.error());
    // The message names no token: the hash of a guessed token is not worth logging.
    if (r->rows.empty()) return fail(ErrorCode::kNotFound, "no such API token", "store");
    return rows::tokenFromRow(r->rows[0]);
  });
}

Result<std::vector<ApiToken>> SqlStore::listApiTokens() {
  return withConnection(*pool_, [](SqlConnection& conn) -> Result<std::vector<ApiToken>> {
    auto r = conn.query(rows::select(rows::kTokenColumns, "api_tokens", "ORDER BY name"), {});
    if (!r) return std::unexpected(r.error());
    std::vector<ApiToken> out;
    for (const auto& row : r->rows) {
      auto t = rows::tokenFromRow(row);
      if (!t) return std::unexpected(t.error());
      out.push_back(std::move(*t));
    }
    return out;
  });
}

Result<void> SqlStore::deleteApiToken(std::string_view name) {
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<void> {
    auto r = conn.query("DELETE FROM api_tokens WHERE name = $1", {std::string(name)});
    if (!r) return std::unexpected(r.error());
    if (r->affected == 0) return rows::notFound("API token", name);
    return {};
  });
}

}  // namespace bulwark::server
