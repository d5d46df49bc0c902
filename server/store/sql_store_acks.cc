// SqlStore: measurement acknowledgments (node re-approval, docs/verifier.md
// "Superseded entries"; table node_acknowledgments, migration 2).
#include <algorithm>
#include <tuple>

#include "server/store/sql_store.h"
#include "server/store/validate.h"

namespace bulwark::server {

namespace {

// Bounded like one Evidence's measurements (server/appraisal/evidence.h).
constexpr std::size_t kMaxAcknowledgments = 100000;

// An acknowledgment names what a reference value would: same kind, subject and digest rules.
Result<void> validateDigest(const MeasurementDigest& d) {
  ReferenceValue v;
  v.kind = d.kind;
  v.subject = d.subject;
  v.sha256 = d.sha256;
  v.source = "manual";
  return validateReferenceValue(v);
}

Result<void> requireNode(SqlConnection& conn, std::string_view node) {
  auto r = conn.query("SELECT 1 FROM nodes WHERE name = $1", {std::string(node)});
  if (!r) return std::unexpected(r.error());
  if (r->rows.empty()) {
    return fail(ErrorCode::kNotFound, "node '" + std::string(node) + "' not found", "store");
  }
  return {};
}

}  // namespace

Result<std::int64_t> SqlStore::acknowledgeMeasurements(std::string_view node,
                                                       std::span<const MeasurementDigest> entries,
                                                       std::string_view by, Millis now) {
  if (auto ok = validateNodeName(node); !ok) return std::unexpected(ok.error());
  if (auto ok = validateActor(by); !ok) return std::unexpected(ok.error());
  if (entries.size() > kMaxAcknowledgments) {
    return fail(ErrorCode::kInvalidArgument, "too many acknowledgments in one call", "store");
  }
  for (const MeasurementDigest& d : entries) {
    if (auto ok = validateDigest(d); !ok) return std::unexpected(ok.error());
  }
  return inTransaction(*pool_, [&](SqlConnection& conn) -> Result<std::int64_t> {
    if (auto ok = requireNode(conn, node); !ok) return std::unexpected(ok.error());
    std::int64_t added = 0;
    for (const MeasurementDigest& d : entries) {
      auto r = conn.query(
          "INSERT INTO node_acknowledgments (node, kind, subject, sha256, acknowledged_at, "
          "acknowledged_by) VALUES ($1, $2, $3, $4, $5, $6) "
          "ON CONFLICT (node, kind, subject, sha256) DO NOTHING",
          {std::string(node), d.kind, d.subject, d.sha256, now, std::string(by)});
      if (!r) return std::unexpected(r.error());
      added += r->affected;
    }
    return added;
  });
}

Result<std::vector<MeasurementAcknowledgment>> SqlStore::listAcknowledgments(
    std::string_view node) {
  if (auto ok = validateNodeName(node); !ok) return std::unexpected(ok.error());
  return withConnection(
      *pool_, [&](SqlConnection& conn) -> Result<std::vector<MeasurementAcknowledgment>> {
        // One query on every appraisal: the node row (unknown node → no row) joined with
        // its acknowledgments (none → one row of NULLs).
        auto r = conn.query(
            "SELECT n.name, a.kind, a.subject, a.sha256, a.acknowledged_at, a.acknowledged_by "
            "FROM nodes n LEFT JOIN node_acknowledgments a ON a.node = n.name WHERE n.name = $1",
            {std::string(node)});
        if (!r) return std::unexpected(r.error());
        if (r->rows.empty()) {
          return fail(ErrorCode::kNotFound, "node '" + std::string(node) + "' not found", "store");
        }
        std::vector<MeasurementAcknowledgment> out;
        out.reserve(r->rows.size());
        for (const SqlRow& row : r->rows) {
          if (row.isNull(1)) continue;
          out.push_back(
              {row.text(0), row.text(1), row.text(2), row.blob(3), row.integer(4), row.text(5)});
        }
        // Byte order, not the database collation, so both engines list alike.
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
          return std::tie(a.kind, a.subject, a.sha256) < std::tie(b.kind, b.subject, b.sha256);
        });
        return out;
      });
}

}  // namespace bulwark::server
