#include "agent/inspect/seccomp/symbolic.h"

#include <linux/filter.h>

#include <algorithm>
#include <set>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

std::string number(std::uint32_t v) { return numStr(v); }

std::string valueText(const SymValue& v) {
  return v.isConstant() ? number(v.constant) : v.expr->text;
}

const char* opSymbol(std::uint16_t op) {
  switch (op) {
    case BPF_ADD:
      return "+";
    case BPF_SUB:
      return "-";
    case BPF_MUL:
      return "*";
    case BPF_DIV:
      return "/";
    case BPF_MOD:
      return "%";
    case BPF_AND:
      return "&";
    case BPF_OR:
      return "|";
    case BPF_XOR:
      return "^";
    case BPF_LSH:
      return "<<";
    case BPF_RSH:
      return ">>";
    default:
      return "?";
  }
}

const char* relSymbol(Rel r) {
  switch (r) {
    case Rel::kEq:
      return "==";
    case Rel::kNe:
      return "!=";
    case Rel::kGt:
      return ">";
    case Rel::kGe:
      return ">=";
    case Rel::kLt:
      return "<";
    case Rel::kLe:
      return "<=";
  }
  return "?";
}

std::uint32_t aluConst(std::uint16_t op, std::uint32_t a, std::uint32_t b) {
  switch (op) {
    case BPF_ADD:
      return a + b;
    case BPF_SUB:
      return a - b;
    case BPF_MUL:
      return a * b;
    case BPF_DIV:
      return b == 0 ? 0 : a / b;  // callers fork on zero divisors first
    case BPF_MOD:
      return b == 0 ? 0 : a % b;
    case BPF_AND:
      return a & b;
    case BPF_OR:
      return a | b;
    case BPF_XOR:
      return a ^ b;
    case BPF_LSH:
      return a << (b & 31u);
    case BPF_RSH:
      return a >> (b & 31u);
    case BPF_NEG:
      return 0u - a;
    default:
      return a;
  }
}

bool relHolds(Rel r, std::uint32_t a, std::uint32_t b) {
  switch (r) {
    case Rel::kEq:
      return a == b;
    case Rel::kNe:
      return a != b;
    case Rel::kGt:
      return a > b;
    case Rel::kGe:
      return a >= b;
    case Rel::kLt:
      return a < b;
    case Rel::kLe:
      return a <= b;
  }
  return false;
}

std::string stripParens(const std::string& s) {
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    int depth = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
      if (depth == 0 && i + 1 < s.size()) return s;  // "(a) & (b)": outer pair is not one group
    }
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// Identity simplifications keep expression keys canonical, so a reload and
// re-mask of the same word meets the same domain.
std::optional<SymValue> simplify(std::uint16_t op, const SymValue& l, const SymValue& r) {
  if (!r.isConstant() || l.isConstant()) return std::nullopt;
  const std::uint32_t k = r.constant;
  if (k == 0 && (op == BPF_AND || op == BPF_MUL)) return SymValue::of(0);
  if (k == 0 && (op == BPF_ADD || op == BPF_SUB || op == BPF_OR || op == BPF_XOR || op == BPF_LSH ||
                 op == BPF_RSH)) {
    return l;
  }
  if (k == 0xffffffffu && op == BPF_AND) return l;
  if (k == 1 && (op == BPF_MUL || op == BPF_DIV)) return l;
  if (op == BPF_AND && l.expr->kind == SymExpr::Kind::kAlu && l.expr->op == BPF_AND &&
      l.expr->rhs.isConstant()) {
    return symAlu(BPF_AND, l.expr->lhs, SymValue::of(l.expr->rhs.constant & k));
  }
  return std::nullopt;
}

}  // namespace

std::uint32_t SymExpr::evaluate(const SeccompData& data, bool big_endian) const {
  if (kind == Kind::kField) return seccompDataWord(data, offset, big_endian);
  auto val = [&](const SymValue& v) {
    return v.isConstant() ? v.constant : v.expr->evaluate(data, big_endian);
  };
  return aluConst(op, val(lhs), op == BPF_NEG ? 0 : val(rhs));
}

SymValue symField(std::uint32_t offset, const FieldNaming& naming) {
  auto e = std::make_shared<SymExpr>();
  e->kind = SymExpr::Kind::kField;
  e->offset = offset;
  const bool low_offset = offset % 8 == 0;
  const bool low_half = naming.big_endian ? !low_offset : low_offset;
  const std::string field =
      offset < 16 ? std::string("ip") : strCat("args[", (offset - 16) / 8, "]");
  if (low_half) {
    e->text = naming.args_are_32bit ? field : strCat("lo32(", field, ")");
  } else {
    e->text = strCat("hi32(", field, ")");
  }
  return SymValue{0, std::move(e)};
}

