// Container isolation inspection cost (issue 4 "Numbers"): N real runc containers
// (tests/support/runc.h: busybox-static rootfs, Docker's default seccomp profile
// compiled for this kernel, own namespaces, uid 1000, limits), one Inspector reused
// across runs as the agent does. Reported per container:
//   per_container_median_us  whole inspection of one container (median over all)
//   stopped_median_us        time the process is held in ptrace stop (median)
//   stopped_max_us           worst ptrace hold
// N = BULWARK_BENCH_CONTAINERS (default 10, the ctest smoke run);
//   BULWARK_BENCH_CONTAINERS=100 build-release/bench/inspect_bench
// is the 100-container case. Needs root and runc (scripts/deps.sh).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "agent/inspect/inspector.h"
#include "agent/inspect/runtime_state.h"
#include "tests/support/runc.h"

namespace bulwark::agent {
namespace {

std::string sourceDir() {
  const char* d = std::getenv("BULWARK_SOURCE_DIR");
  return d != nullptr ? d : ".";
}

std::size_t containerCount() {
  const char* v = std::getenv("BULWARK_BENCH_CONTAINERS");
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : 10;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void BM_InspectRuncContainers(benchmark::State& state) {
  auto harness = testing::RuncHarness::create();
  if (!harness) {
    return state.SkipWithError(("runc harness: " + harness.error().toString()).c_str());
  }
  auto seccomp =
      testing::dockerSeccompProfile(sourceDir() + "/tests/testdata/seccomp/docker-default.json");
  if (!seccomp) {
    return state.SkipWithError(seccomp.error().toString().c_str());
  }
  testing::RuncSpec spec;
  spec.seccomp = *seccomp;
  const std::size_t n = containerCount();
  for (std::size_t i = 0; i < n; ++i) {
    auto c = (*harness)->run("bench-" + std::to_string(i), spec);
    if (!c) {
      return state.SkipWithError(c.error().toString().c_str());
    }
  }
  auto config = loadInspectorConfig(sourceDir() + "/profiles", "baseline");
  if (!config) {
    return state.SkipWithError(config.error().toString().c_str());
  }
  PtraceSeccompDumper dumper;
  Inspector inspector(std::move(*config), dumper);
  StateDirRuntime runtime((*harness)->stateRoot(), "runc");
  (void)inspector.run({&runtime}, {});  // warm: syscall table, the one chain evaluation
  std::vector<double> per_container, stopped;
  std::size_t inspected = 0;
  for (auto _ : state) {
    const InspectionRun run = inspector.run({&runtime}, {});
    for (const ContainerResult& r : run.containers) {
      if (r.status != InspectionStatus::kInspected) continue;
      ++inspected;
      per_container.push_back(static_cast<double>(r.duration.count()));
      stopped.push_back(static_cast<double>(r.stopped.count()));
    }
  }
  if (inspected != n * static_cast<std::size_t>(state.iterations())) {
    state.SkipWithError("not every container was inspected");
  }
  state.counters["containers"] = static_cast<double>(n);
  state.counters["per_container_median_us"] = median(per_container);
  state.counters["stopped_median_us"] = median(stopped);
  state.counters["stopped_max_us"] =
      stopped.empty() ? 0 : *std::max_element(stopped.begin(), stopped.end());
}
BENCHMARK(BM_InspectRuncContainers)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace
}  // namespace bulwark::agent
