// Relying-party handlers (docs/scheduling.md, DESIGN §7): kube-scheduler extender verbs,
// the ValidatingAdmissionWebhook and the plain REST verdict. All of them answer from one
// VerdictCache (server/sched/verdict_cache.h): at most max_age old, freshness evaluated
// at the request time, refusal of every node when no verdicts can be read.
#include <nlohmann/json.hpp>

#include "server/api/routes.h"
#include "server/api/wire.h"
#include "server/sched/admission.h"
#include "server/sched/extender.h"
#include "server/sched/verdict_cache.h"
#include "server/store/validate.h"

namespace bulwark::server {

namespace {
using nlohmann::json;
using sched::VerdictCache;
using sched::VerdictSnapshot;

// Most names one GET /v1/verdicts?nodes= may ask for (the URL limit binds first).
constexpr std::size_t kMaxQueryNodes = 10000;

std::shared_ptr<const VerdictSnapshot> snapshotOrNull(VerdictCache& cache) {
  auto snap = cache.current();
  return snap ? *snap : nullptr;
}

HttpResponse jsonText(int status, std::string body) {
  return HttpResponse::json(status, std::move(body));
}

json verdictJson(const std::string& name, const VerdictSnapshot& snap, Millis now) {
  const sched::NodeVerdict* v = snap.find(name);
  sched::Decision d = sched::decide(v, now);
  return {{"node", name},
          {"trusted", d.trusted()},
          {"state", sched::trustName(d.trust)},
          {"reason", sched::reasonText(v, d, now)},
          {"fresh_until", d.fresh_until ? json(rfc3339(*d.fresh_until)) : json(nullptr)},
          {"checked_at", rfc3339(now)}};
}

// "a,b" (or %2C-separated) node names, in one pass; nullopt when one is not a node name
// (server/store/validate.h) or there are more than kMaxQueryNodes.
std::optional<std::vector<std::string>> nodeList(std::string_view raw) {
  std::vector<std::string> out;
  std::string name;
  auto flush = [&] {
    if (!validateNodeName(name) || out.size() == kMaxQueryNodes) return false;
    out.push_back(std::exchange(name, std::string()));
    return true;
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    bool encoded = raw.compare(i, 3, "%2C") == 0 || raw.compare(i, 3, "%2c") == 0;
    if (raw[i] != ',' && !encoded) {
      name += raw[i];
      continue;
    }
    if (!flush()) return std::nullopt;
    if (encoded) i += 2;
  }
  if (!flush()) return std::nullopt;
  return out;
}

HttpResponse unavailable(const HttpRequest& req) {
  return errorResponse(req, {503, "verdicts-unavailable",
                             "verdicts cannot be read (verifier store unreachable); every node "
                             "counts as untrusted until they can"});
}
}  // namespace

void addSchedulingHandlers(std::map<std::string, Handler>& out, const ApiServices& s) {
  Store* store = s.store;
  auto cache = std::make_shared<VerdictCache>([store] { return store->fleet(); }, s.now);
  NowFn now = s.now;

  out["POST /v1/k8s/filter"] = [cache, now](const RouteContext& ctx) {
    auto args = sched::parseExtenderArgs(ctx.request.body);
    if (!args) return jsonText(400, sched::filterError("bulwark: " + args.error().message()));
    auto snap = snapshotOrNull(*cache);
    return jsonText(200, sched::filterResult(*args, snap.get(), now()));
  };
  out["POST /v1/k8s/prioritize"] = [cache, now](const RouteContext& ctx) {
    auto args = sched::parseExtenderArgs(ctx.request.body);
    // HostPriorityList has no error member: the status tells kube-scheduler, Error a person.
    if (!args) return jsonText(400, json{{"Error", "bulwark: " + args.error().message()}}.dump());
    auto snap = snapshotOrNull(*cache);
    return jsonText(200, sched::prioritizeResult(*args, snap.get(), now()));
  };
  out["POST /v1/k8s/admit"] = [cache, now](const RouteContext& ctx) {
    auto review = sched::parseAdmissionReview(ctx.request.body);
    if (!review)
      return errorResponse(ctx.request, {400, "malformed-request", review.error().message()});
    auto snap = review->places_pod ? snapshotOrNull(*cache) : nullptr;
    return jsonText(
        200, sched::admissionReviewResponse(*review, sched::admit(*review, snap.get(), now())));
  };
  out["GET /v1/verdicts"] = [cache, now](const RouteContext& ctx) {
    std::optional<std::vector<std::string>> names;
    if (auto q = queryParam(ctx.request, "nodes")) {
      names = nodeList(*q);
      if (!names) {
        return errorResponse(ctx.request, {400, "invalid-request",
                                           "nodes: comma-separated node names, at most " +
                                               std::to_string(kMaxQueryNodes)});
      }
    }
    auto snap = snapshotOrNull(*cache);
    if (!snap) return unavailable(ctx.request);
    Millis t = now();
    json list = json::array();
    if (names) {
      for (const std::string& n : *names) list.push_back(verdictJson(n, *snap, t));
    } else {
      for (const auto& entry : snap->entries()) list.push_back(verdictJson(entry.first, *snap, t));
    }
    return jsonResponse(200, {{"checked_at", rfc3339(t)}, {"verdicts", std::move(list)}});
  };
  out["GET /v1/verdicts/{name}"] = [cache, now](const RouteContext& ctx) {
    auto snap = snapshotOrNull(*cache);
    if (!snap) return unavailable(ctx.request);
    const std::string& name = ctx.params.at("name");
    json v = verdictJson(name, *snap, now());
    // Unknown node: 404, still in the verdict shape (trusted false) for simple clients.
    if (v["state"] == "unknown") v["error"] = "node-unknown";
    return jsonResponse(v["state"] == "unknown" ? 404 : 200, v);
  };
}

}  // namespace bulwark::server
