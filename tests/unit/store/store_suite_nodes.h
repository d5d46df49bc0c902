// Store suite, part 1: migrations, nodes and enrollment. Included by store_suite.h.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "server/store/migrations.h"
#include "tests/unit/store/store_suite_fixture.h"

namespace bulwark::server::testing {

TYPED_TEST_P(StoreSuite, MigrationsAreIdempotentAndKeepData) {
  this->enroll("node-a");
  // Opening again (a second replica, or a restart) applies nothing and loses nothing.
  for (int i = 0; i < 2; ++i) {
    auto again = this->replica();
    ASSERT_NE(again, nullptr);
    auto node = again->getNode("node-a");
    ASSERT_OK(node);
    EXPECT_EQ(node->ak_public, testAkPublic());
  }
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM schema_version"), latestSchemaVersion());
  EXPECT_EQ(this->rawInt("SELECT MAX(version) FROM schema_version"), latestSchemaVersion());
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM policy_state"), 1);
}

TYPED_TEST_P(StoreSuite, ConcurrentOpensMigrateOnce) {
  // Replicas starting at the same moment on an empty database: one migrates, the others
  // wait for it and find nothing to do.
  ASSERT_OK(this->backend_.createDatabase());
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto s = this->backend_.open(true);
      EXPECT_TRUE(s.has_value()) << s.error().toString();
      if (s) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM schema_version"), latestSchemaVersion());
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM policy_state"), 1);
}

TYPED_TEST_P(StoreSuite, NewerSchemaIsRefused) {
  ASSERT_OK(
      this->backend_.raw("INSERT INTO schema_version (version, description) "
                         "VALUES (999, 'from the future')"));
  auto opened = this->backend_.open(true);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(opened.error().message().find("999"), std::string::npos);
}

TYPED_TEST_P(StoreSuite, EnrollmentRoundTripsEveryField) {
  Store& s = *this->store_;
  PendingEnrollment p = pendingFor("node-a", "enr-1", 1000, "ecc");
  ASSERT_OK(s.createPendingEnrollment(p));
  auto attempt = s.recordEnrollmentAttempt("enr-1", 1500);
  ASSERT_OK(attempt);
  EXPECT_EQ(attempt->attempts, 1);
  EXPECT_EQ(attempt->secret_hash, p.secret_hash);
  EXPECT_EQ(attempt->ek_cert, p.ek_cert);
  EXPECT_EQ(s.recordEnrollmentAttempt("enr-1", 1600)->attempts, 2);

  auto node = s.completeEnrollment("enr-1", CompleteEnrollment{"7f00ff", false, 2000});
  ASSERT_OK(node);
  EXPECT_EQ(node->state, NodeState::kEnrolling);
  auto got = s.getNode("node-a");
  ASSERT_OK(got);
  EXPECT_EQ(got->name, "node-a");
  EXPECT_EQ(got->group, "gpu");
  EXPECT_EQ(got->ek_cert, p.ek_cert);
  EXPECT_EQ(got->ek_public, p.ek_public);
  EXPECT_EQ(got->ak_public, testAkPublic("ecc"));
  EXPECT_EQ(got->ak_name, p.ak_name);
  EXPECT_EQ(got->enrolled_at, 2000);
  EXPECT_FALSE(got->approved_at.has_value());
  EXPECT_EQ(got->client_cert_serial, "7f00ff");
  EXPECT_FALSE(got->reset_count.has_value());

  auto approved = s.approveNode("node-a", 3000);
  ASSERT_OK(approved);
  EXPECT_EQ(approved->state, NodeState::kUntrusted);
  EXPECT_EQ(approved->approved_at, 3000);
  auto twice = s.approveNode("node-a", 3001);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.approveNode("ghost", 1).error().code(), ErrorCode::kNotFound);
  // The claimed enrollment is gone.
  EXPECT_EQ(s.recordEnrollmentAttempt("enr-1", 2100).error().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreSuite, EnrollmentExpiresAndIsClaimedOnce) {
  Store& s = *this->store_;
  ASSERT_OK(s.createPendingEnrollment(pendingFor("node-a", "enr-a", 1000)));
  ASSERT_OK(s.createPendingEnrollment(pendingFor("node-b", "enr-b", 1000)));
  // Duplicate id refused.
  EXPECT_EQ(s.createPendingEnrollment(pendingFor("node-c", "enr-a", 1000)).error().code(),
            ErrorCode::kInvalidArgument);
  Millis expiry = 1000 + 300'000;
  EXPECT_EQ(s.recordEnrollmentAttempt("enr-a", expiry).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.completeEnrollment("enr-a", {"", true, expiry}).error().code(), ErrorCode::kNotFound);
  ASSERT_OK(s.completeEnrollment("enr-b", {"", true, expiry - 1}));
  EXPECT_EQ(s.completeEnrollment("enr-b", {"", true, expiry - 1}).error().code(),
            ErrorCode::kNotFound);
  auto purged = s.purgeExpiredEnrollments(expiry);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM pending_enrollments"), 0);
}

TYPED_TEST_P(StoreSuite, ReplicasClaimAnEnrollmentExactlyOnce) {
  auto other = this->replica();
  ASSERT_NE(other, nullptr);
  for (int round = 0; round < 10; ++round) {
    std::string id = "race-" + std::to_string(round);
    ASSERT_OK(
        this->store_->createPendingEnrollment(pendingFor("n" + std::to_string(round), id, 0)));
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      Store* s = t % 2 == 0 ? this->store_.get() : other.get();
      threads.emplace_back([s, id, &wins] {
        auto r = s->completeEnrollment(id, {"", true, 10});
        if (r) {
          ++wins;
        } else {
          EXPECT_EQ(r.error().code(), ErrorCode::kNotFound) << r.error().toString();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
  }
}

TYPED_TEST_P(StoreSuite, ReEnrollmentRekeysAndDropsTheOldVerdict) {
  Store& s = *this->store_;
  this->enroll("node-a");
  Bytes evidence = pattern(512, 9);
  AppraisalRecord a = appraisalFor("node-a", 5000, AppraisalStatus::kAffirming, 3);
  a.evidence_digest = sha256(evidence);
  ASSERT_OK(s.recordAppraisal(a, ByteView(evidence)));
  ASSERT_EQ(s.getNode("node-a")->state, NodeState::kTrusted);

  // TPM cleared: the node enrolls a new AK. Until evidence under the new AK is appraised,
  // the old affirming verdict must not keep the node trusted.
  ASSERT_OK(s.createPendingEnrollment(pendingFor("node-a", "again", 6000, "ecc")));
  auto node = s.completeEnrollment("again", {"beef", false, 6001});
  ASSERT_OK(node);
  EXPECT_EQ(node->state, NodeState::kEnrolling);
  EXPECT_EQ(node->ak_public, testAkPublic("ecc"));
  EXPECT_FALSE(node->reset_count.has_value());
  EXPECT_EQ(s.latestAppraisal("node-a").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.latestEvidence("node-a").error().code(), ErrorCode::kNotFound);
  auto history = s.appraisalHistory("node-a", {});
  ASSERT_OK(history);
  EXPECT_EQ(history->size(), 1u);  // the audit trail stays
  auto fleet = s.fleet();
  ASSERT_OK(fleet);
  ASSERT_EQ(fleet->size(), 1u);
  EXPECT_FALSE(fleet->front().latest.has_value());
}

TYPED_TEST_P(StoreSuite, RevokedNodeAcceptsNoEnrollmentOrAppraisal) {
  Store& s = *this->store_;
  this->enroll("node-a");
  ASSERT_OK(s.createPendingEnrollment(pendingFor("node-a", "late", 2000)));
  auto revoked = s.revokeNode("node-a", 3000);
  ASSERT_OK(revoked);
  EXPECT_EQ(revoked->state, NodeState::kRevoked);
  // The enrollment created before the revocation cannot revive the node, and the failed
  // claim is rolled back (the pending row is still there).
  EXPECT_EQ(s.completeEnrollment("late", {"", true, 3500}).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM pending_enrollments"), 1);
  EXPECT_EQ(s.createPendingEnrollment(pendingFor("node-a", "later", 4000)).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      s.recordAppraisal(appraisalFor("node-a", 4000, AppraisalStatus::kAffirming)).error().code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.getNode("node-a")->state, NodeState::kRevoked);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM appraisals"), 0);
  // Deleting the node is the explicit way back; it takes its history with it.
  ASSERT_OK(s.deleteNode("node-a"));
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM pending_enrollments"), 0);
  EXPECT_EQ(s.getNode("node-a").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.deleteNode("node-a").error().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreSuite, MalformedEnrollmentIsRefusedAndStoresNothing) {
  Store& s = *this->store_;
  struct Case {
    const char* what;
    std::function<void(PendingEnrollment&)> mutate;
  };
  const std::vector<Case> cases = {
      {"empty node name", [](PendingEnrollment& p) { p.node = ""; }},
      {"node name with slash", [](PendingEnrollment& p) { p.node = "a/b"; }},
      {"node name with NUL", [](PendingEnrollment& p) { p.node = std::string("a\0b", 3); }},
      {"node name too long", [](PendingEnrollment& p) { p.node = std::string(254, 'n'); }},
      {"id with space", [](PendingEnrollment& p) { p.id = "a b"; }},
      {"group with quote", [](PendingEnrollment& p) { p.group = "g'; DROP TABLE nodes;--"; }},
      {"secret hash 31 bytes", [](PendingEnrollment& p) { p.secret_hash.pop_back(); }},
      {"empty AK public", [](PendingEnrollment& p) { p.ak_public.clear(); }},
      {"AK public 1 MiB", [](PendingEnrollment& p) { p.ak_public = pattern(1 << 20, 0); }},
      {"EK cert 1 MiB", [](PendingEnrollment& p) { p.ek_cert = pattern(1 << 20, 0); }},
      {"expires before created", [](PendingEnrollment& p) { p.expires_at = p.created_at; }},
      {"negative attempts", [](PendingEnrollment& p) { p.attempts = -1; }},
  };
  for (const auto& c : cases) {
    PendingEnrollment p = pendingFor("node-a", "enr-1", 1000);
    c.mutate(p);
    auto r = s.createPendingEnrollment(p);
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.what;
  }
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM pending_enrollments"), 0);
  for (const char* bad : {"", "x y", "../etc", "é"}) {
    EXPECT_EQ(s.getNode(bad).error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(s.completeEnrollment("enr-1", {"serial with space", true, 1}).error().code(),
            ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(StoreSuite, NodeGroupsAndListing) {
  Store& s = *this->store_;
  this->enroll("node-b");
  this->enroll("node-a");
  ASSERT_OK(s.setNodeGroup("node-b", "cpu", 7000));
  EXPECT_EQ(s.setNodeGroup("ghost", "cpu", 7000).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.setNodeGroup("node-a", "bad group", 7000).error().code(),
            ErrorCode::kInvalidArgument);
  auto nodes = s.listNodes();
  ASSERT_OK(nodes);
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].name, "node-a");
  EXPECT_EQ((*nodes)[0].group, "gpu");
  EXPECT_EQ((*nodes)[1].group, "cpu");
  EXPECT_EQ((*nodes)[1].updated_at, 7000);
  auto cpu = s.fleet("cpu");
  ASSERT_OK(cpu);
  ASSERT_EQ(cpu->size(), 1u);
  EXPECT_EQ(cpu->front().node.name, "node-b");
}

}  // namespace bulwark::server::testing
