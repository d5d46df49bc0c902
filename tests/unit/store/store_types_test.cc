// Pure parts of the store: enum spellings, effective state, placeholder rewriting.
#include "server/store/store_types.h"

#include <gtest/gtest.h>

#include "server/store/migrations.h"
#include "server/store/sqlite_store.h"

namespace bulwark::server {
namespace {

TEST(EffectiveState, StaleIsComputedAtQueryTime) {
  struct Case {
    NodeState stored;
    std::optional<Millis> fresh_until;
    Millis now;
    EffectiveState want;
  };
  const Case cases[] = {
      {NodeState::kTrusted, 1000, 999, EffectiveState::kTrusted},
      {NodeState::kTrusted, 1000, 1000, EffectiveState::kStale},  // deadline is exclusive
      {NodeState::kTrusted, 1000, 5000, EffectiveState::kStale},
      {NodeState::kTrusted, std::nullopt, 0, EffectiveState::kStale},  // no verdict: fail closed
      {NodeState::kUntrusted, 1000, 0, EffectiveState::kUntrusted},
      {NodeState::kEnrolling, 1000, 0, EffectiveState::kEnrolling},
      {NodeState::kRevoked, 1000, 0, EffectiveState::kRevoked},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(effectiveState(c.stored, c.fresh_until, c.now), c.want)
        << nodeStateName(c.stored) << " now=" << c.now;
  }
}

TEST(StoreTypes, NamesRoundTripAndUnknownNamesAreRejected) {
  for (auto s :
       {NodeState::kEnrolling, NodeState::kTrusted, NodeState::kUntrusted, NodeState::kRevoked}) {
    EXPECT_EQ(nodeStateFromName(nodeStateName(s)), s);
  }
  for (auto s : {AppraisalStatus::kAffirming, AppraisalStatus::kWarning,
                 AppraisalStatus::kContraindicated, AppraisalStatus::kNone}) {
    EXPECT_EQ(appraisalStatusFromName(appraisalStatusName(s)), s);
  }
  for (auto r : {ApiRole::kAgent, ApiRole::kScheduler, ApiRole::kAuditor, ApiRole::kAdmin}) {
    EXPECT_EQ(apiRoleFromName(apiRoleName(r)), r);
  }
  EXPECT_EQ(nodeStateFromName("stale"), std::nullopt);  // never stored
  EXPECT_EQ(appraisalStatusFromName("Affirming"), std::nullopt);
  EXPECT_EQ(imageRuleKindFromName(""), std::nullopt);
  EXPECT_EQ(nonceRejectionName(NonceRejection::kReplayed), "nonce_replayed");
}

TEST(SqlitePlaceholders, RewritesNumberedParametersOutsideQuotes) {
  EXPECT_EQ(sqlitePlaceholders("SELECT a FROM t WHERE b = $1 AND c > $12"),
            "SELECT a FROM t WHERE b = ?1 AND c > ?12");
  EXPECT_EQ(sqlitePlaceholders("SELECT '$1', \"$2\" FROM t WHERE x = $3"),
            "SELECT '$1', \"$2\" FROM t WHERE x = ?3");
  EXPECT_EQ(sqlitePlaceholders("SELECT 'it''s $1' WHERE $1"), "SELECT 'it''s $1' WHERE ?1");
  EXPECT_EQ(sqlitePlaceholders("SELECT $a"), "SELECT $a");
}

TEST(Migrations, DialectTokensAreExpanded) {
  std::string sql = "CREATE TABLE t (id {{ID}}, b {{BLOB}}, c {{BLOB}})";
  EXPECT_EQ(migrationSql(sql, SqlDialect::kSqlite),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB, c BLOB)");
  EXPECT_EQ(
      migrationSql(sql, SqlDialect::kPostgres),
      "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, b BYTEA, c BYTEA)");
  EXPECT_GE(latestSchemaVersion(), 1);
}

}  // namespace
}  // namespace bulwark::server
