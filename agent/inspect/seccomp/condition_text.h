// Human-readable argument conditions. libseccomp compares a 64-bit argument as
// two 32-bit words (high word first); this folds such pairs back into one
// condition on the whole argument where that is exact, e.g.
//   hi32(args[0]) == 0 && lo32(args[0]) == 8   ->  args[0] == 8
//   lo32(args[0]) & 0x7e020000 == 0            ->  args[0] & 0x7e020000 == 0
#pragma once

#include <string>
#include <vector>

#include "agent/inspect/seccomp/symbolic.h"

namespace bulwark::agent {

// One path's conjunction joined with " && "; "" for an empty path.
std::string renderConjunction(const std::vector<Constraint>& path, const FieldNaming& naming);

// Several paths' conjunctions joined with " || " (parenthesised when needed).
std::string renderDisjunction(const std::vector<std::string>& conjunctions);

}  // namespace bulwark::agent
