// Measurement engine numbers (issue 3 "Numbers"):
//   BM_ColdHash      a fresh digest cache over a generated tree (every file read)
//   BM_Sha256sumP2   `find -print0 | xargs -0 -P2 sha256sum` over the same tree
//   BM_WarmHash      the same files again with nothing changed (one stat each)
//   BM_FirstCycle    a whole engine cycle over the new tree (fresh engine, fresh log):
//                    TPM extends counted (must be 1 however many files)
//   BM_IdleCycle     a whole engine cycle with nothing changed: TPM extends counted
//   BM_ChangeToTrigger  file write → debounced change callback (debounce 0 ms)
// Tree size: BULWARK_BENCH_FILES (default 2000) files of BULWARK_BENCH_FILE_KIB
// (default 52) KiB, so the default is a quick smoke pass and
//   BULWARK_BENCH_FILES=20000 build-release/bench/measure_bench
// is the issue's ~20k files / ~1 GiB tree. The tree is generated once per run in
// a temp dir and removed at exit; page cache is warm for both hashers alike.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "agent/measure/change_watcher.h"
#include "agent/measure/file_digest_cache.h"
#include "agent/measure/measurement_engine.h"
#include "agent/measure/path_expander.h"

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;

std::size_t envSize(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Tree {
  std::string dir;
  std::vector<std::string> files;
  std::uint64_t bytes = 0;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "bulwark-bench-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data()) ? tmpl : "";
    std::size_t n = envSize("BULWARK_BENCH_FILES", 2000);
    std::size_t kib = envSize("BULWARK_BENCH_FILE_KIB", 52);
    std::string block(kib * 1024, '\0');
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j + 8 <= block.size(); j += 8) {  // xorshift: incompressible
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        std::memcpy(block.data() + j, &x, 8);
      }
      std::string sub = dir + "/d" + std::to_string(i / 500);
      fs::create_directories(sub);
      files.push_back(sub + "/f" + std::to_string(i));
      std::ofstream(files.back(), std::ios::binary) << block;
      bytes += block.size();
    }
    std::sort(files.begin(), files.end());
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Tree& tree() {
  static Tree t;
  return t;
}

