// Incremental logs (docs/api.md "Incremental logs") on real Bulwark CEL logs written
// by attest/cel's CelWriter: the cycle ships a log from the verifier's cursor only
// while the file still starts with the verifier's copy, answers 409
// log-prefix-unknown with whole logs and the same nonce, and forgets cursors the
// verifier did not renew. The fake verifier keeps its own copy of every log
// (cycle_fakes.h), so a wrongly cut log shows up as a copy that differs from the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include "agent/cycle/attestation_cycle.h"
#include "agent/cycle/log_file_source.h"
#include "agent/cycle/report_builder.h"
#include "attest/cel/cel_writer.h"
#include "tests/unit/cycle/cycle_fakes.h"

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;
using namespace bulwark::agent::testing;

constexpr const char* kBoot = "0123456789abcdef0123456789abcdef";
constexpr const char* kOtherBoot = "fedcba9876543210fedcba9876543210";

class SoftPcr final : public attest::PcrExtender {
 public:
  Result<void> extend(std::uint32_t, const std::vector<std::pair<HashAlg, Bytes>>&) override {
    return {};
  }
};

// Adds `extra` attribute-less measurements to what the logs source collects (the
// engine's current set on a node that measured that many files).
class WithMeasurements final : public MeasurementSource {
 public:
  WithMeasurements(MeasurementSource& inner, int extra) : inner_(inner), extra_(extra) {}
  Result<Collected> collect(std::uint32_t selected) override {
    auto c = inner_.collect(selected);
    for (int i = 0; c && i < extra_; ++i) {
      c->measurements.push_back(measurement("host-file", "/etc/bench/f-" + std::to_string(i)));
    }
    return c;
  }

 private:
  MeasurementSource& inner_;
  int extra_;
};

