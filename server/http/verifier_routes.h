// The verifier's route table: who may call what (DESIGN §6 roles, deny by
// default) and the handlers that exist today. Routes the appraisal pipeline
// will implement answer 501 with a JSON error until then (docs/verifier.md
// lists them); nothing pretends to work.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
};

// Registers verifierRouteTable() on the router with its handlers.
void addVerifierRoutes(Router& router, const VerifierRouteDeps& deps);

// Wraps a slow probe so it runs at most once per `ttl` (readiness checks must
// not turn into a way to hammer the database).
std::function<bool()> cachedProbe(std::function<bool()> probe, std::chrono::milliseconds ttl);

}  // namespace bulwark::server
