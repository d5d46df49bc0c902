// Relying-party and operator views of nodes (docs/api.md "Relying parties and
// operators"). "stale" is computed here, at query time (DESIGN §3 Gating).
#include <charconv>
#include <nlohmann/json.hpp>

#include "server/api/routes.h"
#include "server/api/wire.h"

namespace bulwark::server {

namespace {
using nlohmann::json;

json timeOrNull(std::optional<Millis> t) { return t ? json(rfc3339(*t)) : json(nullptr); }

// Splits stored reasons into failures, events and findings (verdict.cc reasonsToJson).
void splitReasons(const std::string& reasons_json, json& node) {
  json failures = json::array(), events = json::array(), findings = json::array();
  json all = json::parse(reasons_json, nullptr, false);
  if (all.is_array()) {
    for (const json& r : all) {
      std::string kind = r.value("kind", "failure");
      if (kind == "event") {
        events.push_back({{"code", r.value("code", "")}, {"detail", r.value("detail", "")}});
        continue;
      }
      if (r.contains("container")) {
        findings.push_back({{"container", r.value("container", "")},
                            {"control", r.value("control", r.value("code", ""))},
                            {"severity", r.value("severity", "")},
                            {"violation", kind == "failure"},
                            {"detail", r.value("detail", "")}});
      }
      if (kind == "failure") {
        failures.push_back({{"code", r.value("code", "")},
                            {"claim", r.value("claim", "")},
                            {"detail", r.value("detail", "")}});
      }
    }
  }
  node["reasons"] = std::move(failures);
  node["events"] = std::move(events);
  node["findings"] = std::move(findings);
}

json summaryJson(const std::string& name, NodeState stored, const std::string& group,
                 const std::optional<AppraisalSummary>& latest, Millis now) {
  std::optional<Millis> fresh = latest ? std::optional<Millis>(latest->fresh_until) : std::nullopt;
  json j = {{"name", name},
            {"state", effectiveStateName(effectiveState(stored, fresh, now))},
            {"group", group},
            {"fresh_until", timeOrNull(fresh)},
            {"fresh_until_unix_ms", fresh ? json(*fresh) : json(nullptr)},
            {"last_appraisal", nullptr}};
  if (latest) {
    j["last_appraisal"] = {{"id", latest->id},
                           {"appraised_at", rfc3339(latest->appraised_at)},
                           {"appraised_at_unix_ms", latest->appraised_at},
                           {"status", appraisalStatusName(latest->status)},
                           {"policy_version", latest->policy_version}};
    splitReasons(latest->reasons_json, j);
  } else {
    j["reasons"] = json::array();
    j["events"] = json::array();
    j["findings"] = json::array();
  }
  return j;
}

AppraisalSummary summaryOf(const AppraisalRecord& a) {
  return {a.id, a.appraised_at, a.status, a.reasons_json, a.fresh_until, a.policy_version};
}

json appraisalJson(const AppraisalRecord& a) {
  json j = {{"id", a.id},
            {"appraised_at", rfc3339(a.appraised_at)},
            {"appraised_at_unix_ms", a.appraised_at},
            {"status", appraisalStatusName(a.status)},
            {"fresh_until", rfc3339(a.fresh_until)},
            {"policy_version", a.policy_version},
            {"evidence_sha256", toHex(a.evidence_digest)},
            {"trust_vector", json::parse(a.trust_vector_json, nullptr, false)}};
  splitReasons(a.reasons_json, j);
  return j;
}

// Full view of one node: the list entry plus trust vector and enrollment facts.
ApiResult<json> nodeView(Store& store, const std::string& name, Millis now) {
  auto node = store.getNode(name);
  if (!node) return std::unexpected(fromStoreError(node.error(), "node-unknown"));
  auto latest = store.latestAppraisal(name);
  if (!latest && latest.error().code() != ErrorCode::kNotFound) {
    return std::unexpected(fromStoreError(latest.error()));
  }
  std::optional<AppraisalSummary> summary;
  if (latest) summary = summaryOf(*latest);
  json j = summaryJson(node->name, node->state, node->group, summary, now);
  j["trust_vector"] =
      latest ? json::parse(latest->trust_vector_json, nullptr, false) : json::object();
  j["enrolled_at"] = rfc3339(node->enrolled_at);
  j["approved_at"] = timeOrNull(node->approved_at);
  return j;
}

HttpResponse answer(const RouteContext& ctx, const ApiResult<json>& r) {
  return r ? jsonResponse(200, *r) : errorResponse(ctx.request, r.error());
}

std::size_t historyLimit(const HttpRequest& req) {
  auto v = queryParam(req, "limit");
  std::size_t n = 100;
  if (v) {
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) n = 100;
  }
  return std::clamp<std::size_t>(n, 1, kMaxHistoryLimit);
}
}  // namespace

