// The verifier's route table: who may call what (DESIGN §6 roles, deny by
// default) and the handlers that exist today. Routes the appraisal pipeline
// will implement answer 501 with a JSON error until then (docs/verifier.md
// lists them); nothing pretends to work.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/core/error.h"
#include "server/http/metrics.h"
#include "server/http/router.h"

namespace bulwark::server {

struct RouteSpec {
  std::string method;
  std::string pattern;
  Access access;
  bool implemented;
  std::string summary;
};

// Every route the verifier serves, in documentation order.
const std::vector<RouteSpec>& verifierRouteTable();

struct VerifierRouteDeps {
  std::function<bool()> ready;      // /readyz: is the store reachable?
  std::shared_ptr<Metrics> metrics; // /metrics
  nlohmann::json jwks;              // /v1/jwks: {"keys":[...]} public keys only
  // Handlers for the routes not implemented here, keyed "METHOD pattern"
  // ("POST /v1/attest"). Access stays as the table declares; a route without
  // a handler answers 501.
  std::map<std::string, Handler> handlers;
};

// Registers verifierRouteTable() on the router. kInternal when `handlers` names
// a route that is not in the table (or one served here, like /healthz).
[[nodiscard]] Result<void> addVerifierRoutes(Router& router, const VerifierRouteDeps& deps);

// Wraps a slow probe so it runs at most once per `ttl` (readiness checks must
// not turn into a way to hammer the database).
std::function<bool()> cachedProbe(std::function<bool()> probe, std::chrono::milliseconds ttl);

}  // namespace bulwark::server
