// Store suite, part 3: reference values, image rules, policy version, API tokens, and
// transactional failure. Included by store_suite.h.
#pragma once

#include <set>
#include <thread>

#include "tests/unit/store/store_suite_fixture.h"

namespace bulwark::server::testing {

inline ReferenceValue refValue(const std::string& subject, const std::string& source,
                               ReferenceState state = ReferenceState::kPending) {
  ReferenceValue v;
  v.kind = "file";
  v.subject = subject;
  v.sha256 = sha256(asBytes(subject + source));
  v.source = source;
  v.state = state;
  if (state == ReferenceState::kApproved) v.approved_by = "importer";
  return v;
}

inline std::string digestRule(std::uint8_t seed) { return "sha256:" + toHex(sha256(Bytes{seed})); }

TYPED_TEST_P(StoreSuite, ReferenceValueLifecycleBumpsPolicyVersion) {
  Store& s = *this->store_;
  EXPECT_EQ(*s.policyVersion(), 0);
  std::vector<ReferenceValue> learned = {refValue("/usr/bin/rünc-ütf8-名前", "learned:ref-node"),
                                         refValue("/usr/bin/containerd", "learned:ref-node"),
                                         refValue("/usr/bin/dockerd", "learned:ref-node")};
  auto added = s.addReferenceValues(learned, 100);
  ASSERT_OK(added);
  EXPECT_EQ(added->changed, 3);
  EXPECT_EQ(added->version, 1);
  // Two versions of one package valid at once.
  std::vector<ReferenceValue> packages = {
      refValue("/usr/sbin/runc", "package:runc=1.1.5+ds1-1", ReferenceState::kApproved),
      refValue("/usr/sbin/runc", "package:runc=1.1.12+ds1-2", ReferenceState::kApproved)};
  ASSERT_EQ(s.addReferenceValues(packages, 200)->version, 2);
  auto again = s.addReferenceValues(packages, 300);  // exact duplicates: skipped
  ASSERT_OK(again);
  EXPECT_EQ(again->changed, 0);
  EXPECT_EQ(again->version, 2);

  ReferenceFilter from_node;
  from_node.source = "learned:ref-node";
  auto approved = s.approveReferenceValues(from_node, "alice", 400);
  ASSERT_OK(approved);
  EXPECT_EQ(approved->changed, 3);
  EXPECT_EQ(approved->version, 3);
  ReferenceFilter approved_only;
  approved_only.state = ReferenceState::kApproved;
  auto listed = s.listReferenceValues(approved_only);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 5u);
  EXPECT_EQ((*listed)[0].approved_by, "alice");
  EXPECT_EQ((*listed)[0].approved_at, 400);
  EXPECT_EQ((*listed)[0].sha256, learned[0].sha256);
  EXPECT_EQ((*listed)[0].subject, learned[0].subject);  // UTF-8 intact in both engines
  EXPECT_EQ((*listed)[3].approved_by, "importer");

  ReferenceFilter old_runc;
  old_runc.source = "package:runc=1.1.5+ds1-1";
  auto revoked = s.revokeReferenceValues(old_runc);
  ASSERT_OK(revoked);
  EXPECT_EQ(revoked->changed, 1);
  EXPECT_EQ(revoked->version, 4);
  EXPECT_EQ(s.revokeReferenceValues(old_runc)->version, 4);  // nothing left to revoke
  EXPECT_EQ(s.listReferenceValues(approved_only)->size(), 4u);
  // Revocation is sticky: re-importing the same value does not revive it.
  ASSERT_OK(s.addReferenceValues(std::vector{packages[0]}, 500));
  ReferenceFilter by_subject;
  by_subject.subject = "/usr/sbin/runc";
  by_subject.state = ReferenceState::kRevoked;
  EXPECT_EQ(s.listReferenceValues(by_subject)->size(), 1u);
  // By id.
  ReferenceFilter ids;
  ids.ids = {(*listed)[0].id, (*listed)[1].id};
  EXPECT_EQ(s.revokeReferenceValues(ids)->changed, 2);
  EXPECT_EQ(*s.policyVersion(), 5);
}

