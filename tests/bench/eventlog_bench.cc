// Throughput of the measured-boot and IMA paths a verifier runs per attestation:
//   firmware logs: parse + replay (events/s), plus typed decoding and boot facts;
//   IMA: whole-list parse + replay (entries/s) vs incremental feed of only the entries
//   appended since the last attestation (what a verifier keeping ImaState does).
// Data: tests/testdata/eventlogs (14 real logs) and tests/testdata/ima (826 entries).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/eventlog/boot_facts.h"
#include "attest/eventlog/event_data.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/replay.h"
#include "attest/ima/ima_log.h"

namespace {

namespace el = bulwark::attest::eventlog;
namespace ima = bulwark::attest::ima;
using bulwark::Bytes;
using bulwark::HashAlg;

// BULWARK_SOURCE_DIR when ctest sets it, else the source tree this file was built from.
std::string sourceDir() {
  if (const char* s = std::getenv("BULWARK_SOURCE_DIR")) return s;
  std::string f = __FILE__;
  return f.substr(0, f.rfind("/tests/bench/"));
}

const char* const kLogs[] = {"arch_linux_workstation", "confidential_gke_debug_251000_eventlog",
                             "cos_101_amd_sev", "cos_85_amd_sev", "cos_93_amd_sev", "debian_10",
                             "eventlogwithsp800155", "gdc_host", "glinux_alex", "rhel8_uefi",
                             "ubuntu_1804_amd_sev", "ubuntu_2104_no_dbx",
                             "ubuntu_2104_no_secure_boot", "ubuntu_2404_amd_sevsnp"};

const std::vector<Bytes>& firmwareLogs() {
  static const std::vector<Bytes> logs = [] {
    std::vector<Bytes> out;
    for (const char* name : kLogs) {
      auto b = bulwark::readFile(sourceDir() + "/tests/testdata/eventlogs/" + name + "/eventlog.bin");
      if (b) out.push_back(std::move(*b));
    }
    return out;
  }();
  return logs;
}

const std::string& imaLog() {
  static const std::string text = [] {
    auto b = bulwark::readFile(sourceDir() + "/tests/testdata/ima/rust_keylime_agent_826/ascii_runtime_measurements");
    return b ? std::string(b->begin(), b->end()) : std::string();
  }();
  return text;
}

// The 826-entry list repeated `copies` times (every line stays valid).
std::string imaLogTimes(int copies) {
  std::string out;
  for (int i = 0; i < copies; ++i) out += imaLog();
  return out;
}

bool haveData(benchmark::State& state) {
  if (firmwareLogs().size() == std::size(kLogs) && !imaLog().empty()) return true;
  state.SkipWithError(("test data not found under " + sourceDir() + "/tests/testdata").c_str());
  return false;
}

void BM_FirmwareParseReplay(benchmark::State& state) {
  if (!haveData(state)) return;
  std::int64_t events = 0, bytes = 0;
  for (auto _ : state) {
    for (const Bytes& b : firmwareLogs()) {
      auto log = el::parseEventLog(b);
      auto rep = el::replay(*log);
      benchmark::DoNotOptimize(rep);
      events += static_cast<std::int64_t>(log->events.size());
      bytes += static_cast<std::int64_t>(b.size());
    }
  }
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(bytes);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FirmwareParseReplay);

void BM_FirmwareParseOnly(benchmark::State& state) {
  if (!haveData(state)) return;
  std::int64_t events = 0;
  for (auto _ : state) {
    for (const Bytes& b : firmwareLogs()) {
      auto log = el::parseEventLog(b);
      benchmark::DoNotOptimize(log);
      events += static_cast<std::int64_t>(log->events.size());
    }
  }
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FirmwareParseOnly);

void BM_FirmwareDecodeAndFacts(benchmark::State& state) {
  if (!haveData(state)) return;
  std::vector<el::EventLog> logs;
  for (const Bytes& b : firmwareLogs()) logs.push_back(*el::parseEventLog(b));
  std::int64_t events = 0;
  for (auto _ : state) {
    for (const auto& log : logs) {
      for (const auto& ev : log.events) benchmark::DoNotOptimize(el::decodeEventData(ev));
      benchmark::DoNotOptimize(el::bootFacts(log));
      events += static_cast<std::int64_t>(log.events.size());
    }
  }
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FirmwareDecodeAndFacts);

// Whole list each time: parse every line, check every template hash, replay sha1+sha256.
void BM_ImaFull(benchmark::State& state) {
  if (!haveData(state)) return;
  std::string text = imaLogTimes(static_cast<int>(state.range(0)));
  std::int64_t entries = 0;
  for (auto _ : state) {
    auto log = ima::parseImaLog(text);
    benchmark::DoNotOptimize(log);
    entries += static_cast<std::int64_t>(log->entries.size());
  }
  state.counters["entries_per_s"] = benchmark::Counter(static_cast<double>(entries), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ImaFull)->Arg(1)->Arg(10);

// A verifier holding ImaState after `range(0)` copies of the list receives `range(1)`
// new entries: full re-replay of everything vs feeding only the new lines.
std::pair<std::string, std::size_t> appendScenario(int copies, int appended) {
  std::string base = imaLogTimes(copies);
  std::string extra;
  std::size_t pos = 0;
  for (int i = 0; i < appended; ++i) {
    std::size_t nl = imaLog().find('\n', pos);
    extra += imaLog().substr(pos, nl + 1 - pos);
    pos = nl + 1;
  }
  return {base + extra, base.size()};
}

void BM_ImaAppendFullReplay(benchmark::State& state) {
  if (!haveData(state)) return;
  auto [text, base] = appendScenario(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  std::int64_t fresh = 0;
  for (auto _ : state) {
    auto log = ima::parseImaLog(text);
    benchmark::DoNotOptimize(log);
    fresh += state.range(1);
  }
  state.counters["new_entries_per_s"] = benchmark::Counter(static_cast<double>(fresh), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ImaAppendFullReplay)->Args({1, 10})->Args({10, 10})->Args({10, 100});

void BM_ImaAppendIncremental(benchmark::State& state) {
  if (!haveData(state)) return;
  auto [text, base] = appendScenario(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  ima::ImaReplayer warm({HashAlg::kSha1, HashAlg::kSha256});
  (void)warm.feed(std::string_view(text).substr(0, base));
  const ima::ImaState saved = warm.state();
  std::string_view appended = std::string_view(text).substr(base);
  std::int64_t fresh = 0;
  for (auto _ : state) {
    ima::ImaReplayer r(saved);  // restore the persisted state, as a verifier would
    auto got = r.feed(appended);
    benchmark::DoNotOptimize(got);
    fresh += state.range(1);
  }
  state.counters["new_entries_per_s"] = benchmark::Counter(static_cast<double>(fresh), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ImaAppendIncremental)->Args({1, 10})->Args({10, 10})->Args({10, 100});

}  // namespace
