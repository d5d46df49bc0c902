// One attestation cycle against fakes on a real state directory: the report
// and qualifying data (checked with an independent SHA-256 computation), the
// nonce life cycle (held, fetched, refused-and-replaced, never sent twice),
// verdict handling, and the logs the LogFileSource ships.
#include "agent/cycle/attestation_cycle.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "agent/cycle/log_file_source.h"
#include "agent/cycle/report_builder.h"
#include "tests/unit/cycle/cycle_fakes.h"

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;
using namespace bulwark::agent::testing;

class CycleTest : public ::testing::Test {
 protected:
  CycleTest()
      : dir_(fs::temp_directory_path() /
             ("bulwark-cycle-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))),
        store_(dir_.string()) {
    fs::create_directories(dir_);
  }
  ~CycleTest() override { fs::remove_all(dir_); }

  void holdNonce(const std::string& nonce, std::int64_t expires) {
    AttestationState s;
    s.nonce = bytes(nonce);
    s.nonce_expires_unix_ms = expires;
    s.pcr = {"sha256", {0, 7, 15}};
    ASSERT_TRUE(store_.saveAttestation(s).has_value());
  }
  AttestationCycle cycle() {
    return AttestationCycle({.node = "node-1", .measurement_pcr = 15},
                            {.store = &store_,
                             .source = &source_,
                             .quoter = &quoter_,
                             .verifier = &verifier_,
                             .host_facts =
                                 [] {
                                   bulwark::v1::HostFacts f;
                                   f.set_hostname("h");
                                   return f;
                                 },
                             .now_unix_ms = [this] { return verifier_.now; }});
  }
  AttestationState saved() { return store_.loadAttestation().value(); }

  static inline int counter_ = 0;
  fs::path dir_;
  StateStore store_;
  FakeSource source_;
  FakeQuoter quoter_;
  FakeAttestVerifier verifier_;
};

TEST_F(CycleTest, SteadyStateIsOneRoundTripPerCycle) {
  holdNonce(verifier_.issue(), verifier_.now + 60000);
  for (int i = 0; i < 3; ++i) {
    auto o = cycle().runOnce();
    ASSERT_TRUE(o.has_value()) << o.error().toString();
    EXPECT_TRUE(o->affirming);
    EXPECT_EQ(o->round_trips, 1);
    EXPECT_EQ(statusName(o->result.status()), "affirming");
  }
  EXPECT_EQ(verifier_.nonce_calls, 0);
  EXPECT_EQ(verifier_.attest_calls, 3);
  AttestationState s = saved();
  EXPECT_EQ(str(s.nonce), "nonce-4");  // the next one, held for cycle 4
  EXPECT_EQ(s.last_status, "affirming");
  EXPECT_EQ((PcrChoice{"sha256", {0, 15}}), s.pcr) << "the verifier's latest choice is kept";
  // First cycle quoted the enrollment's selection, later ones the verifier's new one.
  ASSERT_EQ(quoter_.selections.size(), 3u);
  EXPECT_EQ(quoter_.selections[0], "sha256:0,7,15");
  EXPECT_EQ(quoter_.selections[1], "sha256:0,15");
  EXPECT_EQ(source_.masks[0], (1u << 0) | (1u << 7) | (1u << 15));
}

TEST_F(CycleTest, ReportAndQualifyingDataBindTheNonce) {
  holdNonce(verifier_.issue(), verifier_.now + 60000);
  auto o = cycle().runOnce();
  ASSERT_TRUE(o.has_value()) << o.error().toString();
  EXPECT_TRUE(o->affirming)
      << "the fake verifier affirms only when attest == SHA-256(nonce || SHA-256(report))";
  ASSERT_EQ(verifier_.reports.size(), 1u);
  const auto& r = verifier_.reports[0];
  EXPECT_EQ(r.schema_version(), 1u);
  EXPECT_EQ(r.node(), "node-1");
  EXPECT_EQ(r.nonce(), "nonce-1");
  EXPECT_EQ(r.created_unix_ms(), verifier_.now);
  EXPECT_EQ(r.measurement_pcr(), 15u);
  EXPECT_EQ(r.host().hostname(), "h");
  ASSERT_EQ(r.measurements_size(), 1) << "the host file is only its log triple: not reported";
  EXPECT_EQ(r.measurements(0).subject(), "/usr/bin/runc");
  ASSERT_EQ(r.logs_size(), 1);
  EXPECT_EQ(r.logs(0).format(), bulwark::v1::EventLog::CEL_JSON);
  EXPECT_EQ(o->report_bytes, r.ByteSizeLong());
}

TEST_F(CycleTest, WithoutANonceItFetchesOne) {
  AttestationState s;
  s.pcr = {"sha256", {15}};
  ASSERT_TRUE(store_.saveAttestation(s).has_value());
  auto o = cycle().runOnce();
  ASSERT_TRUE(o.has_value()) << o.error().toString();
  EXPECT_EQ(o->round_trips, 2);
  EXPECT_EQ(verifier_.nonce_calls, 1);
  EXPECT_EQ(quoter_.selections.at(0), "sha256:0,15") << "the nonce answer's selection is used";
}

TEST_F(CycleTest, ANonceAboutToExpireIsNotUsed) {
  std::string old = verifier_.issue();
  holdNonce(old, verifier_.now + 1000);  // inside the 5 s margin
  auto o = cycle().runOnce();
  ASSERT_TRUE(o.has_value()) << o.error().toString();
  EXPECT_EQ(verifier_.nonce_calls, 1);
  EXPECT_NE(verifier_.reports.at(0).nonce(), old);
}

TEST_F(CycleTest, ARefusedNonceIsReplacedOnce) {
  holdNonce("nonce-spent-elsewhere", verifier_.now + 60000);
  auto o = cycle().runOnce();
  ASSERT_TRUE(o.has_value()) << o.error().toString();
  EXPECT_TRUE(o->affirming);
  EXPECT_EQ(o->round_trips, 3);  // refused attest, GET /v1/nonce, attest
  ASSERT_FALSE(o->notes.empty());
  EXPECT_NE(o->notes[0].find("nonce-replayed"), std::string::npos);
}

TEST_F(CycleTest, ALostAnswerNeverResendsTheNonce) {
  std::string held = verifier_.issue();
  holdNonce(held, verifier_.now + 60000);
  verifier_.lose_next_answer = true;
  auto lost = cycle().runOnce();
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(saved().nonce.empty()) << "the spent nonce must be forgotten before sending";
  auto next = cycle().runOnce();
  ASSERT_TRUE(next.has_value()) << next.error().toString();
  EXPECT_EQ(verifier_.nonce_calls, 1);
  EXPECT_NE(verifier_.reports.back().nonce(), held);
}

TEST_F(CycleTest, NonAffirmingVerdictIsAnOutcomeNotAnError) {
  holdNonce(verifier_.issue(), verifier_.now + 60000);
  verifier_.status = bulwark::v1::STATUS_CONTRAINDICATED;
  auto o = cycle().runOnce();
  ASSERT_TRUE(o.has_value()) << o.error().toString();
  EXPECT_FALSE(o->affirming);
  ASSERT_EQ(o->result.reasons_size(), 1);
  EXPECT_EQ(o->result.reasons(0).code(), "measurement-unknown");
  EXPECT_EQ(saved().last_status, "contraindicated");
}

TEST_F(CycleTest, ADowngradedNextChoiceIsIgnored) {
  holdNonce(verifier_.issue(), verifier_.now + 60000);
  verifier_.next_bank = "sha1";
  auto o = cycle().runOnce();
  ASSERT_TRUE(o.has_value()) << o.error().toString();
  ASSERT_FALSE(o->notes.empty());
  EXPECT_NE(o->notes.back().find("SHA-1"), std::string::npos);
  EXPECT_TRUE(saved().nonce.empty());
  EXPECT_EQ(saved().pcr.bank, "sha256");
}

TEST_F(CycleTest, NotEnrolledIsAClearError) {
  auto o = cycle().runOnce();
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(o.error().message().find("enroll"), std::string::npos);
  EXPECT_EQ(verifier_.attest_calls + verifier_.nonce_calls, 0);
}

TEST_F(CycleTest, OneCycleAtATimePerStateDirectory) {
  holdNonce(verifier_.issue(), verifier_.now + 60000);
  auto held = store_.lockCycle();  // e.g. `run` is in the middle of a cycle
  ASSERT_TRUE(held.has_value()) << held.error().toString();
  std::atomic<bool> done{false};
  std::thread manual([&] {
    auto o = cycle().runOnce();
    EXPECT_TRUE(o.has_value());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done.load());
  EXPECT_EQ(verifier_.attest_calls, 0);
  { auto release = std::move(*held); }
  manual.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(verifier_.attest_calls, 1);
  StateStore missing((dir_ / "not-there").string());
  auto no_dir = missing.lockCycle();
  ASSERT_FALSE(no_dir.has_value());
  EXPECT_EQ(no_dir.error().code(), ErrorCode::kNotFound);
}

TEST(ReportBuilder, EvidenceCarriesTheQuoteAndOneBankPerQuotedBank) {
  attest::QuoteResult q;
  q.attest = {1, 2};
  q.signature = {3};
  q.pcrs = {{HashAlg::kSha256, {{0, Bytes(32, 0)}, {15, Bytes(32, 0xff)}}}};
  auto e = buildEvidence("report-bytes", q);
  EXPECT_EQ(e.report(), "report-bytes");
  EXPECT_EQ(e.quote().attest(), std::string("\x01\x02", 2));
  EXPECT_EQ(e.quote().signature(), "\x03");
  ASSERT_EQ(e.quote().pcrs_size(), 1);
  EXPECT_EQ(e.quote().pcrs(0).hash_alg(), "sha256");
  ASSERT_EQ(e.quote().pcrs(0).pcrs_size(), 2);
  EXPECT_EQ(e.quote().pcrs(0).pcrs(1).index(), 15u);
  EXPECT_EQ(e.quote().pcrs(0).pcrs(1).digest(), std::string(32, '\xff'));
  EXPECT_FALSE(buildReport({}, {}, {}).has_value()) << "a report without a nonce is refused";
}

class LogSourceTest : public ::testing::Test {
 protected:
  LogSourceTest()
      : dir_(fs::temp_directory_path() / ("bulwark-logs-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    std::ofstream(path("cel")) << "{\"recnum\":0}\n";
    std::ofstream(path("fw"), std::ios::binary) << std::string("\x00\x01", 2);
    std::ofstream(path("ima")) << "10 abc ima-ng sha256:00 /init\n";
  }
  ~LogSourceTest() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(LogSourceTest, ShipsTheLogsOfTheSelectedPcrs) {
  struct Case {
    std::uint32_t mask;
    std::vector<bulwark::v1::EventLog::Format> formats;
  };
  using F = bulwark::v1::EventLog;
  const Case cases[] = {
      {1u << 15, {F::CEL_JSON}},
      {(1u << 0) | (1u << 15), {F::TCG_PC_CLIENT, F::CEL_JSON}},
      {(1u << 10) | (1u << 15), {F::CEL_JSON, F::IMA_ASCII}},
      {(1u << 9) | (1u << 10), {F::TCG_PC_CLIENT, F::CEL_JSON, F::IMA_ASCII}},
  };
  LogFileSource source(
      {.cel_log = path("cel"), .firmware_log = path("fw"), .ima_log = path("ima")});
  for (const auto& tc : cases) {
    auto c = source.collect(tc.mask);
    ASSERT_TRUE(c.has_value());
    std::vector<F::Format> got;
    for (const auto& l : c->logs) got.push_back(l.format());
    EXPECT_EQ(got, tc.formats) << "mask " << tc.mask;
    EXPECT_TRUE(c->measurements.empty());
    for (const auto& l : c->logs) {
      EXPECT_EQ(l.offset(), 0u);
      EXPECT_FALSE(l.content().empty());
    }
  }
  auto c = source.collect(1u << 15);
  EXPECT_EQ(c->logs.at(0).source(), path("cel"));
  EXPECT_EQ(c->logs.at(0).content(), "{\"recnum\":0}\n");
}

TEST_F(LogSourceTest, MissingLogsAreSkippedAndUnreadableOnesNoted) {
  LogFileSource missing({.cel_log = path("nope"), .firmware_log = path("nope2"), .ima_log = ""});
  auto c = missing.collect(0xffffff);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->logs.empty());
  EXPECT_TRUE(c->notes.empty());
  LogFileSource too_big(
      {.cel_log = path("cel"), .firmware_log = "", .ima_log = "", .max_log_bytes = 4});
  auto big = too_big.collect(1u << 15);
  ASSERT_TRUE(big.has_value());
  EXPECT_TRUE(big->logs.empty());
  ASSERT_EQ(big->notes.size(), 1u);
  EXPECT_NE(big->notes[0].find(path("cel")), std::string::npos);
}

TEST_F(LogSourceTest, EachLogNamesTheFileItWasReadFrom) {
  LogFileSource source(
      {.cel_log = path("cel"), .firmware_log = path("fw"), .ima_log = path("ima")});
  auto c = source.collect(0xffffff);
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->log_files.size(), 3u);
  for (const char* name : {"cel", "fw", "ima"}) {
    struct stat st {};
    ASSERT_EQ(::stat(path(name).c_str(), &st), 0);
    EXPECT_EQ(c->log_files.at(path(name)), (LogFileIdentity{static_cast<std::uint64_t>(st.st_dev),
                                                            static_cast<std::uint64_t>(st.st_ino)}))
        << name;
  }
  // A log rotated away and recreated is another file.
  fs::rename(path("cel"), path("cel.prev"));
  std::ofstream(path("cel")) << "{\"recnum\":0}\n";
  auto again = source.collect(1u << 15);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->log_files.at(path("cel")), c->log_files.at(path("cel")));
}

}  // namespace
}  // namespace bulwark::agent