// One node: a state directory, a real CEL log, and one AttestationCycle kept across
// runs (cursors live in its memory).
class Node {
 public:
  explicit Node(int extra_measurements = 0)
      : dir_(fs::temp_directory_path() /
             ("bulwark-incr-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))),
        store_((fs::create_directories(dir_), dir_.string())),
        logs_({.cel_log = logPath(), .firmware_log = "", .ima_log = ""}),
        source_(logs_, extra_measurements) {
    verifier.issue_cursors = true;
    AttestationState s;
    s.nonce = bytes(verifier.issue());
    s.nonce_expires_unix_ms = verifier.now + 60000;
    s.pcr = {"sha256", {15}};
    EXPECT_TRUE(store_.saveAttestation(s).has_value());
    attest::CelWriterOptions options;
    options.path = logPath();
    writer_.emplace(attest::CelWriter::create(options, pcr_).value());
    beginBoot(kBoot);
    cycle_.emplace(CycleOptions{.node = "node-1"},
                   CycleEnvironment{.store = &store_,
                                    .source = &source_,
                                    .quoter = &quoter,
                                    .verifier = &verifier,
                                    .host_facts =
                                        [this] {
                                          bulwark::v1::HostFacts f;
                                          f.set_boot_id(boot_id);
                                          return f;
                                        },
                                    .now_unix_ms = [this] { return verifier.now; }});
  }
  ~Node() { fs::remove_all(dir_); }

  std::string logPath() const { return (dir_ / "measure.log").string(); }
  std::string file() const {
    std::ifstream in(logPath(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void beginBoot(const std::string& id) { ASSERT_TRUE(writer_->beginBoot(id).has_value()); }
  void append(int records) {
    for (int i = 0; i < records; ++i) {
      std::string path = "/usr/bin/tool-" + std::to_string(appended_++);
      attest::BatchEntry e{"runtime-binary", path, sha256(asBytes(path))};
      ASSERT_TRUE(writer_->appendBatch(std::span(&e, 1)).has_value());
    }
  }
  Result<CycleOutcome> tryRun() { return cycle_->runOnce(); }
  CycleOutcome run() {
    auto o = cycle_->runOnce();
    EXPECT_TRUE(o.has_value()) << o.error().toString();
    return o.value_or(CycleOutcome{});
  }
  const bulwark::v1::EventLog& lastLog() const { return verifier.reports.back().logs(0); }
  std::string heldNonce() { return str(store_.loadAttestation().value().nonce); }

  std::string boot_id = kBoot;
  FakeQuoter quoter;
  FakeAttestVerifier verifier;

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  StateStore store_;
  SoftPcr pcr_;
  std::optional<attest::CelWriter> writer_;
  LogFileSource logs_;
  WithMeasurements source_;
  std::optional<AttestationCycle> cycle_;
  int appended_ = 0;
};

std::uint64_t lines(const std::string& s) {
  return static_cast<std::uint64_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(IncrementalLogs, TheCursorShipsOnlyTheNewRecords) {
  Node n;
  n.append(3);
  CycleOutcome first = n.run();
  EXPECT_EQ(first.incremental_logs, 0);
  EXPECT_EQ(n.lastLog().offset(), 0u);
  EXPECT_EQ(n.lastLog().content(), n.file());
  const std::string before = n.file();
  ASSERT_EQ(lines(before), 4u) << "log-start + 3 batch records";

  n.append(2);
  CycleOutcome second = n.run();
  EXPECT_EQ(second.incremental_logs, 1);
  EXPECT_EQ(second.round_trips, 1);
  EXPECT_EQ(n.lastLog().offset(), before.size());
  EXPECT_EQ(n.lastLog().entries_before(), 4u);
  EXPECT_EQ(n.lastLog().content(), n.file().substr(before.size()));
  EXPECT_EQ(n.verifier.copies.at(n.logPath()), n.file()) << "the verifier's copy is the file";

  CycleOutcome steady = n.run();  // nothing appended
  EXPECT_EQ(steady.incremental_logs, 1);
  EXPECT_EQ(n.lastLog().offset(), n.file().size());
  EXPECT_EQ(n.lastLog().entries_before(), 6u);
  EXPECT_TRUE(n.lastLog().content().empty());
  EXPECT_LT(steady.report_bytes, first.report_bytes);
  EXPECT_TRUE(steady.notes.empty());
  EXPECT_TRUE(n.verifier.refusals.empty());
}

// Each way the file can stop starting with the verifier's copy: the log goes whole
// (with a note), the verifier accepts it, and the cycle after is incremental again.
TEST(IncrementalLogs, AFileThatNoLongerStartsWithTheCopyGoesWhole) {
  struct Case {
    const char* name;
    std::function<void(Node&)> change;
  };
  const Case cases[] = {
      {"rotated (a new boot's log, longer than the copy)",
       [](Node& n) {
         n.beginBoot(kOtherBoot);
         n.append(8);
       }},
      {"truncated", [](Node& n) { fs::resize_file(n.logPath(), n.file().size() / 2); }},
      {"rewritten in place near the end",
       [](Node& n) {
         std::fstream f(n.logPath(), std::ios::in | std::ios::out | std::ios::binary);
         f.seekp(static_cast<std::streamoff>(n.file().size() - 20));
         f.put('X');
       }},
      {"replaced by a copy edited at the start (new inode)",
       [](Node& n) {
         std::string edited = n.file();
         edited[2] = edited[2] == 'a' ? 'b' : 'a';
         std::ofstream(n.logPath() + ".new", std::ios::binary) << edited;
         fs::rename(n.logPath() + ".new", n.logPath());
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Node n;
    n.append(30);
    n.run();
    ASSERT_GT(n.file().size(), 2 * LogCursors::kWindowBytes) << "edits outside the window";
    n.append(1);
    ASSERT_EQ(n.run().incremental_logs, 1);
    ASSERT_EQ(n.run().incremental_logs, 1);  // steady: the remembered prefix covers all
    c.change(n);
    CycleOutcome o = n.run();
    EXPECT_EQ(o.incremental_logs, 0);
    EXPECT_EQ(n.lastLog().offset(), 0u);
    EXPECT_EQ(n.lastLog().entries_before(), 0u);
    EXPECT_EQ(n.lastLog().content(), n.file());
    ASSERT_EQ(o.notes.size(), 1u);
    EXPECT_NE(o.notes[0].find("whole"), std::string::npos) << o.notes[0];
    EXPECT_TRUE(n.verifier.refusals.empty());
    EXPECT_EQ(n.run().incremental_logs, 1) << "cursors resume after the whole log";
  }
}

TEST(IncrementalLogs, AVerifierWithoutTheCopyGetsWholeLogsWithTheSameNonce) {
  Node n;
  n.append(2);
  n.run();
  n.append(1);
  n.verifier.copies.clear();  // another replica, or restored state
  const std::string nonce = n.heldNonce();
  const std::size_t quotes = n.quoter.qualifying.size();
  CycleOutcome o = n.run();
  EXPECT_EQ(o.round_trips, 2);
  EXPECT_EQ(n.verifier.refusals, std::vector<std::string>{"log-prefix-unknown"});
  EXPECT_EQ(n.verifier.nonce_calls, 0);
  EXPECT_EQ(n.verifier.reports.back().nonce(), nonce) << "the refused nonce is not consumed";
  ASSERT_EQ(n.quoter.qualifying.size(), quotes + 2) << "the rebuilt report is quoted again";
  EXPECT_EQ(n.quoter.qualifying.back(),
            expectedQualifyingData(nonce, n.verifier.reports.back().SerializeAsString()));
  EXPECT_EQ(o.incremental_logs, 0);
  EXPECT_EQ(n.lastLog().offset(), 0u);
  EXPECT_EQ(n.lastLog().content(), n.file());
  ASSERT_FALSE(o.notes.empty());
  EXPECT_NE(o.notes.back().find("log-prefix-unknown"), std::string::npos);
  EXPECT_TRUE(o.affirming);
  n.append(1);
  CycleOutcome next = n.run();
  EXPECT_EQ(next.round_trips, 1);
  EXPECT_EQ(next.incremental_logs, 1);
}

// Cursors come from the last successful answer of this boot, nowhere else.
TEST(IncrementalLogs, OnlyCursorsOfTheLastAnswerOfThisBootAreUsed) {
  struct Case {
    const char* name;
    std::function<void(Node&)> before_second;
    bool second_ok;
    int second_incremental;
    int third_incremental;
  };
  const Case cases[] = {
      // Sent from the first answer's cursor; that answer had none: whole next.
      {"answer without cursors", [](Node& n) { n.verifier.issue_cursors = false; }, true, 1, 0},
      {"new boot id", [](Node& n) { n.boot_id = kOtherBoot; }, true, 0, 1},
      // The verifier may have stored what it never confirmed: whole next.
      {"lost answer", [](Node& n) { n.verifier.lose_next_answer = true; }, false, 1, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Node n;
    n.append(2);
    n.run();
    c.before_second(n);
    n.append(1);
    auto second = n.tryRun();
    ASSERT_EQ(second.has_value(), c.second_ok);
    if (second) {
      EXPECT_EQ(second->incremental_logs, c.second_incremental);
    }
    EXPECT_EQ(n.lastLog().offset() != 0, c.second_incremental == 1);
    n.append(1);
    CycleOutcome third = n.run();
    EXPECT_EQ(third.incremental_logs, c.third_incremental);
    EXPECT_EQ(n.lastLog().offset() != 0, c.third_incremental == 1);
  }
}

// Bytes per report for a node whose log holds 500 batch records (one measurement
// each, like the appraisal benchmark) and whose engine holds 500 attribute-less
// measurements: before = whole log + every measurement (the report before
// incremental logs), after = this agent in steady state (nothing new; one new record).
TEST(IncrementalLogs, SteadyStateReportOfA500RecordNode) {
  constexpr int kRecords = 500;
  Node n(kRecords);
  n.append(kRecords);
  CycleOutcome first = n.run();
  bulwark::v1::Report before = n.verifier.reports.back();
  ASSERT_EQ(before.logs(0).content(), n.file());
  for (int i = 0; i < kRecords; ++i) {
    *before.add_measurements() = measurement("host-file", "/etc/bench/f-" + std::to_string(i));
  }
  CycleOutcome steady = n.run();
  n.append(1);
  CycleOutcome one_new = n.run();
  ASSERT_EQ(steady.incremental_logs, 1);
  ASSERT_EQ(one_new.incremental_logs, 1);
  std::printf(
      "500-record node, bytes per report: before %zu (log %zu + %d measurements), "
      "first cycle %zu, steady state %zu, one new record %zu\n",
      before.ByteSizeLong(), before.logs(0).content().size(), kRecords, first.report_bytes,
      steady.report_bytes, one_new.report_bytes);
  EXPECT_EQ(n.verifier.copies.at(n.logPath()), n.file());
  EXPECT_LT(steady.report_bytes * 100, before.ByteSizeLong());
  EXPECT_LT(one_new.report_bytes, steady.report_bytes + 2 * n.lastLog().content().size());
}

}  // namespace
}  // namespace bulwark::agent
