// Handlers of the /v1 API (docs/api.md) for server/http's route table: keys are
// "METHOD pattern" exactly as verifierRouteTable() lists them; access control stays
// with the table (deny by default). Handlers are plain functions of request values.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "server/appraisal/appraiser.h"
#include "server/appraisal/enrollment.h"
#include "server/http/router.h"
#include "server/store/store.h"

namespace bulwark::server {

struct ApiServices {
  Store* store = nullptr;
  Appraiser* appraiser = nullptr;
  EnrollmentService* enrollment = nullptr;  // nullptr: agent_ca not configured → 503
  NowFn now;
  std::shared_ptr<EVP_PKEY> ear_key{};  // signs report bundles (report_routes.cc); nullptr → 503
};

std::map<std::string, Handler> makeApiHandlers(const ApiServices& services);

// Parts, one per file (agent_routes.cc, node_routes.cc, policy_routes.cc, ...).
void addAgentHandlers(std::map<std::string, Handler>& out, const ApiServices& s);
void addNodeHandlers(std::map<std::string, Handler>& out, const ApiServices& s);
void addPolicyHandlers(std::map<std::string, Handler>& out, const ApiServices& s);
void addSchedulingHandlers(std::map<std::string, Handler>& out, const ApiServices& s);  // sched_routes.cc
void addReportHandlers(std::map<std::string, Handler>& out, const ApiServices& s);  // report_routes.cc

}  // namespace bulwark::server
