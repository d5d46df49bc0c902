// Fuzz target: TCG PC Client firmware event log → parse, replay, typed decoding,
// boot facts, JSON rendering and a full appraisal against the log's own replay.
// Seeds: real logs from tests/testdata/eventlogs (legacy, crypto-agile, StartupLocality 3,
// sha256-only, SP 800-155). Any input must give a value or an Error, never a crash.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "attest/eventlog/boot_facts.h"
#include "attest/eventlog/boot_policy.h"
#include "attest/eventlog/event_data.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_log_json.h"
#include "attest/eventlog/replay.h"

namespace el = bulwark::attest::eventlog;

namespace {
const el::CompiledBootPolicy& policy() {
  static const el::CompiledBootPolicy kPolicy = [] {
    el::BootPolicy p;
    p.cmdline_rules = {{el::CmdlineRule::Kind::kForbidRegex, "init=/bin/(ba)?sh"},
                       {el::CmdlineRule::Kind::kRequireSubstring, "ro"}};
    p.forbidden_digests = {std::string(64, 'a')};
    p.allowed_boot_applications = std::set<std::string>{};
    return std::move(*el::compileBootPolicy(p));
  }();
  return kPolicy;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bulwark::ByteView input(data, size);
  auto log = el::parseEventLog(input);
  if (!log) return 0;
  for (const auto& ev : log->events) {
    auto decoded = el::decodeEventData(ev);
    if (decoded) (void)el::describe(*decoded);
  }
  (void)el::eventLogToJson(*log).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  (void)el::bootFacts(*log);
  auto rep = el::replay(*log);
  if (!rep) return 0;
  // Appraise against exactly what the log replays to, so the policy code runs too.
  el::BootAppraisal a = el::appraiseBootLog(input, rep->banks, policy());
  (void)el::bootAppraisalToJson(a);
  return 0;
}
