#include "server/sched/admission.h"

#include <nlohmann/json.hpp>

#include "server/sched/json_keys.h"

namespace bulwark::server::sched {

namespace {
using nlohmann::json;

constexpr std::string_view kApiVersion = "admission.k8s.io/v1";
constexpr std::string_view kMirrorAnnotation = "kubernetes.io/config.mirror";

// An optional object member: nullptr when absent/null, kMalformed when not an object.
Result<const json*> objectMember(const json& parent, std::string_view key) {
  auto v = findKey(parent, key);
  if (!v) return std::unexpected(v.error());
  if (*v == nullptr || (*v)->is_null()) return static_cast<const json*>(nullptr);
  if (!(*v)->is_object()) {
    return fail(ErrorCode::kMalformed, "\"" + std::string(key) + "\" must be an object");
  }
  return *v;
}

// Member `path` of nested objects, "" when any step is absent.
Result<std::string> nestedString(const json* at, std::initializer_list<std::string_view> path) {
  std::size_t i = 0;
  for (std::string_view key : path) {
    if (at == nullptr) return std::string();
    if (++i == path.size()) {
      auto s = stringMember(*at, key);
      if (!s) return std::unexpected(s.error());
      return std::string(*s);
    }
    auto next = objectMember(*at, key);
    if (!next) return std::unexpected(next.error());
    at = *next;
  }
  return std::string();
}

Result<void> readPlacement(const json& req, AdmissionRequest& out) {
  auto op = nestedString(&req, {"operation"});
  auto group = nestedString(&req, {"resource", "group"});
  auto resource = nestedString(&req, {"resource", "resource"});
  auto sub = nestedString(&req, {"subResource"});
  auto name = nestedString(&req, {"name"});
  auto ns = nestedString(&req, {"namespace"});
  auto object = objectMember(req, "object");
  for (const auto* r : {&op, &group, &resource, &sub, &name, &ns}) {
    if (!*r) return std::unexpected(r->error());
  }
  if (!object) return std::unexpected(object.error());
  if (*op != "CREATE" || !group->empty()) return {};
  bool binding =
      (*resource == "pods" && *sub == "binding") || (*resource == "bindings" && sub->empty());
  bool pod = *resource == "pods" && sub->empty();
  if (!binding && !pod) return {};
  std::string who = *ns + "/" + (name->empty() ? "?" : *name);
  auto node = binding ? nestedString(*object, {"target", "name"})
                      : nestedString(*object, {"spec", "nodeName"});
  if (!node) return std::unexpected(node.error());
  if (pod && node->empty()) return {};  // the scheduler will bind it (and we see that)
  out.places_pod = true;
  out.node = *node;
  out.subject = binding ? "binding of pod " + who : "pod " + who;
  if (pod) {
    auto user = nestedString(&req, {"userInfo", "username"});
    if (!user) return std::unexpected(user.error());
    auto meta = objectMember(**object, "metadata");
    if (!meta) return std::unexpected(meta.error());
    auto notes = *meta != nullptr ? objectMember(**meta, "annotations") : meta;
    if (!notes) return std::unexpected(notes.error());
    bool mirror = *notes != nullptr && (*notes)->contains(kMirrorAnnotation);
    out.own_mirror_pod = mirror && *user == "system:node:" + out.node;
  }
  return {};
}
}  // namespace

Result<AdmissionRequest> parseAdmissionReview(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return fail(ErrorCode::kMalformed, "body is not JSON");
  if (!doc.is_object()) return fail(ErrorCode::kMalformed, "AdmissionReview must be a JSON object");
  auto version = stringMember(doc, "apiVersion");
  auto kind = stringMember(doc, "kind");
  if (!version) return std::unexpected(version.error());
  if (!kind) return std::unexpected(kind.error());
  if (*version != kApiVersion || *kind != "AdmissionReview") {
    return fail(ErrorCode::kMalformed,
                "expected apiVersion admission.k8s.io/v1, kind AdmissionReview"
                " (set admissionReviewVersions: [v1])");
  }
  auto req = objectMember(doc, "request");
  if (!req) return std::unexpected(req.error());
  if (*req == nullptr) return fail(ErrorCode::kMalformed, "AdmissionReview has no request");
  AdmissionRequest out;
  auto uid = stringMember(**req, "uid");
  if (!uid) return std::unexpected(uid.error());
  if (uid->empty()) return fail(ErrorCode::kMalformed, "request.uid is missing");
  out.uid = std::string(*uid);
  if (auto r = readPlacement(**req, out); !r) return std::unexpected(r.error());
  return out;
}

AdmissionDecision admit(const AdmissionRequest& request, const VerdictSnapshot* snapshot,
                        Millis now) {
  if (!request.places_pod || request.own_mirror_pod) return {};
  if (request.node.empty()) {
    return {false, "bulwark: " + request.subject + " names no target node"};
  }
  const NodeVerdict* v = snapshot != nullptr ? snapshot->find(request.node) : nullptr;
  Decision d = snapshot != nullptr ? decide(v, now) : Decision{Trust::kUnavailable, {}};
  if (d.trusted()) return {};
  return {false, nodeMessage(request.node, v, d, now)};
}

std::string admissionReviewResponse(const AdmissionRequest& request,
                                    const AdmissionDecision& decision) {
  json response = {{"uid", request.uid}, {"allowed", decision.allowed}};
  if (!decision.allowed) {
    // metav1.Status as the API server relays it to the client (HTTP 403 Forbidden).
    response["status"] = {{"status", "Failure"},
                          {"reason", "Forbidden"},
                          {"code", 403},
                          {"message", decision.message}};
  }
  json out = {{"apiVersion", kApiVersion}, {"kind", "AdmissionReview"}, {"response", response}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bulwark::server::sched