void BM_ColdHash(benchmark::State& state) {
  Tree& t = tree();
  for (auto _ : state) {
    FileDigestCache cache(2);
    auto r = cache.digestFiles(t.files);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.bytes));
  state.counters["files"] = static_cast<double>(t.files.size());
}
BENCHMARK(BM_ColdHash)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Sha256sumP2(benchmark::State& state) {
  Tree& t = tree();
  std::string cmd = "find " + t.dir + " -type f -print0 | xargs -0 -P2 sha256sum > /dev/null";
  for (auto _ : state) {
    if (std::system(cmd.c_str()) != 0) state.SkipWithError("sha256sum failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.bytes));
}
BENCHMARK(BM_Sha256sumP2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_WarmHash(benchmark::State& state) {
  Tree& t = tree();
  FileDigestCache cache(2);
  (void)cache.digestFiles(t.files);
  ::usleep(150'000);  // past the racy window of freshly written files
  (void)cache.digestFiles(t.files);
  (void)cache.takeStats();
  for (auto _ : state) {
    auto r = cache.digestFiles(t.files);
    benchmark::DoNotOptimize(r);
  }
  auto stats = cache.takeStats();
  state.counters["rehashed_per_cycle"] =
      static_cast<double>(stats.hashed) / static_cast<double>(state.iterations());
  state.counters["files"] = static_cast<double>(t.files.size());
}
BENCHMARK(BM_WarmHash)->Unit(benchmark::kMillisecond)->UseRealTime();

class CountingPcr final : public attest::PcrExtender {
 public:
  Result<void> extend(std::uint32_t, const std::vector<std::pair<HashAlg, Bytes>>&) override {
    ++extends;
    return {};
  }
  int extends = 0;
};

// A fresh engine (empty cache, no log) over the tree: the first cycle an agent
// runs on a host. The log and state dir are recreated per iteration.
Result<std::unique_ptr<MeasurementEngine>> engineOver(const Tree& t, const std::string& state_dir,
                                                      CountingPcr& pcr) {
  std::error_code ec;
  fs::remove_all(state_dir, ec);
  fs::create_directories(state_dir);
  std::ofstream(state_dir + "/boot_id") << "0f3c7b1e-1111-2222-3333-444455556666\n";
  MeasureOptions o;
  o.host = false;
  o.runtime_binaries.clear();
  o.include = {t.dir};
  o.log_path = state_dir + "/measure.log";
  o.boot_id_path = state_dir + "/boot_id";
  o.hash_threads = 2;
  MeasureDeps deps;
  deps.extender = &pcr;
  return MeasurementEngine::create(o, deps);
}

void BM_FirstCycle(benchmark::State& state) {
  Tree& t = tree();
  std::string state_dir = t.dir + "-first";
  CountingPcr pcr;
  std::size_t records = 0, parts = 0, logged = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto engine = engineOver(t, state_dir, pcr);
    state.ResumeTiming();
    if (!engine) {
      state.SkipWithError(engine.error().toString().c_str());
      break;
    }
    auto r = (*engine)->runCycle();
    if (!r) {
      state.SkipWithError(r.error().toString().c_str());
      break;
    }
    records = r->records, parts = r->parts, logged = r->logged.size();
  }
  state.counters["extends_per_first_cycle"] =
      static_cast<double>(pcr.extends) / static_cast<double>(state.iterations());
  state.counters["batch_parts"] = static_cast<double>(parts);
  state.counters["batch_records"] = static_cast<double>(records);
  state.counters["entries"] = static_cast<double>(logged);
  std::error_code ec;
  fs::remove_all(state_dir, ec);
}
BENCHMARK(BM_FirstCycle)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_IdleCycle(benchmark::State& state) {
  Tree& t = tree();
  std::string state_dir = t.dir + "-state";
  CountingPcr pcr;
  auto engine = engineOver(t, state_dir, pcr);
  if (!engine) {
    state.SkipWithError(engine.error().toString().c_str());
    return;
  }
  auto first = (*engine)->runCycle();
  if (!first) {
    state.SkipWithError(first.error().toString().c_str());
    return;
  }
  int first_extends = pcr.extends;
  ::usleep(150'000);
  (void)(*engine)->runCycle();
  int before = pcr.extends;
  for (auto _ : state) {
    auto r = (*engine)->runCycle();
    benchmark::DoNotOptimize(r);
  }
  state.counters["extends_per_idle_cycle"] =
      static_cast<double>(pcr.extends - before) / static_cast<double>(state.iterations());
  state.counters["extends_first_cycle"] = first_extends;
  std::error_code ec;
  fs::remove_all(state_dir, ec);
}
BENCHMARK(BM_IdleCycle)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ChangeToTrigger(benchmark::State& state) {
  std::string dir = tree().dir;
  std::mutex mu;
  std::condition_variable cv;
  int fired = 0;
  auto w = ChangeWatcher::start(std::chrono::milliseconds(0), [&](std::string_view) {
    std::lock_guard lock(mu);
    ++fired;
    cv.notify_all();
  });
  if (!w) {
    state.SkipWithError(w.error().toString().c_str());
    return;
  }
  std::string file = dir + "/trigger.conf";
  std::ofstream(file) << "0";
  (void)(*w)->setPaths({file}, {});
  int i = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    int want;
    {
      std::lock_guard lock(mu);
      want = fired + 1;
    }
    std::ofstream(file, std::ios::trunc) << ++i;
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return fired >= want; });
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    lock.unlock();
    ::usleep(2000);  // let the rest of the burst (close_write after modify) drain
    std::lock_guard l2(mu);
    fired = std::max(fired, want);
  }
}
BENCHMARK(BM_ChangeToTrigger)->Unit(benchmark::kMicrosecond)->UseManualTime();

}  // namespace
}  // namespace bulwark::agent
