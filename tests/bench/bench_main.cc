// main() of every tests/bench/ binary. Google Benchmark's own main exits 0 even when
// a benchmark called SkipWithError (setup failed, a result did not verify), so the
// ctest smoke run could never fail; this one reports as usual and exits 1 then.
// A display reporter handed to RunSpecifiedBenchmarks replaces the one
// --benchmark_format selects, so the format is honoured here (console or json;
// scripts/bench-verifier.sh reads json).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string_view>

namespace {

template <class Base>
class FailOnError final : public Base {
 public:
  using Base::Base;
  void ReportRuns(const std::vector<benchmark::BenchmarkReporter::Run>& runs) override {
    for (const auto& r : runs) {
      if (r.error_occurred) {
        failed_ = true;
        std::fprintf(stderr, "benchmark %s failed: %s\n", r.benchmark_name().c_str(),
                     r.error_message.c_str());
      }
    }
    Base::ReportRuns(runs);
  }
  bool failed() const { return failed_; }

 private:
  bool failed_ = false;
};

// The value of --benchmark_format (read before Initialize consumes it); "console" if absent.
std::string_view requestedFormat(int argc, char** argv) {
  constexpr std::string_view kFlag = "--benchmark_format=";
  std::string_view format = "console";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with(kFlag)) format = arg.substr(kFlag.size());
  }
  return format;
}

template <class Reporter>
int runAll(Reporter& reporter) {
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return reporter.failed() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view format = requestedFormat(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (format == "json") {
    FailOnError<benchmark::JSONReporter> reporter;
    return runAll(reporter);
  }
  if (format != "console") {
    std::fprintf(stderr, "--benchmark_format=%.*s: only console and json are supported\n",
                 static_cast<int>(format.size()), format.data());
    return 1;
  }
  // Colour only on a terminal (what the library's own main decides by default).
  FailOnError<benchmark::ConsoleReporter> reporter(
      ::isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
                              : benchmark::ConsoleReporter::OO_Tabular);
  return runAll(reporter);
}
