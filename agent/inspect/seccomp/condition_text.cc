#include "agent/inspect/seccomp/condition_text.h"

#include <linux/filter.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

constexpr std::uint32_t kAllOnes = 0xffffffffu;

// An expression of the shape (word & mask) over one half of a 64-bit field;
// mask is all-ones for the plain word.
struct WordRef {
  std::uint32_t field_offset = 0;  // 8 (ip) or 16 + 8 * i (args[i])
  bool high = false;
  std::uint32_t mask = kAllOnes;
};

std::optional<WordRef> classify(const SymExpr& expr, const FieldNaming& naming) {
  const SymExpr* e = &expr;
  WordRef w;
  if (e->kind == SymExpr::Kind::kAlu && e->op == BPF_AND && e->rhs.isConstant() &&
      !e->lhs.isConstant()) {
    w.mask = e->rhs.constant;
    e = e->lhs.expr.get();
  }
  if (e->kind != SymExpr::Kind::kField) return std::nullopt;
  w.field_offset = e->offset & ~7u;
  const bool low_offset = e->offset % 8 == 0;
  w.high = naming.big_endian ? low_offset : !low_offset;
  return w;
}

std::string fieldName(std::uint32_t field_offset) {
  return field_offset < 16 ? std::string("ip") : strCat("args[", (field_offset - 16) / 8, "]");
}

std::string bareText(const SymExpr& e) {
  const std::string& t = e.text;
  return t.size() >= 2 && t.front() == '(' && t.back() == ')' ? t.substr(1, t.size() - 2) : t;
}

// The few values a narrow domain leaves, if it leaves few.
std::optional<std::vector<std::uint32_t>> enumerate(const Domain& d) {
  if (std::uint64_t{d.hi} - d.lo + 1 > 16) return std::nullopt;
  std::vector<std::uint32_t> vals;
  for (std::uint64_t v = d.lo; v <= d.hi; ++v) {
    const auto u = static_cast<std::uint32_t>(v);
    if ((u & d.must_be_zero) == 0 && std::find(d.ne.begin(), d.ne.end(), u) == d.ne.end()) {
      vals.push_back(u);
    }
  }
  if (vals.empty() || vals.size() > 4) return std::nullopt;
  return vals;
}

// "name == v", "name in {a, b}", or bounds and exclusions. `bounded` tells
// whether the atoms cap the value below 2^32 - 1.
std::vector<std::string> atoms(const std::string& name, const Domain& d, const Domain& initial,
                               bool* bounded = nullptr) {
  if (bounded != nullptr) *bounded = true;
  if (d.eq) return {strCat(name, " == ", numStr(*d.eq))};
  if (auto vals = enumerate(d)) {
    if (vals->size() == 1) return {strCat(name, " == ", numStr(vals->front()))};
    std::string set;
    for (std::uint32_t v : *vals) set += (set.empty() ? "" : ", ") + numStr(v);
    return {strCat(name, " in {", set, "}")};
  }
  std::vector<std::string> out;
  if (d.lo > initial.lo) out.push_back(strCat(name, " >= ", numStr(d.lo)));
  if (d.hi < initial.hi) out.push_back(strCat(name, " <= ", numStr(d.hi)));
  std::set<std::uint32_t> ne(d.ne.begin(), d.ne.end());
  for (std::uint32_t v : ne) {
    if (v >= d.lo && v <= d.hi) out.push_back(strCat(name, " != ", numStr(v)));
  }
  if (bounded != nullptr) *bounded = d.hi < kAllOnes;
  return out;
}

bool excludes(const Domain& d, std::uint32_t v) {
  return std::find(d.ne.begin(), d.ne.end(), v) != d.ne.end();
}

// The lowest value the domain admits once excluded values are skipped.
std::uint32_t effectiveLow(const Domain& d) {
  std::uint32_t lo = d.lo;
  while (lo < d.hi && excludes(d, lo)) ++lo;
  return lo;
}

// A domain that admits a single value, stated as an equality.
Domain normalized(Domain d) {
  if (d.eq) return d;
  std::uint32_t hi = d.hi;
  const std::uint32_t lo = effectiveLow(d);
  while (hi > lo && excludes(d, hi)) --hi;
  if (lo == hi && (lo & d.must_be_zero) == 0) d.eq = lo;
  return d;
}

struct FieldGroup {
  std::optional<Domain> plain_hi;
  std::optional<Domain> plain_lo;
  std::vector<const PathConstraints::Entry*> masked_hi;
  std::vector<const PathConstraints::Entry*> masked_lo;
};

bool onlyEqNe(const Domain& d) {
  const Domain init = Domain{0, d.hi, std::nullopt, {}, d.must_be_zero};
  return d.lo == 0 && (d.eq || d.ne.size() == 1) && d.hi == init.hi;
}

