// Corpus-replay and bounded mutation driver for LLVMFuzzerTestOneInput targets,
// so fuzz targets build and run under g++ (whose libstdc++ <expected> clang 14
// cannot compile) and under the ASan/UBSan preset in CI.
//
// usage: <target> [--mutations N] [--seed S] FILE_OR_DIR...
// Every seed runs as-is, then N mutants per seed (bit flips, byte overwrites,
// truncations, splices of interesting values). Deterministic for a given seed.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
std::vector<std::uint8_t> slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run(const std::vector<std::uint8_t>& input) {
  // Copy into an exactly-sized heap buffer so ASan sees reads past the end.
  auto* buf = static_cast<std::uint8_t*>(std::malloc(input.size() ? input.size() : 1));
  if (!input.empty()) std::memcpy(buf, input.data(), input.size());
  LLVMFuzzerTestOneInput(buf, input.size());
  std::free(buf);
}

std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> in, std::mt19937_64& rng) {
  static constexpr std::uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe};
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 5) {
      case 0:
        if (!in.empty()) in[pick(in.size())] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        if (!in.empty()) in[pick(in.size())] = kInteresting[pick(sizeof kInteresting)];
        break;
      case 2:
        in.resize(pick(in.size() + 1));
        break;
      case 3: {  // duplicate a chunk (grows lengths / repeats records)
        if (in.empty()) break;
        std::size_t a = pick(in.size()), len = 1 + pick(std::min<std::size_t>(64, in.size() - a));
        std::vector<std::uint8_t> chunk(in.begin() + a, in.begin() + a + len);
        in.insert(in.begin() + pick(in.size() + 1), chunk.begin(), chunk.end());
        break;
      }
      default:  // big-endian length-ish words
        if (in.size() >= 2) {
          std::size_t a = pick(in.size() - 1);
          in[a] = 0xff;
          in[a + 1] = static_cast<std::uint8_t>(rng());
        }
    }
  }
  return in;
}
}  // namespace

int main(int argc, char** argv) {
  long mutations = 200;
  std::uint64_t seed = 1;
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (auto& e : std::filesystem::recursive_directory_iterator(a)) {
        if (e.is_regular_file()) inputs.push_back(e.path());
      }
    } else {
      inputs.emplace_back(a);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz driver: no seed inputs given\n");
    return 2;
  }
  std::mt19937_64 rng(seed);
  long runs = 0;
  run({});
  for (const auto& p : inputs) {
    auto data = slurp(p);
    run(data);
    ++runs;
    for (long m = 0; m < mutations; ++m, ++runs) run(mutate(data, rng));
  }
  std::printf("fuzz driver: %zu seeds, %ld executions, no crash\n", inputs.size(), runs);
  return 0;
}
