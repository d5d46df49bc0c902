// Store suite, part 2: nonces, appraisals, evidence, the fleet view. Included by store_suite.h.
#pragma once

#include <atomic>
#include <mutex>
#include <chrono>
#include <thread>

#include "tests/unit/store/store_suite_fixture.h"

namespace bulwark::server::testing {

inline NonceRecord nonceFor(const std::string& node, std::uint8_t seed, Millis issued = 1000) {
  return NonceRecord{pattern(32, seed), node, issued, issued + 60'000, std::nullopt};
}

inline std::optional<NonceRejection> rejection(const Result<NonceVerdict>& r) {
  if (!r.has_value() || r->has_value()) return std::nullopt;
  return r->error();
}

using AttestResult = Result<std::expected<AppraisalRecord, NonceRejection>>;

inline std::optional<NonceRejection> rejection(const AttestResult& r) {
  if (!r.has_value() || r->has_value()) return std::nullopt;
  return r->error();
}

// One POST /v1/attest's write (Store::recordAttestation) by `node` answering `nonce`:
// an appraisal with its evidence, and a next nonce unique to (`node`, `now`, `seed`).
inline AttestResult attestWith(Store& s, const std::string& node, ByteView nonce, Millis now,
                               int seed) {
  AppraisalRecord a = appraisalFor(node, now, AppraisalStatus::kAffirming);
  Bytes evidence = pattern(16, static_cast<std::uint8_t>(seed));
  a.evidence_digest = sha256(evidence);
  NonceRecord next{sha256(asBytes(node + "/" + std::to_string(now) + "/" + std::to_string(seed))),
                   node, now, now + 60'000, std::nullopt};
  return s.recordAttestation(nonce, now, a, evidence, nullptr, next);
}

TYPED_TEST_P(StoreSuite, NonceIsSingleUseBoundAndExpiring) {
  Store& s = *this->store_;
  this->enroll("node-a");
  this->enroll("node-b");
  NonceRecord n = nonceFor("node-a", 1);
  ASSERT_OK(s.issueNonce(n));
  // Another node presenting it is foreign, and does not burn it (nor store its verdict).
  EXPECT_EQ(rejection(s.checkNonce("node-b", n.value, 2000)), NonceRejection::kForeign);
  EXPECT_EQ(rejection(attestWith(s, "node-b", n.value, 2000, 10)), NonceRejection::kForeign);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM appraisals"), 0);
  auto first = attestWith(s, "node-a", n.value, 2000, 11);
  ASSERT_OK(first);
  EXPECT_TRUE(first->has_value());
  EXPECT_EQ(rejection(s.checkNonce("node-a", n.value, 2001)), NonceRejection::kReplayed);
  EXPECT_EQ(rejection(attestWith(s, "node-a", n.value, 2001, 12)), NonceRejection::kReplayed);

  NonceRecord late = nonceFor("node-a", 2);
  ASSERT_OK(s.issueNonce(late));
  EXPECT_EQ(rejection(attestWith(s, "node-a", late.value, late.expires_at, 13)),
            NonceRejection::kExpired);
  EXPECT_EQ(rejection(attestWith(s, "node-a", pattern(32, 99), 2000, 14)), NonceRejection::kUnknown);
  EXPECT_EQ(rejection(attestWith(s, "node-a", pattern(8, 1), 2000, 15)), NonceRejection::kUnknown);
  EXPECT_EQ(rejection(attestWith(s, "node-a", pattern(4096, 1), 2000, 16)),
            NonceRejection::kUnknown);
  EXPECT_EQ(s.checkNonce("bad node", n.value, 2000).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(attestWith(s, "bad node", n.value, 2000, 17).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM appraisals"), 1);  // only the one that won

  auto purged = s.purgeNonces(2000 + 60'000);  // past every expiry
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 3);  // n, late and the next nonce the accepted attestation issued
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM nonces"), 0);
}

TYPED_TEST_P(StoreSuite, MalformedNonceIsRefused) {
  Store& s = *this->store_;
  this->enroll("node-a");
  ASSERT_OK(s.issueNonce(nonceFor("node-a", 1)));
  struct Case {
    const char* what;
    NonceRecord nonce;
  };
  NonceRecord expired_first = nonceFor("node-a", 5);
  expired_first.expires_at = expired_first.issued_at;
  const std::vector<Case> cases = {
      {"duplicate value", nonceFor("node-a", 1)},
      {"unknown node", nonceFor("ghost", 2)},
      {"15 bytes", NonceRecord{pattern(15, 3), "node-a", 1, 2, std::nullopt}},
      {"65 bytes", NonceRecord{pattern(65, 3), "node-a", 1, 2, std::nullopt}},
      {"expires when issued", expired_first},
  };
  for (const auto& c : cases) {
    auto r = s.issueNonce(c.nonce);
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.what;
  }
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM nonces"), 1);
}

// Racers on one or two Store instances: exactly one attestation per nonce is stored.
template <typename Suite>
void raceNonces(Suite& suite, bool two_replicas) {
  auto other = two_replicas ? suite.replica() : nullptr;
  Store* stores[2] = {suite.store_.get(), two_replicas ? other.get() : suite.store_.get()};
  ASSERT_NE(stores[1], nullptr);
  suite.enroll("node-a");
  constexpr int kNonces = 20;
  constexpr int kThreads = 8;
  for (int i = 0; i < kNonces; ++i) {
    // Issued through one replica, consumed through either.
    ASSERT_OK(stores[i % 2]->issueNonce(nonceFor("node-a", static_cast<std::uint8_t>(i))));
  }
  std::atomic<int> wins[kNonces] = {};
  std::atomic<int> errors{0};
  std::mutex first_error_mu;
  std::string first_error;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kNonces; ++i) {
        auto r = attestWith(*stores[t % 2], "node-a", pattern(32, static_cast<std::uint8_t>(i)),
                            5000 + i * kThreads + t, t);
        if (!r) {
          if (errors++ == 0) {
            std::lock_guard lock(first_error_mu);
            first_error = r.error().toString();
          }
        } else if (r->has_value()) {
          ++wins[i];
        } else if (r->error() != NonceRejection::kReplayed) {
          ++errors;
        }
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0) << first_error;
  for (int i = 0; i < kNonces; ++i) EXPECT_EQ(wins[i].load(), 1) << "nonce " << i;
  EXPECT_EQ(suite.rawInt("SELECT COUNT(*) FROM appraisals"), kNonces);
}

TYPED_TEST_P(StoreSuite, ConcurrentThreadsConsumeANonceExactlyOnce) { raceNonces(*this, false); }

TYPED_TEST_P(StoreSuite, TwoReplicasConsumeANonceExactlyOnce) { raceNonces(*this, true); }

TYPED_TEST_P(StoreSuite, AppraisalWrittenByOneReplicaIsReadByTheOther) {
  auto other = this->replica();
  ASSERT_NE(other, nullptr);
  this->enroll("node-a");
  AppraisalRecord a = appraisalFor("node-a", 5000, AppraisalStatus::kAffirming);
  auto stored = this->store_->recordAppraisal(a);
  ASSERT_OK(stored);
  EXPECT_GT(stored->id, 0);
  auto seen = other->latestAppraisal("node-a");
  ASSERT_OK(seen);
  EXPECT_EQ(seen->id, stored->id);
  EXPECT_EQ(seen->ear, a.ear);
  EXPECT_EQ(seen->reasons_json, a.reasons_json);
  EXPECT_EQ(seen->trust_vector_json, a.trust_vector_json);
  EXPECT_EQ(seen->evidence_digest, a.evidence_digest);
  EXPECT_EQ(seen->fresh_until, a.fresh_until);
  EXPECT_EQ(seen->reset_count, a.reset_count);
  EXPECT_EQ(seen->clock, a.clock);
  EXPECT_EQ(other->getNode("node-a")->state, NodeState::kTrusted);
  auto fleet = other->fleet();
  ASSERT_OK(fleet);
  ASSERT_EQ(fleet->size(), 1u);
  ASSERT_TRUE(fleet->front().latest.has_value());
  EXPECT_EQ(fleet->front().latest->id, stored->id);
}

TYPED_TEST_P(StoreSuite, LatestVerdictFollowsAppraisalTimeNotArrival) {
  Store& s = *this->store_;
  this->enroll("node-a");
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 5000, AppraisalStatus::kAffirming, 1)));
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 9000, AppraisalStatus::kContraindicated, 2)));
  // A slower replica stores an older appraisal afterwards: history gets it, latest does not.
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 7000, AppraisalStatus::kAffirming, 1)));
  auto latest = s.latestAppraisal("node-a");
  ASSERT_OK(latest);
  EXPECT_EQ(latest->appraised_at, 9000);
  EXPECT_EQ(latest->status, AppraisalStatus::kContraindicated);
  auto node = s.getNode("node-a");
  EXPECT_EQ(node->state, NodeState::kUntrusted);
  EXPECT_EQ(node->reset_count, 2);
  EXPECT_EQ(node->clock, 9000);

  // An appraisal without counters (quote not authenticated) keeps the last known ones.
  AppraisalRecord blind = appraisalFor("node-a", 9500, AppraisalStatus::kContraindicated);
  blind.reset_count.reset();
  blind.restart_count.reset();
  blind.clock.reset();
  ASSERT_OK(s.recordAppraisal(blind));
  EXPECT_EQ(s.getNode("node-a")->reset_count, 2);
  EXPECT_EQ(s.getNode("node-a")->clock, 9000);

  auto all = s.appraisalHistory("node-a", {});
  ASSERT_OK(all);
  std::vector<Millis> times;
  for (const auto& a : *all) times.push_back(a.appraised_at);
  EXPECT_EQ(times, (std::vector<Millis>{9500, 9000, 7000, 5000}));
  auto page = s.appraisalHistory("node-a", HistoryQuery{2, std::nullopt, 9000});
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].appraised_at, 7000);
  EXPECT_EQ((*page)[1].appraised_at, 5000);
  auto since = s.appraisalHistory("node-a", HistoryQuery{100, 7000, std::nullopt});
  ASSERT_OK(since);
  EXPECT_EQ(since->size(), 3u);
  EXPECT_EQ(s.appraisalHistory("node-a", HistoryQuery{0, {}, {}})->size(), 1u);  // clamped
  EXPECT_EQ(s.appraisalHistory("ghost", {}).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.latestAppraisal("ghost").error().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreSuite, MalformedAppraisalChangesNothing) {
  Store& s = *this->store_;
  this->enroll("node-a");
  ASSERT_OK(s.recordAppraisal(appraisalFor("node-a", 1000, AppraisalStatus::kAffirming)));
  struct Case {
    const char* what;
    std::function<void(AppraisalRecord&)> mutate;
    ErrorCode code = ErrorCode::kInvalidArgument;
  };
  const std::vector<Case> cases = {
      {"reasons not JSON", [](AppraisalRecord& a) { a.reasons_json = "[{"; }},
      {"reasons an object", [](AppraisalRecord& a) { a.reasons_json = "{}"; }},
      {"trust vector an array", [](AppraisalRecord& a) { a.trust_vector_json = "[1]"; }},
      {"reasons 2 MiB",
       [](AppraisalRecord& a) { a.reasons_json = "[\"" + std::string(2 << 20, 'x') + "\"]"; }},
      {"EAR with a space", [](AppraisalRecord& a) { a.ear = "a.b c"; }},
      {"EAR empty", [](AppraisalRecord& a) { a.ear.clear(); }},
      {"digest 31 bytes", [](AppraisalRecord& a) { a.evidence_digest.pop_back(); }},
      {"fresh before appraised", [](AppraisalRecord& a) { a.fresh_until = a.appraised_at - 1; }},
      {"negative reset count", [](AppraisalRecord& a) { a.reset_count = -1; }},
      {"bad node name", [](AppraisalRecord& a) { a.node = "x y"; }},
      {"unknown node", [](AppraisalRecord& a) { a.node = "ghost"; }, ErrorCode::kNotFound},
  };
  for (const auto& c : cases) {
    AppraisalRecord a = appraisalFor("node-a", 2000, AppraisalStatus::kContraindicated, 7);
    c.mutate(a);
    auto r = s.recordAppraisal(a);
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_EQ(r.error().code(), c.code) << c.what << ": " << r.error().toString();
  }
  Bytes evidence = pattern(100, 3);
  AppraisalRecord mismatched = appraisalFor("node-a", 2000, AppraisalStatus::kContraindicated);
  EXPECT_EQ(s.recordAppraisal(mismatched, ByteView(evidence)).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM appraisals"), 1);
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM evidence"), 0);
  auto node = s.getNode("node-a");
  EXPECT_EQ(node->state, NodeState::kTrusted);
  EXPECT_EQ(node->reset_count, 1);
  EXPECT_EQ(s.latestAppraisal("node-a")->appraised_at, 1000);
}

TYPED_TEST_P(StoreSuite, EnrollingNodeAcceptsNoAppraisal) {
  Store& s = *this->store_;
  ASSERT_OK(s.createPendingEnrollment(pendingFor("node-a", "e1", 0)));
  ASSERT_OK(s.completeEnrollment("e1", {"", false, 1}));
  auto r = s.recordAppraisal(appraisalFor("node-a", 10, AppraisalStatus::kAffirming));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.getNode("node-a")->state, NodeState::kEnrolling);
}

