// The engine with a software PCR: one extend per cycle with news and none
// without, the log replays to the PCR, restart and reboot behaviour, a torn tail.
#include "agent/measure/measurement_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_file.h"
#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_replay.h"
#include "tests/unit/measure/measure_test_util.h"

namespace bulwark::agent {
namespace {

using testutil::TempDir;
using testutil::writeText;

// A software TPM PCR bank set: new = H(old || digest), counted.
class SoftPcr final : public attest::PcrExtender {
 public:
  Result<void> extend(std::uint32_t pcr,
                      const std::vector<std::pair<HashAlg, Bytes>>& ds) override {
    ++extends;
    for (const auto& [alg, d] : ds) {
      auto& v = values[{alg, pcr}];
      if (v.empty()) v = Bytes(hashAlgSize(alg), 0);
      v = pcrExtend(alg, v, d);
    }
    return {};
  }
  int extends = 0;
  std::map<std::pair<HashAlg, std::uint32_t>, Bytes> values;
};

struct Fixture {
  TempDir dir;
  SoftPcr pcr;
  Fixture() {
    writeText(dir / "boot_id", "0f3c7b1e-1111-2222-3333-444455556666\n");
    writeText(dir / "etc/a.conf", "a=1\n");
    writeText(dir / "etc/b.conf", "b=1\n");
  }
  MeasureOptions options() {
    MeasureOptions o;
    o.host = false;
    o.include = {dir / "etc"};
    o.runtime_binaries = {"bulwark-test-no-such-runtime"};
    o.log_path = dir / "state/measure.log";
    o.boot_id_path = dir / "boot_id";
    o.hash_threads = 2;
    return o;
  }
  Result<std::unique_ptr<MeasurementEngine>> engine(bool with_tpm = true) {
    MeasureDeps deps;
    if (with_tpm) deps.extender = &pcr;
    deps.banks = {HashAlg::kSha256, HashAlg::kSha1};
    return MeasurementEngine::create(options(), deps);
  }
  // Replays the log and compares with the software PCR in both banks.
  void expectReplays() {
    auto bytes = attest::readCelFile(dir / "state/measure.log");
    ASSERT_TRUE(bytes.has_value());
    auto log = attest::parseCel(*bytes);
    ASSERT_TRUE(log.has_value()) << log.error().toString();
    EXPECT_TRUE(attest::checkBulwarkRecords(*log).empty());
    auto replay = attest::replayCel(*log);
    for (HashAlg alg : {HashAlg::kSha256, HashAlg::kSha1}) {
      auto& bank = replay.banks.at(alg);
      ASSERT_TRUE(bank.has_value());
      EXPECT_EQ(bank->at(15), pcr.values.at({alg, 15})) << hashAlgName(alg);
    }
  }
};

TEST(MeasurementEngine, OneExtendWithChangesNoneWithout) {
  Fixture fx;
  auto engine = fx.engine();
  ASSERT_TRUE(engine.has_value()) << engine.error().toString();
  auto first = (*engine)->runCycle();
  ASSERT_TRUE(first.has_value()) << first.error().toString();
  EXPECT_TRUE(first->extended);
  EXPECT_EQ(fx.pcr.extends, 1);
  EXPECT_EQ(first->logged.size(), 2u);
  EXPECT_EQ(first->measurements.size(), 2u);
  fx.expectReplays();

  auto idle = (*engine)->runCycle();
  ASSERT_TRUE(idle.has_value());
  EXPECT_FALSE(idle->extended);
  EXPECT_TRUE(idle->logged.empty());
  EXPECT_EQ(fx.pcr.extends, 1);
  EXPECT_EQ(idle->measurements, first->measurements);

  // Both files change: still one extend, one record listing both.
  writeText(fx.dir / "etc/a.conf", "a=2\n");
  writeText(fx.dir / "etc/b.conf", "b=2\n");
  writeText(fx.dir / "etc/c.conf", "c=1\n");
  auto changed = (*engine)->runCycle();
  ASSERT_TRUE(changed.has_value());
  EXPECT_TRUE(changed->extended);
  EXPECT_EQ(fx.pcr.extends, 2);
  ASSERT_EQ(changed->logged.size(), 3u);
  EXPECT_EQ(toHex(changed->logged[0].sha256), testutil::sha256Hex("a=2\n"));
  fx.expectReplays();
}

TEST(MeasurementEngine, WithoutTpmMeasuresButWritesNothing) {
  Fixture fx;
  auto engine = fx.engine(false);
  ASSERT_TRUE(engine.has_value());
  auto r = (*engine)->runCycle();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->extended);
  EXPECT_EQ(r->log_path, "");
  EXPECT_EQ(r->measurements.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(fx.dir / "state/measure.log"));
}

TEST(MeasurementEngine, RestartInSameBootDoesNotExtendAgain) {
  Fixture fx;
  {
    auto engine = fx.engine();
    ASSERT_TRUE(engine.has_value());
    ASSERT_TRUE((*engine)->runCycle().has_value());
  }
  auto again = fx.engine();
  ASSERT_TRUE(again.has_value()) << again.error().toString();
  auto r = (*again)->runCycle();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->extended);
  EXPECT_EQ(fx.pcr.extends, 1);
}