TYPED_TEST_P(StoreSuite, MalformedReferenceValuesAreAllOrNothing) {
  Store& s = *this->store_;
  struct Case {
    const char* what;
    std::function<void(ReferenceValue&)> mutate;
  };
  const std::vector<Case> cases = {
      {"sha256 of 31 bytes", [](ReferenceValue& v) { v.sha256.pop_back(); }},
      {"upper-case kind", [](ReferenceValue& v) { v.kind = "File"; }},
      {"empty subject", [](ReferenceValue& v) { v.subject.clear(); }},
      {"NUL in subject", [](ReferenceValue& v) { v.subject = std::string("/a\0b", 4); }},
      {"Latin-1 subject", [](ReferenceValue& v) { v.subject = "/caf\xe9"; }},
      {"overlong UTF-8 '/'",
       [](ReferenceValue& v) {
         v.subject =
             "/a\xc0\xaf"
             "b";
       }},
      {"UTF-16 surrogate", [](ReferenceValue& v) { v.subject = "/\xed\xa0\x80"; }},
      {"truncated UTF-8", [](ReferenceValue& v) { v.subject = "/caf\xc3"; }},
      {"unknown source", [](ReferenceValue& v) { v.source = "internet"; }},
      {"package without version", [](ReferenceValue& v) { v.source = "package:runc="; }},
      {"package without =", [](ReferenceValue& v) { v.source = "package:runc"; }},
      {"learned from bad node", [](ReferenceValue& v) { v.source = "learned:a b"; }},
      {"added revoked", [](ReferenceValue& v) { v.state = ReferenceState::kRevoked; }},
      {"approved without approver",
       [](ReferenceValue& v) {
         v.state = ReferenceState::kApproved;
         v.approved_by.clear();
       }},
  };
  for (const auto& c : cases) {
    std::vector<ReferenceValue> batch = {refValue("/bin/a", "manual"), refValue("/bin/b", "manual"),
                                         refValue("/bin/c", "manual")};
    c.mutate(batch[1]);
    auto r = s.addReferenceValues(batch, 1);
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.what;
  }
  EXPECT_EQ(s.listReferenceValues({})->size(), 0u);
  EXPECT_EQ(*s.policyVersion(), 0);
  // A filter matching everything is refused for revocation and approval.
  EXPECT_EQ(s.revokeReferenceValues({}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.approveReferenceValues({}, "alice", 1).error().code(), ErrorCode::kInvalidArgument);
  ReferenceFilter f;
  f.source = "manual";
  EXPECT_EQ(s.approveReferenceValues(f, "", 1).error().code(), ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(StoreSuite, ImageRules) {
  Store& s = *this->store_;
  auto allow = s.addImageRule({0, ImageRuleKind::kAllowDigest, digestRule(1), 10, "alice"});
  ASSERT_OK(allow);
  ASSERT_OK(s.addImageRule({0, ImageRuleKind::kAllowPrefix, "registry.example.com/team/", 11, ""}));
  ASSERT_OK(s.addImageRule({0, ImageRuleKind::kDenyDigest, digestRule(2), 12, "bob"}));
  // Same digest may be allowed and denied (deny wins at evaluation), but not twice in one list.
  ASSERT_OK(s.addImageRule({0, ImageRuleKind::kDenyDigest, digestRule(1), 13, "bob"}));
  EXPECT_EQ(s.addImageRule({0, ImageRuleKind::kAllowDigest, digestRule(1), 14, ""}).error().code(),
            ErrorCode::kInvalidArgument);
  for (const std::string& bad : {std::string("sha256:abc"), "sha512:" + std::string(64, 'a'),
                                 "sha256:" + std::string(64, 'A'), std::string("")}) {
    EXPECT_EQ(s.addImageRule({0, ImageRuleKind::kDenyDigest, bad, 1, ""}).error().code(),
              ErrorCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(s.addImageRule({0, ImageRuleKind::kAllowPrefix, "has space", 1, ""}).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(*s.policyVersion(), 4);
  auto rules = s.listImageRules();
  ASSERT_OK(rules);
  ASSERT_EQ(rules->size(), 4u);
  EXPECT_EQ((*rules)[0].id, allow->id);
  EXPECT_EQ((*rules)[0].created_by, "alice");
  EXPECT_EQ((*rules)[1].kind, ImageRuleKind::kAllowPrefix);
  EXPECT_EQ((*rules)[1].value, "registry.example.com/team/");
  auto removed = s.removeImageRule(allow->id);
  ASSERT_OK(removed);
  EXPECT_EQ(removed->version, 5);
  EXPECT_EQ(s.removeImageRule(allow->id).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.listImageRules()->size(), 3u);
}

TYPED_TEST_P(StoreSuite, PolicyVersionIsAtomicAcrossReplicas) {
  auto other = this->replica();
  ASSERT_NE(other, nullptr);
  constexpr int kThreads = 4;
  constexpr int kEach = 15;
  std::mutex mutex;
  std::set<std::int64_t> versions;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store* s = t % 2 == 0 ? this->store_.get() : other.get();
    threads.emplace_back([&, s, t] {
      for (int i = 0; i < kEach; ++i) {
        auto seed = static_cast<std::uint8_t>(t * kEach + i);
        auto r = s->addImageRule({0, ImageRuleKind::kAllowDigest, digestRule(seed), 1, ""});
        if (!r) {
          ++errors;
          continue;
        }
        auto v = s->listImageRules();  // ensure reads interleave with writes
        if (!v) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(*this->store_->policyVersion(), kThreads * kEach);
  // Every change got its own version: removing each rule yields distinct versions.
  auto rules = other->listImageRules();
  ASSERT_OK(rules);
  for (const auto& r : *rules) versions.insert(this->store_->removeImageRule(r.id)->version);
  EXPECT_EQ(versions.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(*versions.rbegin(), 2 * kThreads * kEach);
}

TYPED_TEST_P(StoreSuite, ApiTokensAreStoredByHash) {
  Store& s = *this->store_;
  Bytes admin_hash = sha256(asBytes("s3cret-admin-token"));
  ASSERT_OK(s.putApiToken({"ops", ApiRole::kAdmin, admin_hash, 10}));
  ASSERT_OK(s.putApiToken({"kube", ApiRole::kScheduler, sha256(asBytes("sched")), 11}));
  auto found = s.findApiToken(admin_hash);
  ASSERT_OK(found);
  EXPECT_EQ(found->name, "ops");
  EXPECT_EQ(found->role, ApiRole::kAdmin);
  EXPECT_EQ(found->created_at, 10);
  EXPECT_EQ(s.findApiToken(sha256(asBytes("guess"))).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.findApiToken(pattern(31, 0)).error().code(), ErrorCode::kInvalidArgument);
  // Duplicate name, duplicate hash, and a non-hash are refused.
  EXPECT_EQ(s.putApiToken({"ops", ApiRole::kAuditor, sha256(asBytes("x")), 1}).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.putApiToken({"other", ApiRole::kAuditor, admin_hash, 1}).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      s.putApiToken(
           {"raw", ApiRole::kAuditor,
            Bytes(asBytes("s3cret-admin-token").begin(), asBytes("s3cret-admin-token").end()), 1})
          .error()
          .code(),
      ErrorCode::kInvalidArgument);
  auto listed = s.listApiTokens();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "kube");
  ASSERT_OK(s.deleteApiToken("kube"));
  EXPECT_EQ(s.deleteApiToken("kube").error().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreSuite, FailedTransactionLeavesNoPartialRows) {
  Store& s = *this->store_;
  ASSERT_OK(s.putApiToken({"old", ApiRole::kAuditor, sha256(asBytes("old")), 1}));
  // The database itself rejects the third insert (duplicate hash) after the DELETE and two
  // inserts already ran inside the transaction: all of it must roll back.
  Bytes dup = sha256(asBytes("dup"));
  std::vector<ApiToken> tokens = {{"a", ApiRole::kAdmin, sha256(asBytes("a")), 2},
                                  {"b", ApiRole::kAdmin, dup, 2},
                                  {"c", ApiRole::kAdmin, dup, 2}};
  auto r = s.replaceApiTokens(tokens);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  auto listed = s.listApiTokens();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().name, "old");
  // The connection that failed is healthy again: the next transaction works.
  tokens[2].token_hash = sha256(asBytes("c"));
  ASSERT_OK(s.replaceApiTokens(tokens));
  EXPECT_EQ(s.listApiTokens()->size(), 3u);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM api_tokens WHERE name = 'old'"), 0);
}

TYPED_TEST_P(StoreSuite, DeleteNodeRemovesItsRows) {
  Store& s = *this->store_;
  this->enroll("node-a");
  this->enroll("node-b");
  Bytes ev = pattern(64, 1);
  AppraisalRecord a = appraisalFor("node-a", 10, AppraisalStatus::kAffirming);
  a.evidence_digest = sha256(ev);
  ASSERT_OK(s.recordAppraisal(a, ByteView(ev)));
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-b", 10, AppraisalStatus::kAffirming)));
  ASSERT_OK(s.issueNonce(NonceRecord{pattern(32, 1), "node-a", 1, 100, std::nullopt}));
  ASSERT_OK(s.deleteNode("node-a"));
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM nonces"), 0);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM evidence"), 0);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM appraisals"), 1);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM nodes"), 1);
}

}  // namespace bulwark::server::testing
