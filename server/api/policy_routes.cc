// Policy administration (docs/api.md "Policy"): reference values learned from a node
// (pending → approved), added by hand or from packages, revoked; image rules. Every
// change that bumps the policy version re-appraises the latest stored evidence of
// every node whose verdict is still fresh, without a restart.
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "server/api/routes.h"
#include "server/api/wire.h"
#include "server/appraisal/evidence.h"
#include "server/appraisal/package.h"

namespace bulwark::server {

namespace {
using nlohmann::json;

std::string actorOf(const RouteContext& ctx) {
  return ctx.principal ? ctx.principal->name : "unknown";
}

ApiResult<std::int64_t> reappraiseFleet(const ApiServices& s) {
  auto fleet = s.store->fleet();
  if (!fleet) return std::unexpected(fromStoreError(fleet.error()));
  std::int64_t n = 0;
  for (const FleetEntry& e : *fleet) {
    if (!e.latest) continue;
    auto r = s.appraiser->reappraise(e.node.name);
    if (!r && r.error().status == 503) return std::unexpected(r.error());
    if (r && *r) ++n;
  }
  return n;
}

HttpResponse changed(const RouteContext& ctx, const ApiServices& s,
                     const Result<PolicyChange>& change, json extra = json::object()) {
  if (!change) {
    ApiError e = fromStoreError(change.error());
    if (e.status == 400) e.code = "invalid-policy";
    return errorResponse(ctx.request, e);
  }
  extra["changed"] = change->changed;
  extra["version"] = change->version;
  std::int64_t reappraised = 0;
  if (change->changed > 0) {
    auto r = reappraiseFleet(s);
    if (!r) return errorResponse(ctx.request, r.error());
    reappraised = *r;
  }
  extra["reappraised"] = reappraised;
  return jsonResponse(200, extra);
}

// Codes of failures that mean the evidence itself was not verified; learning from
// such evidence would approve whatever an impostor reported.
bool evidenceVerified(const AppraisalRecord& a) {
  json reasons = json::parse(a.reasons_json, nullptr, false);
  if (!reasons.is_array()) return false;
  for (const json& r : reasons) {
    if (r.value("kind", "failure") != "failure") continue;
    std::string code = r.value("code", "");
    for (std::string_view p :
         {"quote-", "pcr-", "tpm-", "log-", "measurement-not-in-log", "measurement-pcr"}) {
      if (code.starts_with(p)) return false;
    }
  }
  return true;
}

HttpResponse learn(const RouteContext& ctx, const ApiServices& s) {
  const std::string& node = ctx.params.at("name");
  if (!isNodeName(node))
    return errorResponse(ctx.request, {400, "node-name-invalid", "bad node name"});
  auto latest = s.store->latestAppraisal(node);
  if (!latest) return errorResponse(ctx.request, fromStoreError(latest.error(), "no-evidence"));
  auto stored = s.store->latestEvidence(node);
  if (!stored) return errorResponse(ctx.request, fromStoreError(stored.error(), "no-evidence"));
  if (stored->digest != latest->evidence_digest || !evidenceVerified(*latest)) {
    return errorResponse(ctx.request,
                         {409, "evidence-not-verified",
                          "the node's latest evidence did not pass the quote and log checks"});
  }
  auto ev = parseEvidence(stored->bytes);
  if (!ev)
    return errorResponse(ctx.request, {500, "internal-error", "stored evidence does not parse"});
  // Evidence that shipped its log incrementally is learned with the verifier's copy.
  if (ev->incremental()) {
    if (s.appraiser == nullptr)
      return errorResponse(ctx.request, {503, "unavailable", "no appraiser configured"});
    if (auto whole = s.appraiser->expandStored(node, *ev); !whole)
      return errorResponse(ctx.request, whole.error());
  }
  std::set<MeasurementEntry> all(ev->logged.begin(), ev->logged.end());
  all.insert(ev->measurements.begin(), ev->measurements.end());
  std::vector<ReferenceValue> values;
  Millis now = s.now();
  for (const MeasurementEntry& m : all) {
    if (!isReferenceKind(m.kind)) continue;
    ReferenceValue v;
    v.kind = m.kind;
    v.subject = m.subject;
    v.sha256 = m.sha256;
    v.source = "learned:" + node;
    v.state = ReferenceState::kPending;
    v.created_at = now;
    values.push_back(std::move(v));
  }
  return changed(ctx, s, s.store->addReferenceValues(values, now), {{"learned", values.size()}});
}

HttpResponse approve(const RouteContext& ctx, const ApiServices& s) {
  auto body = parseJsonBody(ctx.request);
  if (!body) return errorResponse(ctx.request, body.error());
  ReferenceFilter f;
  f.state = ReferenceState::kPending;
  if (body->contains("node") && (*body)["node"].is_string()) {
    f.source = "learned:" + (*body)["node"].get<std::string>();
  } else if (!(body->value("all", false) == true)) {
    return errorResponse(ctx.request,
                         {400, "malformed-request", "give {\"node\": NAME} or {\"all\": true}"});
  }
  return changed(ctx, s, s.store->approveReferenceValues(f, actorOf(ctx), s.now()));
}

HttpResponse addValues(const RouteContext& ctx, const ApiServices& s) {
  auto body = parseJsonBody(ctx.request);
  if (!body) return errorResponse(ctx.request, body.error());
  const json& list = (*body)["values"];
  if (!list.is_array() || list.empty()) {
    return errorResponse(
        ctx.request, {400, "malformed-request", "give {\"values\": [{kind, subject, sha256}]}"});
  }
  std::vector<ReferenceValue> values;
  Millis now = s.now();
  for (const json& j : list) {
    if (!j.is_object() || !j["kind"].is_string() || !j["subject"].is_string() ||
        !j["sha256"].is_string()) {
      return errorResponse(ctx.request,
                           {400, "malformed-request", "each value needs kind, subject, sha256"});
    }
    auto sha = fromHex(j["sha256"].get<std::string>());
    if (!sha || sha->size() != 32)
      return errorResponse(ctx.request, {400, "malformed-request", "sha256 must be 64 hex"});
    ReferenceValue v;
    v.kind = j["kind"];
    v.subject = j["subject"];
    v.sha256 = *sha;
    v.source = j.value("source", std::string("manual"));
    v.state = ReferenceState::kApproved;
    v.created_at = now;
    v.approved_by = actorOf(ctx);
    v.approved_at = now;
    values.push_back(std::move(v));
  }
  return changed(ctx, s, s.store->addReferenceValues(values, now));
}

HttpResponse revoke(const RouteContext& ctx, const ApiServices& s) {
  auto body = parseJsonBody(ctx.request);
  if (!body) return errorResponse(ctx.request, body.error());
  ReferenceFilter f;
  if (body->contains("ids")) {
    if (!(*body)["ids"].is_array())
      return errorResponse(ctx.request, {400, "malformed-request", "ids: list of integers"});
    for (const json& id : (*body)["ids"]) {
      if (!id.is_number_integer())
        return errorResponse(ctx.request, {400, "malformed-request", "ids: integers"});
      f.ids.push_back(id.get<std::int64_t>());
    }
  }
  if (body->contains("package") || body->contains("version")) {
    // One imported package version: its source tag (server/appraisal/package.h).
    const json &pkg = (*body)["package"], &ver = (*body)["version"];
    const json& label = body->contains("label") ? (*body)["label"] : json("");
    if (!pkg.is_string() || !ver.is_string() || !label.is_string() ||
        !isPackageName(pkg.get<std::string>()) || !isPackageVersion(ver.get<std::string>())) {
      return errorResponse(ctx.request, {400, "malformed-request",
                                         "package and version: package name and version strings"});
    }
    std::string l = label.get<std::string>();
    f.source = packageSource(pkg.get<std::string>(), ver.get<std::string>()) +
               (l.empty() ? "" : "@" + l);
    if (body->contains("source"))
      return errorResponse(ctx.request,
                           {400, "malformed-request", "give package/version or source, not both"});
  }
  for (const char* key : {"kind", "subject", "source"}) {
    if (!body->contains(key)) continue;
    if (!(*body)[key].is_string())
      return errorResponse(ctx.request, {400, "malformed-request", std::string(key) + ": string"});
    std::string v = (*body)[key];
    (std::string_view(key) == "kind"      ? f.kind
     : std::string_view(key) == "subject" ? f.subject
                                          : f.source) = v;
  }
  return changed(ctx, s, s.store->revokeReferenceValues(f));
}

std::optional<std::int64_t> idParam(const RouteContext& ctx) {
  const std::string& text = ctx.params.at("id");
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

HttpResponse addImageRule(const RouteContext& ctx, const ApiServices& s) {
  auto body = parseJsonBody(ctx.request);
  if (!body) return errorResponse(ctx.request, body.error());
  auto kind = imageRuleKindFromName(body->value("kind", std::string()));
  if (!kind || !(*body)["value"].is_string()) {
    return errorResponse(
        ctx.request, {400, "malformed-request",
                      "give {\"kind\": allow_digest|allow_prefix|deny_digest, \"value\": ...}"});
  }
  ImageRule rule{0, *kind, (*body)["value"].get<std::string>(), s.now(), actorOf(ctx)};
  auto added = s.store->addImageRule(rule);
  if (!added) return changed(ctx, s, std::unexpected(added.error()));
  auto version = s.store->policyVersion();
  if (!version) return errorResponse(ctx.request, fromStoreError(version.error()));
  return changed(ctx, s, PolicyChange{1, *version}, {{"id", added->id}});
}

json policyJson(const std::vector<ReferenceValue>& values, const std::vector<ImageRule>& rules,
                std::int64_t version) {
  json v = json::array(), r = json::array();
  for (const ReferenceValue& x : values) {
    v.push_back({{"id", x.id},
                 {"kind", x.kind},
                 {"subject", x.subject},
                 {"sha256", toHex(x.sha256)},
                 {"source", x.source},
                 {"state", referenceStateName(x.state)},
                 {"approved_by", x.approved_by},
                 {"created_at", rfc3339(x.created_at)}});
  }
  for (const ImageRule& x : rules) {
    r.push_back({{"id", x.id},
                 {"kind", imageRuleKindName(x.kind)},
                 {"value", x.value},
                 {"created_by", x.created_by},
                 {"created_at", rfc3339(x.created_at)}});
  }
  return {{"version", version}, {"reference_values", std::move(v)}, {"image_rules", std::move(r)}};
}
}  // namespace

void addPolicyHandlers(std::map<std::string, Handler>& out, const ApiServices& s) {
  out["GET /v1/policy"] = [s](const RouteContext& ctx) {
    auto version = s.store->policyVersion();
    auto values = s.store->listReferenceValues({});
    auto rules = s.store->listImageRules();
    for (const Error* e : {version ? nullptr : &version.error(), values ? nullptr : &values.error(),
                           rules ? nullptr : &rules.error()}) {
      if (e != nullptr) return errorResponse(ctx.request, fromStoreError(*e));
    }
    return jsonResponse(200, policyJson(*values, *rules, *version));
  };
  out["POST /v1/policy/learn/{name}"] = [s](const RouteContext& ctx) { return learn(ctx, s); };
  out["POST /v1/policy/approve"] = [s](const RouteContext& ctx) { return approve(ctx, s); };
  out["POST /v1/policy/reference-values"] = [s](const RouteContext& ctx) {
    return addValues(ctx, s);
  };
  out["POST /v1/policy/revoke"] = [s](const RouteContext& ctx) { return revoke(ctx, s); };
  out["DELETE /v1/policy/reference-values/{id}"] = [s](const RouteContext& ctx) {
    auto id = idParam(ctx);
    if (!id)
      return errorResponse(ctx.request,
                           {400, "malformed-request", "id must be a positive integer"});
    ReferenceFilter f;
    f.ids = {*id};
    return changed(ctx, s, s.store->revokeReferenceValues(f));
  };
  out["POST /v1/policy/images"] = [s](const RouteContext& ctx) { return addImageRule(ctx, s); };
  out["POST /v1/policy/image-rules"] = [s](const RouteContext& ctx) {
    return addImageRule(ctx, s);
  };
  out["DELETE /v1/policy/images/{id}"] = [s](const RouteContext& ctx) {
    auto id = idParam(ctx);
    if (!id)
      return errorResponse(ctx.request,
                           {400, "malformed-request", "id must be a positive integer"});
    return changed(ctx, s, s.store->removeImageRule(*id));
  };
}

}  // namespace bulwark::server