// Whole-argument rendering of what a path knows about a 64-bit field, when
// exact. libseccomp tests the high word first, so "hi32 == 0" usually
// accompanies every test of the low word.
std::optional<std::vector<std::string>> fold(std::uint32_t field, const FieldGroup& g) {
  const std::string name = fieldName(field);
  const std::uint32_t lo_mask = g.masked_lo.size() == 1 ? g.masked_lo[0]->expr->rhs.constant : 0;
  const Domain* mlo = g.masked_lo.size() == 1 ? &g.masked_lo[0]->domain : nullptr;
  if (g.plain_hi && g.plain_lo && g.plain_hi->eq && g.plain_lo->eq && g.masked_hi.empty() &&
      g.masked_lo.empty()) {
    return std::vector{
        strCat(name, " == ", numStr((std::uint64_t{*g.plain_hi->eq} << 32) | *g.plain_lo->eq))};
  }
  if (!g.plain_hi && !g.plain_lo && g.masked_hi.size() == 1 && mlo && g.masked_hi[0]->domain.eq &&
      mlo->eq) {
    const std::uint64_t mask = (std::uint64_t{g.masked_hi[0]->expr->rhs.constant} << 32) | lo_mask;
    const std::uint64_t value = (std::uint64_t{*g.masked_hi[0]->domain.eq} << 32) | *mlo->eq;
    return std::vector{strCat(name, " & ", numStr(mask), " == ", numStr(value))};
  }
  if (!g.masked_hi.empty() || g.masked_lo.size() > 1 || (mlo && !onlyEqNe(*mlo))) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool bounded = false;
  if (g.plain_hi) {
    const Domain& h = *g.plain_hi;
    const std::uint32_t low = effectiveLow(h);
    const bool no_holes = std::none_of(h.ne.begin(), h.ne.end(),
                                       [&](std::uint32_t v) { return v > low && v <= h.hi; });
    if (h.eq && *h.eq == 0) {
      bounded = false;
    } else if (!h.eq && low > 0 && h.hi == kAllOnes && no_holes && !g.plain_lo) {
      // hi32(x) >= k  <=>  x >= k << 32
      out.push_back(low == 1 ? strCat(name, " > 0xffffffff")
                             : strCat(name, " >= ", numStr(std::uint64_t{low} << 32)));
      bounded = true;
    } else {
      return std::nullopt;
    }
  } else if (g.plain_lo) {
    return std::nullopt;  // a low-word test alone says nothing about the whole value
  } else {
    bounded = true;
  }
  if (g.plain_lo) {
    for (auto& a : atoms(name, *g.plain_lo, Domain{}, &bounded)) out.push_back(std::move(a));
  }
  if (mlo) {
    out.push_back(strCat(name, " & ", numStr(lo_mask),
                         mlo->eq ? " == " : " != ", numStr(mlo->eq ? *mlo->eq : mlo->ne.front())));
  }
  if (!bounded) out.push_back(strCat(name, " <= 0xffffffff"));
  return out;
}

}  // namespace

std::string renderConjunction(const std::vector<Constraint>& path, const FieldNaming& naming) {
  PathConstraints pc;
  std::vector<const Constraint*> opaque;
  for (const Constraint& c : path) {
    if (c.rhs_expr)
      opaque.push_back(&c);
    else
      pc.add(c);
  }
  // Group 64-bit field words; everything else renders on its own.
  std::map<std::uint32_t, FieldGroup> groups;
  std::vector<std::uint32_t> order;
  std::vector<std::string> parts;
  std::vector<const PathConstraints::Entry*> loose;
  for (const auto& e : pc.entries()) {
    auto w = naming.args_are_32bit ? std::nullopt : classify(*e.expr, naming);
    if (!w) {
      loose.push_back(&e);
      continue;
    }
    auto [it, inserted] = groups.try_emplace(w->field_offset);
    if (inserted) order.push_back(w->field_offset);
    FieldGroup& g = it->second;
    if (w->mask == kAllOnes)
      (w->high ? g.plain_hi : g.plain_lo) = normalized(e.domain);
    else
      (w->high ? g.masked_hi : g.masked_lo).push_back(&e);
  }
  for (std::uint32_t f : order) {
    const FieldGroup& g = groups[f];
    if (auto folded = fold(f, g)) {
      for (auto& a : *folded) parts.push_back(std::move(a));
      continue;
    }
    for (const auto& e : pc.entries()) {
      auto w = classify(*e.expr, naming);
      if (w && w->field_offset == f) loose.push_back(&e);
    }
  }
  for (const auto* e : loose) {
    for (auto& a : atoms(bareText(*e->expr), normalized(e->domain), Domain::of(*e->expr))) {
      parts.push_back(std::move(a));
    }
  }
  for (const Constraint* c : opaque) parts.push_back(c->text());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " && ") + p;
  return out;
}

std::string renderDisjunction(const std::vector<std::string>& conjunctions) {
  if (conjunctions.size() == 1) return conjunctions.front();
  std::string out;
  for (const std::string& c : conjunctions) {
    if (!out.empty()) out += " || ";
    const bool wrap = c.find(" && ") != std::string::npos;
    out += wrap ? "(" + c + ")" : c;
  }
  return out;
}

}  // namespace bulwark::agent
