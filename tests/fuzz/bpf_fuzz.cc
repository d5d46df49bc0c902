// Fuzz target: raw bytes -> struct sock_filter program -> kernel validation ->
// concrete and symbolic evaluation. Besides "no crash, no over-read", it checks
// the explorer's soundness: every concrete input must satisfy exactly one
// explored path whose action equals the concrete result.
#include <linux/audit.h>
#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "agent/inspect/seccomp/bpf_interpreter.h"
#include "agent/inspect/seccomp/bpf_program.h"
#include "agent/inspect/seccomp/path_explorer.h"

namespace {

using bulwark::agent::BpfProgram;
using bulwark::agent::Exploration;
using bulwark::agent::ExploreLimits;
using bulwark::agent::FieldNaming;
using bulwark::agent::SeccompData;

constexpr std::uint64_t kValues[] = {0, 1, 8, 39, 0x7e020000, 0xffffffff, 0x100000000ull, ~0ull};

// Numbers the filter compares nr with, plus a few fixed ones.
std::set<std::uint32_t> interestingNumbers(const BpfProgram& p) {
  std::set<std::uint32_t> out = {0, 59, 246};
  for (const auto& in : p.instructions()) {
    if (BPF_CLASS(in.code) == BPF_JMP && BPF_SRC(in.code) == BPF_K && out.size() < 10) {
      out.insert(in.k);
    }
  }
  return out;
}

void checkSound(std::span<const BpfProgram> chain, std::uint32_t arch, std::uint32_t nr) {
  const ExploreLimits limits{64, 1u << 14};
  const Exploration ex = bulwark::agent::exploreChain(chain, arch, nr, FieldNaming{}, limits);
  if (!ex.complete) return;  // partial results make no exactly-one promise
  for (std::uint64_t v : kValues) {
    SeccompData d{nr, arch, v, {v, ~v, v, v ^ 1, v, v}};
    const auto concrete = bulwark::agent::runFilterChain(chain, d);
    int holding = 0;
    for (const auto& path : ex.paths) {
      bool all = true;
      for (const auto& c : path.constraints)
        all = all && c.holds(d, bulwark::agent::kHostBigEndian);
      if (!all) continue;
      ++holding;
      if (path.action && path.action->raw() != concrete.raw()) __builtin_trap();
    }
    if (holding != 1) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto program = BpfProgram::fromBytes(bulwark::ByteView(data, size));
  if (!program) {
    if (program.error().message().empty()) __builtin_trap();  // errors must say why
    return 0;
  }
  // Round trip: what we accepted re-serialises to the same bytes.
  if (program->toBytes() != bulwark::Bytes(data, data + size)) __builtin_trap();
  const std::vector<BpfProgram> chain = {*program, *program};
  for (std::uint32_t arch : {std::uint32_t{AUDIT_ARCH_X86_64}, std::uint32_t{AUDIT_ARCH_I386}}) {
    for (std::uint32_t nr : interestingNumbers(*program)) {
      checkSound(std::span<const BpfProgram>(chain.data(), 1), arch, nr);
      checkSound(chain, arch, nr);
    }
  }
  return 0;
}
