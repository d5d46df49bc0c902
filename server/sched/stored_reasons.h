// Turns the stored reasons of a verdict (server/appraisal/verdict.cc reasonsToJson:
// [{kind, code, claim, detail, container?, control?, severity?}]) into what a scheduler
// shows a person: one phrase, e.g.
// "runtime binary /usr/bin/runc not in reference values (+2 more)".
#pragma once

#include <string>
#include <string_view>

#include "server/store/store_types.h"

namespace bulwark::server::sched {

struct StoredReasons {
  std::string sentence;  // for a stored-untrusted node; "" when nothing failed
  int findings = 0;      // informational isolation findings (kind "finding")
};

// Never fails: malformed stored JSON yields a generic sentence naming the status.
StoredReasons summarizeReasons(std::string_view reasons_json, AppraisalStatus status);

// Longest detail quoted in a sentence; longer ones end in "...".
inline constexpr std::size_t kMaxDetail = 160;

}  // namespace bulwark::server::sched
