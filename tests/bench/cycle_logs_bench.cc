// The agent's per-cycle cost of shipping a log from the verifier's cursor
// (agent/cycle/log_cursors.h): LogCursors::ship on a log of N MiB that the verifier
// holds whole.
//
//   BM_ShipSteady/N      same file, nothing appended: the remembered prefix (4 KiB hashed)
//   BM_ShipGrown/N       same file, one 400-byte record appended since the last cursor
//   BM_ShipFirstCheck/N  no remembered prefix (first cycle after a cursor, or the file's
//                        identity unknown): the whole prefix is hashed
#include <benchmark/benchmark.h>

#include <string>

#include "agent/cycle/log_cursors.h"

namespace {

using namespace bulwark;
using namespace bulwark::agent;

const LogFileIdentity kFile{1, 2};
const std::string kRecord(399, 'r');

std::string logOf(std::int64_t mib) {
  std::string out;
  while (out.size() < static_cast<std::size_t>(mib) << 20) out += kRecord + "\n";
  return out;
}

bulwark::v1::EventLog wholeLog(std::string content) {
  bulwark::v1::EventLog log;
  log.set_format(bulwark::v1::EventLog::CEL_JSON);
  log.set_source("/var/lib/bulwark/measure.log");
  log.set_content(std::move(content));
  return log;
}

void hold(LogCursors& cursors, const std::string& held) {
  google::protobuf::RepeatedPtrField<bulwark::v1::LogCursor> field;
  bulwark::v1::LogCursor* c = field.Add();
  c->set_source("/var/lib/bulwark/measure.log");
  c->set_offset(held.size());
  Bytes digest = sha256(asBytes(held));
  c->set_prefix_sha256(std::string(digest.begin(), digest.end()));
  cursors.replace(field);
}

enum class Case { kSteady, kGrown, kFirstCheck };

void ship(benchmark::State& state, Case which) {
  const std::string held = logOf(state.range(0));
  const std::string grown = held + kRecord + "\n";
  const bulwark::v1::EventLog log = wholeLog(which == Case::kGrown ? grown : held);
  // `base`: the state before this cycle's ship().
  LogCursors base;
  hold(base, held);
  if (which != Case::kFirstCheck && !base.ship(log, kFile).incremental) {
    return state.SkipWithError("prefix not accepted");  // remembers the prefix at `held`
  }
  if (which == Case::kGrown) hold(base, grown);  // the verifier took the new record
  for (auto _ : state) {
    state.PauseTiming();
    LogCursors cursors = base;
    state.ResumeTiming();
    ShippedLog out = cursors.ship(log, kFile);
    if (!out.incremental) return state.SkipWithError("prefix not accepted");
    benchmark::DoNotOptimize(out);
  }
  state.counters["log_bytes"] = static_cast<double>(log.content().size());
}

void BM_ShipSteady(benchmark::State& state) { ship(state, Case::kSteady); }
void BM_ShipGrown(benchmark::State& state) { ship(state, Case::kGrown); }
void BM_ShipFirstCheck(benchmark::State& state) { ship(state, Case::kFirstCheck); }

BENCHMARK(BM_ShipSteady)->Unit(benchmark::kMicrosecond)->Arg(1)->Arg(16);
BENCHMARK(BM_ShipGrown)->Unit(benchmark::kMicrosecond)->Arg(1)->Arg(16);
BENCHMARK(BM_ShipFirstCheck)->Unit(benchmark::kMicrosecond)->Arg(1)->Arg(16);

}  // namespace
