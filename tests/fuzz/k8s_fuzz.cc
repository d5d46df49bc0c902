// Fuzzes the relying-party parsers of server/sched with the same bytes as an
// ExtenderArgs body and as an AdmissionReview body, and checks the security
// invariants on whatever parses: only trusted nodes pass the filter, untrusted nodes
// score 0, a placement on an untrusted node is never allowed, every answer is JSON.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/sched/admission.h"
#include "server/sched/extender.h"
#include "server/sched/extender_fast.h"
#include "server/sched/json_keys.h"

namespace {
using namespace bulwark::server;
using nlohmann::json;

constexpr Millis kNow = 1'000'000;

// "worker-1" trusted; "worker-2" stale; "worker-3" untrusted; "worker-4" revoked.
const sched::VerdictSnapshot& snapshot() {
  static const auto snap = [] {
    std::vector<FleetEntry> fleet(4);
    const NodeState states[] = {NodeState::kTrusted, NodeState::kTrusted, NodeState::kUntrusted,
                                NodeState::kRevoked};
    for (int i = 0; i < 4; ++i) {
      fleet[i].node.name = "worker-" + std::to_string(i + 1);
      fleet[i].node.state = states[i];
      fleet[i].latest = AppraisalSummary{i + 1,
                                         kNow - 10'000,
                                         AppraisalStatus::kAffirming,
                                         "[]",
                                         i == 1 ? kNow - 1 : kNow + 600'000,
                                         1};
    }
    return sched::VerdictSnapshot::build(fleet, kNow);
  }();
  return *snap;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void extender(std::string_view body) {
  // The SAX fast path must agree with the DOM reference whenever it answers.
  std::vector<std::string> fast;
  if (sched::parseNamesFast(body, fast)) {
    auto dom = sched::parseExtenderArgsDom(body);
    check(dom.has_value() && dom->names_mode && dom->names == fast);
  }
  auto args = sched::parseExtenderArgs(body);
  if (!args) {
    check(json::parse(sched::filterError(args.error().message()), nullptr, false).is_object());
    return;
  }
  std::string scores = sched::prioritizeResult(*args, &snapshot(), kNow);
  json p = json::parse(scores, nullptr, false);
  check(p.is_array() && p.size() == args->names.size());
  for (const json& h : p) {
    check(h.at("Score") == 0 || h.at("Host") == "worker-1");
  }
  bool names_mode = args->names_mode;
  json r = json::parse(sched::filterResult(*args, &snapshot(), kNow), nullptr, false);
  check(r.is_object());
  const json& passed = names_mode ? r["NodeNames"] : r["Nodes"]["items"];
  check(passed.is_array());
  for (const json& n : passed) {
    if (names_mode) {
      check(n == "worker-1");
      continue;
    }
    auto meta = sched::findKey(n, "metadata");
    check(meta.has_value() && *meta != nullptr);
    auto name = sched::stringMember(**meta, "name");
    check(name.has_value() && *name == "worker-1");
  }
  for (const auto& [name, reason] : r["FailedNodes"].items()) {
    check(name != "worker-1" && reason.get<std::string>().starts_with("bulwark: "));
  }
}

void admission(std::string_view body) {
  auto review = sched::parseAdmissionReview(body);
  if (!review) return;
  sched::AdmissionDecision d = sched::admit(*review, &snapshot(), kNow);
  check(!d.allowed || !review->places_pod || review->own_mirror_pod || review->node == "worker-1");
  json r = json::parse(sched::admissionReviewResponse(*review, d), nullptr, false);
  check(r.is_object() && r["response"]["uid"] == review->uid);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  extender(body);
  admission(body);
  return 0;
}
