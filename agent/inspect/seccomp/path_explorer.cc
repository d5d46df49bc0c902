#include "agent/inspect/seccomp/path_explorer.h"

#include <linux/filter.h>

#include <array>
#include <utility>

namespace bulwark::agent {
namespace {

struct State {
  std::size_t filter = 0;  // position in newest-first order
  std::size_t pc = 0;
  SymValue a = SymValue::of(0);
  SymValue x = SymValue::of(0);
  std::array<SymValue, kBpfMemWords> mem{};
  PathConstraints path;
  SeccompAction combined = SeccompAction::allow();
};

class Explorer {
 public:
  Explorer(std::span<const BpfProgram> chain, std::uint32_t arch, std::uint32_t nr,
           const FieldNaming& naming, const ExploreLimits& limits)
      : chain_(chain), arch_(arch), nr_(nr), naming_(naming), limits_(limits) {}

  Exploration run() {
    if (chain_.empty()) {
      out_.paths.push_back(PathOutcome{{}, SeccompAction::allow(), {}});
      return std::move(out_);
    }
    stack_.push_back(State{});
    while (!stack_.empty() && out_.complete) {
      State s = std::move(stack_.back());
      stack_.pop_back();
      walk(std::move(s));
    }
    return std::move(out_);
  }

 private:
  const BpfProgram& filterAt(std::size_t i) const { return chain_[chain_.size() - 1 - i]; }

  bool budget() {
    if (++steps_ > limits_.max_steps || out_.paths.size() >= limits_.max_paths) {
      out_.complete = false;
      return false;
    }
    return true;
  }

  SymValue load(std::uint32_t offset, const PathConstraints& path) {
    if (offset == 0) return SymValue::of(nr_);
    if (offset == 4) return SymValue::of(arch_);
    out_.reads_arguments = true;
    SymValue v = symField(offset, naming_);
    if (auto p = path.pinned(*v.expr)) return SymValue::of(*p);
    return v;
  }

  // Pins a symbolic value the path already decides (e.g. an AND of a word
  // whose value is known), so it stays concrete.
  static SymValue settle(SymValue v, const PathConstraints& path) {
    if (!v.isConstant()) {
      if (auto p = path.pinned(*v.expr)) return SymValue::of(*p);
    }
    return v;
  }

  // Ends the current filter with `ret`; continues with the next one or records the path.
  void finishFilter(State s, SeccompAction ret) {
    s.combined = combineNewestFirst(s.combined, ret);
    if (s.filter + 1 < chain_.size()) {
      State next;
      next.filter = s.filter + 1;
      next.path = std::move(s.path);
      next.combined = s.combined;
      stack_.push_back(std::move(next));
      return;
    }
    out_.paths.push_back(PathOutcome{s.path.constraints(), s.combined, {}});
  }

  // Forks on constraint `c` (the jump is taken when it holds).
  void branch(State& s, const Constraint& c, std::size_t taken_pc, std::size_t fall_pc) {
    const bool can_take = s.path.feasibleWith(c);
    const bool can_fall = s.path.feasibleWith(negate(c));
    if (can_take && can_fall) {
      State other = s;
      other.path.add(negate(c));
      other.pc = fall_pc;
      stack_.push_back(std::move(other));
      s.path.add(c);
      s.pc = taken_pc;
    } else {
      s.pc = can_take ? taken_pc : fall_pc;  // neither: unreachable, take the fall-through
    }
  }

  void jump(State& s, const BpfInstruction& in) {
    const std::size_t taken = s.pc + 1 + in.jt;
    const std::size_t fall = s.pc + 1 + in.jf;
    const std::uint16_t op = BPF_OP(in.code);
    const SymValue l = s.a;
    const SymValue r = BPF_SRC(in.code) == BPF_X ? s.x : SymValue::of(in.k);
    if (op == BPF_JSET) {
      const SymValue m = settle(symAlu(BPF_AND, l, r), s.path);
      if (m.isConstant()) {
        s.pc = m.constant != 0 ? taken : fall;
      } else {
        branch(s, Constraint{m.expr, Rel::kNe, 0, nullptr}, taken, fall);
      }
      return;
    }
    if (l.isConstant() && r.isConstant()) {
      const bool t = op == BPF_JEQ   ? l.constant == r.constant
                     : op == BPF_JGT ? l.constant > r.constant
                                     : l.constant >= r.constant;
      s.pc = t ? taken : fall;
      return;
    }
    const Rel rel = op == BPF_JEQ ? Rel::kEq : op == BPF_JGT ? Rel::kGt : Rel::kGe;
    if (l.isConstant()) {  // k OP sym  ==  sym OP' k
      const Rel flipped = rel == Rel::kEq ? Rel::kEq : rel == Rel::kGt ? Rel::kLt : Rel::kLe;
      branch(s, Constraint{r.expr, flipped, l.constant, nullptr}, taken, fall);
    } else {
      branch(s, Constraint{l.expr, rel, r.constant, r.isConstant() ? nullptr : r.expr}, taken,
             fall);
    }
  }

