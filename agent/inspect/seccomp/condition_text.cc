#include "agent/inspect/seccomp/condition_text.h"

#include <linux/filter.h>

#include <map>
#include <optional>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

// A constraint of the shape (word & mask) REL value on one half of a 64-bit
// field; mask is all-ones for a plain comparison.
struct WordTest {
  std::uint32_t field_offset = 0;  // 8 (ip) or 16 + 8 * i (args[i])
  bool high = false;
  std::uint32_t mask = 0xffffffffu;
  Rel rel = Rel::kEq;
  std::uint32_t value = 0;
};

std::optional<WordTest> classify(const Constraint& c, const FieldNaming& naming) {
  if (c.rhs_expr) return std::nullopt;
  const SymExpr* e = c.lhs.get();
  WordTest t;
  if (e->kind == SymExpr::Kind::kAlu && e->op == BPF_AND && e->rhs.isConstant() &&
      !e->lhs.isConstant()) {
    t.mask = e->rhs.constant;
    e = e->lhs.expr.get();
  }
  if (e->kind != SymExpr::Kind::kField) return std::nullopt;
  t.field_offset = e->offset & ~7u;
  const bool low_offset = e->offset % 8 == 0;
  t.high = naming.big_endian ? low_offset : !low_offset;
  t.rel = c.rel;
  t.value = c.rhs;
  return t;
}

std::string fieldName(std::uint32_t field_offset) {
  return field_offset < 16 ? std::string("ip") : strCat("args[", (field_offset - 16) / 8, "]");
}

std::string hex64(std::uint64_t v) { return numStr(v); }

// The whole-field rendering of the tests on one field, if exact.
std::optional<std::string> fold(const std::vector<WordTest>& tests) {
  const std::string name = fieldName(tests.front().field_offset);
  if (tests.size() == 1) {
    const WordTest& t = tests.front();
    // A mask with no high bits tests only the low word: exact on the full value.
    if (!t.high && t.mask != 0xffffffffu && (t.rel == Rel::kEq || t.rel == Rel::kNe)) {
      return strCat(name, " & ", hex64(t.mask), " ", t.rel == Rel::kEq ? "==" : "!=", " ",
                    hex64(t.value));
    }
    return std::nullopt;
  }
  if (tests.size() == 2 && tests[0].rel == Rel::kEq && tests[1].rel == Rel::kEq &&
      tests[0].high != tests[1].high) {
    const WordTest& hi = tests[0].high ? tests[0] : tests[1];
    const WordTest& lo = tests[0].high ? tests[1] : tests[0];
    const std::uint64_t mask = (std::uint64_t{hi.mask} << 32) | lo.mask;
    const std::uint64_t value = (std::uint64_t{hi.value} << 32) | lo.value;
    if (mask == ~std::uint64_t{0}) return strCat(name, " == ", hex64(value));
    return strCat(name, " & ", hex64(mask), " == ", hex64(value));
  }
  return std::nullopt;
}

}  // namespace

std::string renderConjunction(const std::vector<Constraint>& path, const FieldNaming& naming) {
  // Group word tests by field; only 64-bit ABIs split fields into two words.
  std::map<std::uint32_t, std::vector<WordTest>> by_field;
  std::vector<std::optional<WordTest>> kinds;
  for (const Constraint& c : path) {
    kinds.push_back(naming.args_are_32bit ? std::nullopt : classify(c, naming));
    if (kinds.back()) by_field[kinds.back()->field_offset].push_back(*kinds.back());
  }
  std::string out;
  std::map<std::uint32_t, bool> emitted;
  for (std::size_t i = 0; i < path.size(); ++i) {
    std::string part;
    if (kinds[i]) {
      const std::uint32_t f = kinds[i]->field_offset;
      if (auto folded = fold(by_field[f])) {
        if (emitted[f]) continue;
        emitted[f] = true;
        part = *folded;
      }
    }
    if (part.empty()) part = path[i].text();
    if (!out.empty()) out += " && ";
    out += part;
  }
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