TEST(MeasurementEngine, RebootStartsANewLog) {
  Fixture fx;
  {
    auto engine = fx.engine();
    ASSERT_TRUE(engine.has_value());
    ASSERT_TRUE((*engine)->runCycle().has_value());
  }
  writeText(fx.dir / "boot_id", "99999999-1111-2222-3333-444455556666\n");
  fx.pcr.values.clear();  // the PCR reset with the reboot
  auto engine = fx.engine();
  ASSERT_TRUE(engine.has_value());
  auto r = (*engine)->runCycle();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->extended) << "a new boot measures everything again";
  EXPECT_TRUE(std::filesystem::exists(fx.dir / "state/measure.log.prev"));
  fx.expectReplays();
}

TEST(MeasurementEngine, TornTailIsRepairedAndReported) {
  Fixture fx;
  {
    auto engine = fx.engine();
    ASSERT_TRUE(engine.has_value());
    ASSERT_TRUE((*engine)->runCycle().has_value());
  }
  // A writer died mid-append (its extend never happened: the record is torn).
  {
    std::ofstream log(fx.dir / "state/measure.log", std::ios::app | std::ios::binary);
    log << "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha256\",\"dig";
  }
  auto engine = fx.engine();
  ASSERT_TRUE(engine.has_value()) << engine.error().toString();
  writeText(fx.dir / "etc/a.conf", "a=3\n");
  auto r = (*engine)->runCycle();
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_TRUE(r->extended);
  fx.expectReplays();
}

TEST(MeasurementEngine, UnreadableAndVanishedFilesAreNotesAndTheCycleContinues) {
  Fixture fx;
  ASSERT_EQ(::mkfifo((fx.dir / "etc/pipe").c_str(), 0600), 0);
  auto o = fx.options();
  o.include.push_back(fx.dir / "etc/missing.conf");
  MeasureDeps deps;
  deps.extender = &fx.pcr;
  auto engine = MeasurementEngine::create(o, deps);
  ASSERT_TRUE(engine.has_value());
  auto r = (*engine)->runCycle();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->measurements.size(), 2u);
  std::string notes;
  for (const auto& n : r->notes) notes += n + "\n";
  EXPECT_NE(notes.find("missing.conf: does not exist"), std::string::npos) << notes;
  EXPECT_TRUE(r->extended);
}

TEST(MeasurementEngine, OwnLogIsNeverMeasured) {
  Fixture fx;
  auto o = fx.options();
  o.include = {fx.dir.path()};  // includes state/measure.log itself
  MeasureDeps deps;
  deps.extender = &fx.pcr;
  auto engine = MeasurementEngine::create(o, deps);
  ASSERT_TRUE(engine.has_value());
  ASSERT_TRUE((*engine)->runCycle().has_value());
  auto r = (*engine)->runCycle();
  ASSERT_TRUE(r.has_value());
  for (const auto& m : r->measurements) EXPECT_NE(m.subject, fx.dir / "state/measure.log");
  EXPECT_FALSE(r->extended) << "appending to the log is not a change";
}

TEST(MeasurementEngine, ResettablePcrNeedsDebug) {
  Fixture fx;
  for (std::uint32_t p : {16u, 23u}) {
    auto o = fx.options();
    o.pcr = p;
    auto refused = MeasurementEngine::create(o, MeasureDeps{});
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message().find("resettable"), std::string::npos);
    o.debug = true;
    EXPECT_TRUE(MeasurementEngine::create(o, MeasureDeps{}).has_value());
  }
}

