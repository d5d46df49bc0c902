// Symbolic values for path exploration of seccomp filters. nr and arch are
// concrete during exploration; instruction_pointer and args[] are symbols, so
// every comparison on them forks the path and leaves a constraint behind.
// Constraints on the same expression are tracked as an interval plus
// (in)equalities, enough to prune the infeasible paths libseccomp's 64-bit
// comparisons create (e.g. "hi32 != 0" followed by "hi32 == 0").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/bpf_interpreter.h"

namespace bulwark::agent {

struct SymExpr;

// A 32-bit BPF register value: a constant or an expression over seccomp_data.
struct SymValue {
  std::uint32_t constant = 0;
  std::shared_ptr<const SymExpr> expr;  // null: the value is `constant`

  bool isConstant() const { return expr == nullptr; }
  static SymValue of(std::uint32_t v) { return SymValue{v, nullptr}; }
};

struct SymExpr {
  enum class Kind { kField, kAlu };
  Kind kind = Kind::kField;
  std::uint32_t offset = 0;  // kField: byte offset in seccomp_data (8..60)
  std::uint16_t op = 0;      // kAlu: BPF_ADD ... BPF_NEG (linux/filter.h)
  SymValue lhs;              // kAlu
  SymValue rhs;              // kAlu (unused for BPF_NEG)
  std::string text;          // rendering; also the identity of the expression

  // Value under concrete data (for cross-checking against runFilter()).
  std::uint32_t evaluate(const SeccompData& data, bool big_endian) const;
};

// How words of seccomp_data are named in conditions.
struct FieldNaming {
  bool big_endian = kHostBigEndian;
  // 32-bit ABIs (i386, arm, ...): the kernel zero-extends, so the high words
  // are 0 and the low word *is* the argument.
  bool args_are_32bit = false;
};

SymValue symField(std::uint32_t offset, const FieldNaming& naming);
SymValue symAlu(std::uint16_t op, const SymValue& lhs, const SymValue& rhs);

// A relation between a symbolic expression and a constant (or, rarely, a
// second expression; such constraints are kept but never used for pruning).
enum class Rel { kEq, kNe, kGt, kGe, kLt, kLe };

struct Constraint {
  std::shared_ptr<const SymExpr> lhs;
  Rel rel = Rel::kEq;
  std::uint32_t rhs = 0;
  std::shared_ptr<const SymExpr> rhs_expr;  // non-null: compare with this instead

  bool holds(const SeccompData& data, bool big_endian) const;
  std::string text() const;
};

Constraint negate(const Constraint& c);

// What one path knows about one expression: an interval, an exact value or
// excluded values, and bits an AND-mask forces to zero.
struct Domain {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0xffffffffu;
  std::optional<std::uint32_t> eq;
  std::vector<std::uint32_t> ne;
  std::uint32_t must_be_zero = 0;

  // The domain an expression has before any constraint (an AND with k is <= k).
  static Domain of(const SymExpr& e);
  bool feasible() const;
  // Narrows by "value REL v"; false when nothing is left.
  bool apply(Rel rel, std::uint32_t v);
};

// The conjunction of constraints along one path.
class PathConstraints {
 public:
  struct Entry {
    std::shared_ptr<const SymExpr> expr;
    Domain domain;
  };

  // Adds `c`. Returns false when the path becomes infeasible (the caller drops
  // it). A constraint already implied by the others is not recorded.
  bool add(const Constraint& c);
  // True when `c` can hold together with the recorded constraints.
  bool feasibleWith(const Constraint& c) const;
  // If the recorded constraints pin `expr` to one value, that value.
  std::optional<std::uint32_t> pinned(const SymExpr& expr) const;

  // Recorded constraints, in order.
  const std::vector<Constraint>& constraints() const { return list_; }
  // Per-expression knowledge, in the order expressions were first constrained
  // (constraints between two expressions are not summarised here).
  const std::vector<Entry>& entries() const { return entries_; }
  bool holds(const SeccompData& data, bool big_endian) const;

 private:
  const Domain* find(const std::string& key) const;

  std::map<std::string, std::size_t> index_;
  std::vector<Entry> entries_;
  std::vector<Constraint> list_;
};

}  // namespace bulwark::agent