void addNodeHandlers(std::map<std::string, Handler>& out, const ApiServices& s) {
  out["GET /v1/nodes"] = [s](const RouteContext& ctx) {
    auto fleet = s.store->fleet();
    if (!fleet) return errorResponse(ctx.request, fromStoreError(fleet.error()));
    Millis now = s.now();
    json nodes = json::array();
    for (const FleetEntry& e : *fleet) {
      nodes.push_back(summaryJson(e.node.name, e.node.state, e.node.group, e.latest, now));
    }
    return jsonResponse(200, {{"now", rfc3339(now)}, {"nodes", std::move(nodes)}});
  };
  out["GET /v1/nodes/{name}"] = [s](const RouteContext& ctx) {
    return answer(ctx, nodeView(*s.store, ctx.params.at("name"), s.now()));
  };
  out["GET /v1/nodes/{name}/ear"] = [s](const RouteContext& ctx) {
    auto latest = s.store->latestAppraisal(ctx.params.at("name"));
    if (!latest) return errorResponse(ctx.request, fromStoreError(latest.error(), "no-appraisal"));
    return HttpResponse::text(200, latest->ear, "application/jwt");
  };
  out["GET /v1/nodes/{name}/history"] = [s](const RouteContext& ctx) {
    const std::string& name = ctx.params.at("name");
    HistoryQuery q;
    q.limit = historyLimit(ctx.request);
    auto h = s.store->appraisalHistory(name, q);
    if (!h) return errorResponse(ctx.request, fromStoreError(h.error(), "node-unknown"));
    json list = json::array();
    for (const AppraisalRecord& a : *h) list.push_back(appraisalJson(a));
    return jsonResponse(200, {{"node", name}, {"appraisals", std::move(list)}});
  };
  // Enrolling node: approve the enrollment. Enrolled node: re-approve, i.e. accept its
  // latest evidence's superseded measurements for this node (docs/api.md) and re-appraise.
  out["POST /v1/nodes/{name}/approve"] = [s](const RouteContext& ctx) {
    const std::string& name = ctx.params.at("name");
    if (!isNodeName(name))
      return errorResponse(ctx.request, {400, "node-name-invalid", "bad node name"});
    auto r = s.store->approveNode(name, s.now());
    if (r) return answer(ctx, nodeView(*s.store, name, s.now()));
    if (r.error().code() != ErrorCode::kInvalidArgument)
      return errorResponse(ctx.request, fromStoreError(r.error(), "node-unknown"));
    auto re = s.appraiser->reapprove(name, ctx.principal ? ctx.principal->name : "unknown");
    if (!re) return errorResponse(ctx.request, re.error());
    auto view = nodeView(*s.store, name, s.now());
    if (view) {
      json acked = json::array();
      for (const MeasurementDigest& m : re->acknowledged) {
        acked.push_back({{"kind", m.kind}, {"subject", m.subject}, {"sha256", toHex(m.sha256)}});
      }
      (*view)["acknowledged"] = std::move(acked);
      (*view)["reappraised"] = re->reappraised;
    }
    return answer(ctx, view);
  };
  out["POST /v1/nodes/{name}/revoke"] = [s](const RouteContext& ctx) {
    const std::string& name = ctx.params.at("name");
    if (auto r = s.store->revokeNode(name, s.now()); !r) {
      return errorResponse(ctx.request, fromStoreError(r.error(), "node-unknown"));
    }
    return answer(ctx, nodeView(*s.store, name, s.now()));
  };
  // Node group = isolation profile (docs/verifier.md); the node's latest evidence is
  // re-appraised under the new profile right away (freshness deadline kept).
  out["PUT /v1/nodes/{name}/group"] = [s](const RouteContext& ctx) {
    const std::string& name = ctx.params.at("name");
    auto body = parseJsonBody(ctx.request);
    if (!body) return errorResponse(ctx.request, body.error());
    if (!body->is_object() || !(*body)["group"].is_string()) {
      return errorResponse(ctx.request, {400, "malformed-request", "give {\"group\": NAME}"});
    }
    std::string group = (*body)["group"];
    // A typo must not silently put a node under the default profile.
    if (!group.empty() && group != "default" && !s.appraiser->options().profiles.contains(group)) {
      return errorResponse(ctx.request, {400, "group-unknown",
                                         "no isolation_profiles." + group.substr(0, 64) +
                                             " in the verifier configuration"});
    }
    if (auto r = s.store->setNodeGroup(name, group, s.now()); !r) {
      ApiError e = fromStoreError(r.error(), "node-unknown");
      if (r.error().code() == ErrorCode::kInvalidArgument) e.code = "invalid-group";
      return errorResponse(ctx.request, e);
    }
    auto re = s.appraiser->reappraise(name);
    if (!re && re.error().status == 503) return errorResponse(ctx.request, re.error());
    auto view = nodeView(*s.store, name, s.now());
    if (view) (*view)["reappraised"] = re && *re;
    return answer(ctx, view);
  };
  out["DELETE /v1/nodes/{name}"] = [s](const RouteContext& ctx) {
    const std::string& name = ctx.params.at("name");
    if (auto r = s.store->deleteNode(name); !r) {
      return errorResponse(ctx.request, fromStoreError(r.error(), "node-unknown"));
    }
    return jsonResponse(200, {{"deleted", name}});
  };
}

}  // namespace bulwark::server
