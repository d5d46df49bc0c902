#include "server/sched/extender.h"

#include <map>

#include "server/sched/extender_fast.h"
#include "server/sched/json_keys.h"

namespace bulwark::server::sched {

namespace {
using nlohmann::json;

Result<void> readNames(const json& list, ExtenderArgs& out) {
  if (!list.is_array()) return fail(ErrorCode::kMalformed, "\"NodeNames\" must be an array");
  out.names.reserve(list.size());
  for (const json& n : list) {
    if (!n.is_string()) return fail(ErrorCode::kMalformed, "\"NodeNames\" must hold strings");
    out.names.push_back(n.get<std::string>());
  }
  return {};
}

// v1.NodeList {"metadata": {...}, "items": [v1.Node]}; every node needs metadata.name.
Result<void> readItems(json& list, ExtenderArgs& out) {
  if (!list.is_object()) return fail(ErrorCode::kMalformed, "\"Nodes\" must be a NodeList object");
  auto items = findKey(list, "items");
  if (!items) return std::unexpected(items.error());
  if (*items == nullptr || (*items)->is_null()) {
    out.items = json::array();
    return {};
  }
  if (!(*items)->is_array()) return fail(ErrorCode::kMalformed, "\"Nodes.items\" must be an array");
  out.items = std::move(**items);
  out.names.reserve(out.items.size());
  for (std::size_t i = 0; i < out.items.size(); ++i) {
    const json& node = out.items[i];
    std::string where = "Nodes.items[" + std::to_string(i) + "]";
    if (!node.is_object()) return fail(ErrorCode::kMalformed, where + " must be a Node object");
    auto meta = findKey(node, "metadata");
    if (!meta) return std::unexpected(meta.error());
    if (*meta == nullptr || !(*meta)->is_object()) {
      return fail(ErrorCode::kMalformed, where + " has no metadata");
    }
    auto name = stringMember(**meta, "name");
    if (!name) return std::unexpected(name.error());
    if (name->empty()) return fail(ErrorCode::kMalformed, where + " has no metadata.name");
    out.names.emplace_back(*name);
  }
  return {};
}

bool present(const json* v) { return v != nullptr && !v->is_null(); }
}  // namespace

Result<ExtenderArgs> parseExtenderArgs(std::string_view body) {
  {
    ExtenderArgs fast;
    if (parseNamesFast(body, fast.names)) {
      fast.names_mode = true;
      return fast;
    }
  }
  return parseExtenderArgsDom(body);
}

Result<ExtenderArgs> parseExtenderArgsDom(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return fail(ErrorCode::kMalformed, "body is not JSON");
  if (!doc.is_object()) return fail(ErrorCode::kMalformed, "ExtenderArgs must be a JSON object");
  auto pod = findKey(doc, "Pod");
  auto nodes = findKey(doc, "Nodes");
  auto names = findKey(doc, "NodeNames");
  for (const auto* r : {&pod, &nodes, &names}) {
    if (!*r) return std::unexpected(r->error());
  }
  if (present(*pod) && !(*pod)->is_object()) {
    return fail(ErrorCode::kMalformed, "\"Pod\" must be a Pod object");
  }
  if (present(*nodes) == present(*names)) {
    return fail(ErrorCode::kMalformed,
                "exactly one of \"Nodes\" and \"NodeNames\" must be set (nodeCacheCapable)");
  }
  ExtenderArgs out;
  out.names_mode = present(*names);
  auto read = out.names_mode ? readNames(**names, out) : readItems(**nodes, out);
  if (!read) return std::unexpected(read.error());
  return out;
}

std::string filterResult(ExtenderArgs& args, const VerdictSnapshot* snapshot, Millis now) {
  // Refusals by name (a name asked twice is listed once); passed nodes in request order.
  std::map<std::string_view, std::string> failed;
  std::string passed_names;
  json passed_items = json::array();
  passed_names.reserve(args.names.size() * 16);
  for (std::size_t i = 0; i < args.names.size(); ++i) {
    const std::string& name = args.names[i];
    const NodeVerdict* v = snapshot != nullptr ? snapshot->find(name) : nullptr;
    Decision d = snapshot != nullptr ? decide(v, now) : Decision{Trust::kUnavailable, {}};
    if (!d.trusted()) {
      failed.try_emplace(name, reasonText(v, d, now));
    } else if (args.names_mode) {
      if (!passed_names.empty()) passed_names += ',';
      appendJsonString(passed_names, name);
    } else {
      passed_items.push_back(std::move(args.items[i]));
    }
  }
  std::string refusals = "{";
  for (const auto& [name, reason] : failed) {
    if (refusals.size() > 1) refusals += ',';
    appendJsonString(refusals, name);
    refusals += ':';
    appendJsonString(refusals, reason);
  }
  refusals += '}';
  std::string out;
  out.reserve(passed_names.size() + 2 * refusals.size() + 128);
  if (args.names_mode) {
    out += R"({"Nodes":null,"NodeNames":[)" + passed_names + "],";
  } else {
    json list = {{"metadata", json::object()}, {"items", std::move(passed_items)}};
    out += R"({"Nodes":)" + list.dump(-1, ' ', false, json::error_handler_t::replace) +
           R"(,"NodeNames":null,)";
  }
  out += R"("FailedNodes":)" + refusals + R"(,"FailedAndUnresolvableNodes":)" + refusals +
         R"(,"Error":""})";
  return out;
}

std::string prioritizeResult(const ExtenderArgs& args, const VerdictSnapshot* snapshot,
                             Millis now) {
  std::string out = "[";
  out.reserve(args.names.size() * 32);
  for (const std::string& name : args.names) {
    const NodeVerdict* v = snapshot != nullptr ? snapshot->find(name) : nullptr;
    Decision d = snapshot != nullptr ? decide(v, now) : Decision{Trust::kUnavailable, {}};
    if (out.size() > 1) out += ',';
    out += R"({"Host":)";
    appendJsonString(out, name);
    out += R"(,"Score":)" + std::to_string(trustScore(v, d, now)) + "}";
  }
  out += ']';
  return out;
}

std::string filterError(std::string_view message) {
  json out = {{"Nodes", nullptr},
              {"NodeNames", nullptr},
              {"FailedNodes", json::object()},
              {"FailedAndUnresolvableNodes", json::object()},
              {"Error", std::string(message)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bulwark::server::sched
