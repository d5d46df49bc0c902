#include "server/http/verifier_routes.h"

#include <mutex>

#include "server/http/content_type.h"

namespace bulwark::server {

namespace {
const RoleSet kReaders{Role::kScheduler, Role::kAuditor, Role::kAdmin};
const RoleSet kAuditors{Role::kAuditor, Role::kAdmin};
const RoleSet kAdmins{Role::kAdmin};
const RoleSet kAgents{Role::kAgent};

Handler notImplemented(const std::string& method, const std::string& pattern) {
  return [what = method + " " + pattern](const RouteContext&) {
    return HttpResponse::error(501, "not implemented yet: " + what +
                                        " (verifier pipeline, issue 5; see docs/verifier.md)");
  };
}
}  // namespace

const std::vector<RouteSpec>& verifierRouteTable() {
  // Paths and roles as in docs/api.md ("Roles").
  static const std::vector<RouteSpec> kTable = {
      {"GET", "/healthz", Access::anyone(), true, "liveness"},
      {"GET", "/readyz", Access::anyone(), true, "readiness: the store is reachable"},
      {"GET", "/metrics", Access::only(kAuditors), true, "Prometheus metrics"},
      {"GET", "/v1/jwks", Access::anyone(), true, "EAR signing keys (JWKS)"},
      // Enrollment is authenticated by the TPM (EK certificate chain +
      // credential activation), not by HTTP credentials: the agent has none yet.
      {"POST", "/v1/enroll", Access::anyone(), false, "start enrollment (EK cert, AK, CSR)"},
      {"POST", "/v1/enroll/activate", Access::anyone(), false,
       "finish enrollment (activation proof) -> client certificate"},
      {"POST", "/v1/enroll/{id}/activate", Access::anyone(), false, "alias of /v1/enroll/activate"},
      {"GET", "/v1/nonce", Access::only(kAgents), false, "fresh nonce for the calling node"},
      {"POST", "/v1/attest", Access::only(kAgents), false, "submit Evidence -> result + next nonce"},
      {"GET", "/v1/nodes", Access::only(kReaders), false, "fleet verdicts"},
      {"GET", "/v1/nodes/{name}", Access::only(kReaders), false, "one node's verdict"},
      {"GET", "/v1/nodes/{name}/ear", Access::only(kReaders), false, "signed EAR of a node"},
      {"GET", "/v1/nodes/{name}/history", Access::only(kAuditors), false, "appraisal history"},
      {"POST", "/v1/nodes/{name}/approve", Access::only(kAdmins), false, "approve an enrollment"},
      {"POST", "/v1/nodes/{name}/revoke", Access::only(kAdmins), false, "revoke a node"},
      {"DELETE", "/v1/nodes/{name}", Access::only(kAdmins), false, "delete a node"},
      {"PUT", "/v1/nodes/{name}/group", Access::only(kAdmins), false,
       "set a node's group (isolation profile); re-appraises it"},
      {"GET", "/v1/policy", Access::only(kAuditors), false, "reference values and image rules"},
      {"POST", "/v1/policy/learn/{name}", Access::only(kAdmins), false,
       "learn pending reference values from a node"},
      {"POST", "/v1/policy/approve", Access::only(kAdmins), false, "approve pending values"},
      {"POST", "/v1/policy/reference-values", Access::only(kAdmins), false,
       "add approved reference values (e.g. hashed from packages)"},
      {"POST", "/v1/policy/revoke", Access::only(kAdmins), false, "revoke reference values"},
      {"DELETE", "/v1/policy/reference-values/{id}", Access::only(kAdmins), false,
       "revoke one reference value"},
      {"POST", "/v1/policy/images", Access::only(kAdmins), false, "add an image rule"},
      {"POST", "/v1/policy/image-rules", Access::only(kAdmins), false, "alias of /v1/policy/images"},
      {"DELETE", "/v1/policy/images/{id}", Access::only(kAdmins), false, "remove an image rule"},
      // Relying parties (docs/scheduling.md): kube-scheduler extender, admission
      // webhook (the API server presents a scheduler-role client certificate) and
      // the plain REST verdict for other schedulers.
      {"POST", "/v1/k8s/filter", Access::only(kReaders), false, "kube-scheduler extender filter"},
      {"POST", "/v1/k8s/prioritize", Access::only(kReaders), false,
       "kube-scheduler extender prioritize"},
      {"POST", "/v1/k8s/admit", Access::only(kReaders), false,
       "ValidatingAdmissionWebhook (AdmissionReview v1)"},
      {"GET", "/v1/verdicts", Access::only(kReaders), false, "trusted-now verdict of every node"},
      {"GET", "/v1/verdicts/{name}", Access::only(kReaders), false,
       "trusted-now verdict of one node"},
      // Compliance reports (docs/reports.md).
      {"GET", "/reports", Access::only(kAuditors), false, "fleet compliance report (HTML)"},
      {"GET", "/reports/nodes/{name}", Access::only(kAuditors), false,
       "node compliance report (HTML)"},
      {"GET", "/v1/reports/fleet", Access::only(kAuditors), false, "fleet report (JSON)"},
      {"GET", "/v1/reports/nodes/{name}", Access::only(kAuditors), false, "node report (JSON)"},
      {"GET", "/v1/reports/bundle", Access::only(kAuditors), false,
       "signed report bundle (?node=NAME, else the fleet)"},
  };
  return kTable;
}

Result<void> addVerifierRoutes(Router& router, const VerifierRouteDeps& deps) {
  for (const auto& [key, handler] : deps.handlers) {
    bool known = false;
    for (const RouteSpec& spec : verifierRouteTable()) {
      known = known || (!spec.implemented && key == spec.method + " " + spec.pattern);
    }
    if (!known || !handler) {
      return fail(ErrorCode::kInternal, "handler for '" + key + "' matches no pluggable route");
    }
  }
  for (const RouteSpec& spec : verifierRouteTable()) {
    Handler h;
    auto plugged = deps.handlers.find(spec.method + " " + spec.pattern);
    if (plugged != deps.handlers.end()) {
      h = plugged->second;
    } else if (spec.pattern == "/healthz") {
      h = [](const RouteContext&) { return HttpResponse::json(200, R"({"status":"ok"})"); };
    } else if (spec.pattern == "/readyz") {
      h = [ready = deps.ready](const RouteContext&) {
        return ready && ready() ? HttpResponse::json(200, R"({"status":"ready"})")
                                : HttpResponse::error(503, "store unreachable");
      };
    } else if (spec.pattern == "/metrics") {
      h = [metrics = deps.metrics](const RouteContext&) {
        return HttpResponse::text(200, metrics->render(), std::string(kPrometheusText));
      };
    } else if (spec.pattern == "/v1/jwks") {
      h = [body = deps.jwks.dump()](const RouteContext&) {
        // RFC 7517 §8.5.1 media type for a JWK Set.
        return HttpResponse::text(200, body, "application/jwk-set+json");
      };
    } else {
      h = notImplemented(spec.method, spec.pattern);
    }
    router.add(spec.method, spec.pattern, spec.access, std::move(h));
  }
  return {};
}

std::function<bool()> cachedProbe(std::function<bool()> probe, std::chrono::milliseconds ttl) {
  struct State {
    std::mutex mu;
    std::chrono::steady_clock::time_point at{};
    bool has = false;
    bool value = false;
  };
  auto state = std::make_shared<State>();
  return [probe = std::move(probe), ttl, state] {
    std::lock_guard lock(state->mu);
    auto now = std::chrono::steady_clock::now();
    if (!state->has || now - state->at >= ttl) {
      state->value = probe();
      state->at = now;
      state->has = true;
    }
    return state->value;
  };
}

}  // namespace bulwark::server
