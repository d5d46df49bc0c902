// JSON views of parsed logs, replays, boot facts and appraisals, for bulwarkctl and
// for the verifier's stored evidence. Field names are stable (docs/boot-policy.md).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "attest/eventlog/boot_facts.h"
#include "attest/eventlog/boot_policy.h"
#include "attest/eventlog/event_data.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/replay.h"

namespace bulwark::attest::eventlog {

// {"index", "offset", "pcr", "type", "digests": {"sha256": hex, "0x0012": hex}, "size",
//  "data": {decoded fields} | "decode_error": "..."}
nlohmann::ordered_json eventToJson(const Event& ev);
nlohmann::ordered_json eventDataToJson(const EventData& data);
// {"format", "spec_id": {...} | null, "events": [...], "trailing_zero_bytes"}
nlohmann::ordered_json eventLogToJson(const EventLog& log);
// {"startup_locality", "extended_pcrs": [...], "skipped_algorithms": [...],
//  "banks": {"sha256": {"0": hex, ... "23": hex}}}
nlohmann::ordered_json replayToJson(const Replay& replay);
nlohmann::ordered_json bootFactsToJson(const BootFacts& facts);
// {"affirming", "reason", "claims": [{"rule", "reason", "passed", "detail"}]}
nlohmann::ordered_json bootAppraisalToJson(const BootAppraisal& appraisal);

}  // namespace bulwark::attest::eventlog