  // Returns false when the filter ended (division by zero).
  bool alu(State& s, const BpfInstruction& in) {
    const std::uint16_t op = BPF_OP(in.code);
    SymValue r = BPF_SRC(in.code) == BPF_X ? s.x : SymValue::of(in.k);
    if ((op == BPF_DIV || op == BPF_MOD) && !r.isConstant()) {
      const Constraint zero{r.expr, Rel::kEq, 0, nullptr};
      if (s.path.feasibleWith(zero)) {
        State z = s;
        z.path.add(zero);
        finishFilter(std::move(z), SeccompAction(0));
      }
      if (!s.path.add(negate(zero))) return false;
    } else if ((op == BPF_DIV || op == BPF_MOD) && r.constant == 0) {
      finishFilter(std::move(s), SeccompAction(0));  // cBPF division by zero returns 0
      return false;
    }
    s.a = settle(symAlu(op, s.a, r), s.path);
    return true;
  }

  void ret(State s, const BpfInstruction& in) {
    if (BPF_RVAL(in.code) == BPF_A && !s.a.isConstant()) {
      out_.paths.push_back(PathOutcome{s.path.constraints(), std::nullopt, s.a.expr->text});
      return;
    }
    const std::uint32_t v = BPF_RVAL(in.code) == BPF_A ? s.a.constant : in.k;
    finishFilter(std::move(s), SeccompAction(v));
  }

  void walk(State s) {
    const auto insns = filterAt(s.filter).instructions();
    while (s.pc < insns.size()) {
      if (!budget()) return;
      const BpfInstruction& in = insns[s.pc];
      const std::uint16_t c = in.code;
      switch (BPF_CLASS(c)) {
        case BPF_LD:
          s.a = BPF_MODE(c) == BPF_ABS   ? load(in.k, s.path)
                : BPF_MODE(c) == BPF_LEN ? SymValue::of(kSeccompDataSize)
                : BPF_MODE(c) == BPF_MEM ? s.mem[in.k]
                                         : SymValue::of(in.k);
          break;
        case BPF_LDX:
          s.x = BPF_MODE(c) == BPF_LEN   ? SymValue::of(kSeccompDataSize)
                : BPF_MODE(c) == BPF_MEM ? s.mem[in.k]
                                         : SymValue::of(in.k);
          break;
        case BPF_ST:
          s.mem[in.k] = s.a;
          break;
        case BPF_STX:
          s.mem[in.k] = s.x;
          break;
        case BPF_ALU:
          if (!alu(s, in)) return;
          break;
        case BPF_JMP:
          if (BPF_OP(c) == BPF_JA) {
            s.pc += 1 + in.k;
          } else {
            jump(s, in);
          }
          continue;
        case BPF_RET:
          ret(std::move(s), in);
          return;
        case BPF_MISC:
          if (BPF_MISCOP(c) == BPF_TAX)
            s.x = s.a;
          else
            s.a = s.x;
          break;
        default:
          break;
      }
      ++s.pc;
    }
  }

  std::span<const BpfProgram> chain_;
  std::uint32_t arch_;
  std::uint32_t nr_;
  FieldNaming naming_;
  ExploreLimits limits_;
  std::vector<State> stack_;
  Exploration out_;
  std::size_t steps_ = 0;
};

}  // namespace

Exploration exploreChain(std::span<const BpfProgram> chain, std::uint32_t arch, std::uint32_t nr,
                         const FieldNaming& naming, const ExploreLimits& limits) {
  return Explorer(chain, arch, nr, naming, limits).run();
}

}  // namespace bulwark::agent