TEST(MeasurementEngine, WatcherCallsBackOnMeasuredFileChange) {
  Fixture fx;
  auto o = fx.options();
  o.debounce_ms = 50;
  auto engine = MeasurementEngine::create(o, MeasureDeps{});
  ASSERT_TRUE(engine.has_value());
  ASSERT_TRUE((*engine)->runCycle().has_value());
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> reasons;
  ASSERT_TRUE((*engine)
                  ->startWatching([&](std::string_view reason) {
                    std::lock_guard lock(mu);
                    reasons.emplace_back(reason);
                    cv.notify_all();
                  })
                  .has_value());
  writeText(fx.dir / "etc/unrelated-not-measured-yet", "x");  // new file in a watched dir
  std::unique_lock lock(mu);
  ASSERT_FALSE(cv.wait_for(lock, std::chrono::milliseconds(300), [&] { return !reasons.empty(); }))
      << "a file that is not measured must not trigger";
  lock.unlock();
  writeText(fx.dir / "etc/a.conf", "a=9\n");
  lock.lock();
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !reasons.empty(); }));
  EXPECT_NE(reasons[0].find("a.conf"), std::string::npos) << reasons[0];
}

TEST(MeasurementEngine, LargeFirstCycleIsOneExtendOverPartsThatReplay) {
  Fixture fx;
  // ~6000 entries of ~330 bytes each: more than one 1 MiB record can hold.
  std::string dir = fx.dir / "etc/many";
  std::filesystem::create_directories(dir);
  std::string pad(200, 'p');
  for (int i = 0; i < 6000; ++i) std::ofstream(dir + "/" + pad + std::to_string(i)) << i;
  auto engine = fx.engine();
  ASSERT_TRUE(engine.has_value());
  auto r = (*engine)->runCycle();
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_EQ(r->records, 1u);
  EXPECT_GE(r->parts, 1u);
  EXPECT_EQ(fx.pcr.extends, 1) << "one extend however many entries";
  EXPECT_EQ(r->logged.size(), 6002u);
  fx.expectReplays();
  // Every logged measurement is attested by the log (parts' entries included).
  auto bytes = attest::readCelFile(fx.dir / "state/measure.log");
  ASSERT_TRUE(bytes.has_value());
  auto log = attest::parseCel(*bytes);
  ASSERT_TRUE(log.has_value());
  auto entries = attest::loggedBatchEntries(*log);
  ASSERT_EQ(entries.size(), r->logged.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].subject, r->logged[i].subject);
    EXPECT_EQ(entries[i].sha256, r->logged[i].sha256);
  }
  // A restarted agent rebuilds "already logged" from parts and batch: no extend.
  engine->reset();
  auto restarted = fx.engine();
  ASSERT_TRUE(restarted.has_value());
  auto idle = (*restarted)->runCycle();
  ASSERT_TRUE(idle.has_value());
  EXPECT_FALSE(idle->extended);
  EXPECT_EQ(fx.pcr.extends, 1);
  // A later change is one record without parts.
  writeText(fx.dir / "etc/a.conf", "a=5\n");
  auto next = (*restarted)->runCycle();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->records, 1u);
  EXPECT_EQ(next->parts, 0u);
  EXPECT_EQ(fx.pcr.extends, 2);
  fx.expectReplays();
}

TEST(MeasurementEngine, NonUtf8PathsAreLoggedPercentEncoded) {
  Fixture fx;
  std::string name = fx.dir / "etc/bad-\xff\xfe%.conf";
  std::ofstream(name) << "x";
  auto engine = fx.engine();
  ASSERT_TRUE(engine.has_value());
  auto r = (*engine)->runCycle();
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  bool found = false;
  for (const auto& m : r->measurements) {
    if (m.subject == fx.dir / "etc/bad-%FF%FE%25.conf") {
      found = true;
      EXPECT_EQ(m.attributes.at("subject_encoding"), "percent");
    }
  }
  EXPECT_TRUE(found);
  fx.expectReplays();
}

TEST(Measurement, Utf8Table) {
  struct {
    const char* text;
    bool ok;
  } cases[] = {{"plain/ascii", true},      {"caf\xc3\xa9", true}, {"\xe2\x82\xac", true},
               {"\xf0\x9f\x98\x80", true}, {"\xff", false},       {"\xc3", false},
               {"\xc0\xaf", false},           // overlong '/'
               {"\xed\xa0\x80", false},       // surrogate
               {"\xf4\x90\x80\x80", false}};  // > U+10FFFF
  for (const auto& c : cases) EXPECT_EQ(isUtf8(c.text), c.ok) << c.text;
  EXPECT_EQ(percentEncodeNonUtf8("a%\xff"), "a%25%FF");
}

}  // namespace
}  // namespace bulwark::agent