TYPED_TEST_P(StoreSuite, LatestEvidenceIsKeptForReappraisal) {
  Store& s = *this->store_;
  this->enroll("node-a");
  Bytes newer = pattern(4096, 1);
  Bytes older = pattern(2048, 2);
  AppraisalRecord a = appraisalFor("node-a", 9000, AppraisalStatus::kAffirming);
  a.evidence_digest = sha256(newer);
  ASSERT_OK(s.recordAppraisal(a, ByteView(newer)));
  AppraisalRecord b = appraisalFor("node-a", 8000, AppraisalStatus::kAffirming);
  b.evidence_digest = sha256(older);
  ASSERT_OK(s.recordAppraisal(b, ByteView(older)));  // arrives late: not the latest
  auto ev = s.latestEvidence("node-a");
  ASSERT_OK(ev);
  EXPECT_EQ(ev->bytes, newer);
  EXPECT_EQ(ev->digest, sha256(newer));
  EXPECT_EQ(ev->received_at, 9000);
  EXPECT_EQ(s.latestEvidence("ghost").error().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreSuite, FleetShowsLatestVerdictAndStaleness) {
  Store& s = *this->store_;
  for (const char* n : {"c", "a", "b"}) this->enroll(n);
  ASSERT_OK(s.recordAppraisal(appraisalFor("a", 1000, AppraisalStatus::kWarning)));
  ASSERT_OK(s.recordAppraisal(appraisalFor("a", 2000, AppraisalStatus::kAffirming)));
  ASSERT_OK(s.recordAppraisal(appraisalFor("b", 2000, AppraisalStatus::kContraindicated)));
  auto fleet = s.fleet();
  ASSERT_OK(fleet);
  ASSERT_EQ(fleet->size(), 3u);
  const FleetEntry& a = (*fleet)[0];
  EXPECT_EQ(a.node.name, "a");
  ASSERT_TRUE(a.latest.has_value());
  EXPECT_EQ(a.latest->appraised_at, 2000);
  EXPECT_EQ(a.latest->status, AppraisalStatus::kAffirming);
  EXPECT_EQ(a.latest->fresh_until, 2000 + 600'000);
  Millis deadline = a.latest->fresh_until;
  EXPECT_EQ(effectiveState(a.node.state, deadline, deadline - 1), EffectiveState::kTrusted);
  EXPECT_EQ(effectiveState(a.node.state, deadline, deadline), EffectiveState::kStale);
  const FleetEntry& b = (*fleet)[1];
  EXPECT_EQ(b.node.state, NodeState::kUntrusted);
  EXPECT_EQ(b.latest->reasons_json, R"([{"reason":"pcr_mismatch","pcr":15}])");
  const FleetEntry& c = (*fleet)[2];
  EXPECT_FALSE(c.latest.has_value());
  EXPECT_EQ(effectiveState(c.node.state, std::nullopt, 0), EffectiveState::kUntrusted);
}

TYPED_TEST_P(StoreSuite, FleetOfFiveThousandNodes) {
  // Built through a non-durable connection to keep the setup quick; the query under test
  // is a read and behaves the same.
  auto fast = this->backend_.open(false);
  ASSERT_OK(fast);
  Store& s = **fast;
  constexpr int kNodes = 5000;
  for (int i = 0; i < kNodes; ++i) {
    std::string name = "node-" + std::to_string(100000 + i);
    ASSERT_OK(s.createPendingEnrollment(pendingFor(name, "e" + std::to_string(i), 0)));
    ASSERT_OK(s.completeEnrollment("e" + std::to_string(i), {"", true, 1}));
    if (i % 10 != 0) {
      auto status = i % 3 == 0 ? AppraisalStatus::kContraindicated : AppraisalStatus::kAffirming;
      ASSERT_OK(s.recordAppraisal(appraisalFor(name, 1000 + i, status)));
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto fleet = this->store_->fleet();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  ASSERT_OK(fleet);
  ASSERT_EQ(fleet->size(), static_cast<std::size_t>(kNodes));
  int with_verdict = 0;
  for (int i = 0; i < kNodes; ++i) {
    const FleetEntry& e = (*fleet)[static_cast<std::size_t>(i)];
    EXPECT_EQ(e.node.name, "node-" + std::to_string(100000 + i));
    if (e.latest) {
      ++with_verdict;
      EXPECT_EQ(e.latest->appraised_at, 1000 + i);
    }
  }
  EXPECT_EQ(with_verdict, kNodes - kNodes / 10);
  std::printf("[ metric ] %s fleet() of %d nodes: %lld ms\n", TypeParam::kName, kNodes,
              static_cast<long long>(ms));
}

}  // namespace bulwark::server::testing
