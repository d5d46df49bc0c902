// kube-scheduler extender verbs (k8s.io/kube-scheduler/extender/v1, DESIGN §7): pure
// functions of the request body, a verdict snapshot and the time of the question.
//
// Wire shapes, as Go's encoding/json writes the untagged Go types (PascalCase keys; the
// v1.Pod / v1.Node objects inside are lowerCamel Kubernetes objects) and reads them
// (keys case-insensitively, see json_keys.h):
//   ExtenderArgs         {"Pod": {...}, "Nodes": {"items": [v1.Node...]} | null,
//                         "NodeNames": ["n1", ...] | null}
//   ExtenderFilterResult {"Nodes", "NodeNames", "FailedNodes": {name: reason},
//                         "FailedAndUnresolvableNodes": {name: reason}, "Error": ""}
//   HostPriorityList     [{"Host": "n1", "Score": 0..10}]
// Mode (nodeCacheCapable): NodeNames in → NodeNames out; Nodes.items in → Nodes.items
// out, the node objects passed through unchanged. Refused nodes appear in both failure
// maps: FailedAndUnresolvableNodes keeps preemption from evicting pods for a node that
// evictions cannot make trusted (kube-scheduler gives it precedence), FailedNodes
// carries the reason to schedulers older than that field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"
#include "server/sched/verdict_snapshot.h"

namespace bulwark::server::sched {

struct ExtenderArgs {
  bool names_mode = false;         // NodeNames was given (nodeCacheCapable: true)
  std::vector<std::string> names;  // candidate names, in request order (both modes)
  nlohmann::json items;            // names_mode == false: the Nodes.items array
};

// kMalformed with a sentence for: not a JSON object, ambiguous key spellings, neither or
// both of Nodes/NodeNames, wrong types, a node object without metadata.name.
// Takes extender_fast.h's SAX path for plain NodeNames requests, the DOM path otherwise.
[[nodiscard]] Result<ExtenderArgs> parseExtenderArgs(std::string_view body);
// The DOM path alone (the reference the fast path is fuzzed against).
[[nodiscard]] Result<ExtenderArgs> parseExtenderArgsDom(std::string_view body);

// ExtenderFilterResult for the args. `snapshot` nullptr: verdicts unavailable, every
// node refused. Consumes args.items (moved into the answer).
std::string filterResult(ExtenderArgs& args, const VerdictSnapshot* snapshot, Millis now);

// HostPriorityList (trustScore per candidate, request order).
std::string prioritizeResult(const ExtenderArgs& args, const VerdictSnapshot* snapshot, Millis now);

// ExtenderFilterResult carrying only Error (the answer to a malformed body).
std::string filterError(std::string_view message);

}  // namespace bulwark::server::sched