SymValue symAlu(std::uint16_t op, const SymValue& lhs, const SymValue& rhs) {
  if (op == BPF_NEG) {
    if (lhs.isConstant()) return SymValue::of(0u - lhs.constant);
  } else if (lhs.isConstant() && rhs.isConstant()) {
    return SymValue::of(aluConst(op, lhs.constant, rhs.constant));
  } else if (auto s = simplify(op, lhs, rhs)) {
    return *s;
  }
  auto e = std::make_shared<SymExpr>();
  e->kind = SymExpr::Kind::kAlu;
  e->op = op;
  e->lhs = lhs;
  e->rhs = op == BPF_NEG ? SymValue::of(0) : rhs;
  e->text = op == BPF_NEG
                ? strCat("-", valueText(lhs))
                : strCat("(", valueText(lhs), " ", opSymbol(op), " ", valueText(rhs), ")");
  return SymValue{0, std::move(e)};
}

bool Constraint::holds(const SeccompData& data, bool big_endian) const {
  const std::uint32_t b = rhs_expr ? rhs_expr->evaluate(data, big_endian) : rhs;
  return relHolds(rel, lhs->evaluate(data, big_endian), b);
}

std::string Constraint::text() const {
  return strCat(stripParens(lhs->text), " ", relSymbol(rel), " ",
                rhs_expr ? stripParens(rhs_expr->text) : number(rhs));
}

Constraint negate(const Constraint& c) {
  Constraint n = c;
  switch (c.rel) {
    case Rel::kEq:
      n.rel = Rel::kNe;
      break;
    case Rel::kNe:
      n.rel = Rel::kEq;
      break;
    case Rel::kGt:
      n.rel = Rel::kLe;
      break;
    case Rel::kGe:
      n.rel = Rel::kLt;
      break;
    case Rel::kLt:
      n.rel = Rel::kGe;
      break;
    case Rel::kLe:
      n.rel = Rel::kGt;
      break;
  }
  return n;
}

Domain Domain::of(const SymExpr& e) {
  Domain d;
  if (e.kind == SymExpr::Kind::kAlu && e.rhs.isConstant()) {
    if (e.op == BPF_AND) {
      d.hi = e.rhs.constant;
      d.must_be_zero = ~e.rhs.constant;
    } else if (e.op == BPF_RSH) {
      d.hi = 0xffffffffu >> (e.rhs.constant & 31u);
    }
  }
  return d;
}

bool Domain::apply(Rel rel, std::uint32_t v) {
  switch (rel) {
    case Rel::kEq:
      if (eq && *eq != v) return false;
      eq = v;
      break;
    case Rel::kNe:
      if (std::find(ne.begin(), ne.end(), v) == ne.end()) ne.push_back(v);
      break;
    case Rel::kGt:
      if (v == 0xffffffffu) return false;
      lo = std::max(lo, v + 1);
      break;
    case Rel::kGe:
      lo = std::max(lo, v);
      break;
    case Rel::kLt:
      if (v == 0) return false;
      hi = std::min(hi, v - 1);
      break;
    case Rel::kLe:
      hi = std::min(hi, v);
      break;
  }
  return feasible();
}

bool Domain::feasible() const {
  if (lo > hi) return false;
  if (eq) {
    const std::uint32_t v = *eq;
    return v >= lo && v <= hi && (v & must_be_zero) == 0 &&
           std::find(ne.begin(), ne.end(), v) == ne.end();
  }
  const std::uint64_t width = std::uint64_t{hi} - lo + 1;
  if (width > ne.size()) return true;
  std::set<std::uint32_t> excluded;
  for (std::uint32_t v : ne) {
    if (v >= lo && v <= hi) excluded.insert(v);
  }
  return excluded.size() < width;
}

const Domain* PathConstraints::find(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].domain;
}

bool PathConstraints::feasibleWith(const Constraint& c) const {
  if (c.rhs_expr) return true;
  const Domain* known = find(c.lhs->text);
  Domain d = known != nullptr ? *known : Domain::of(*c.lhs);
  return d.apply(c.rel, c.rhs);
}

bool PathConstraints::add(const Constraint& c) {
  if (c.rhs_expr) {
    list_.push_back(c);
    return true;
  }
  if (!feasibleWith(c)) return false;
  if (!feasibleWith(negate(c))) return true;  // already implied
  auto [it, inserted] = index_.try_emplace(c.lhs->text, entries_.size());
  if (inserted) entries_.push_back(Entry{c.lhs, Domain::of(*c.lhs)});
  entries_[it->second].domain.apply(c.rel, c.rhs);
  list_.push_back(c);
  return true;
}

std::optional<std::uint32_t> PathConstraints::pinned(const SymExpr& expr) const {
  const Domain* known = find(expr.text);
  const Domain d = known != nullptr ? *known : Domain::of(expr);
  if (d.eq) return d.eq;
  if (d.lo == d.hi) return d.lo;
  return std::nullopt;
}

bool PathConstraints::holds(const SeccompData& data, bool big_endian) const {
  return std::all_of(list_.begin(), list_.end(),
                     [&](const Constraint& c) { return c.holds(data, big_endian); });
}

}  // namespace bulwark::agent
