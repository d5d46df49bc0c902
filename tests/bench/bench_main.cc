// main() of every tests/bench/ binary. Google Benchmark's own main exits 0 even when
// a benchmark called SkipWithError (setup failed, a result did not verify), so the
// ctest smoke run could never fail; this one reports as usual and exits 1 then.
#include <benchmark/benchmark.h>

#include <cstdio>

namespace {

class FailOnErrorReporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) {
        failed_ = true;
        std::fprintf(stderr, "benchmark %s failed: %s\n", r.benchmark_name().c_str(),
                     r.error_message.c_str());
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  bool failed() const { return failed_; }

 private:
  bool failed_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  FailOnErrorReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return reporter.failed() ? 1 : 0;
}
