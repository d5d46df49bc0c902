// Placeholder until the sched handlers land: routes without a handler answer 501
// (server/http/verifier_routes.cc notImplemented).
#include "server/api/routes.h"

namespace bulwark::server {

void addSchedulingHandlers(std::map<std::string, Handler>& /*out*/, const ApiServices& /*s*/) {}

}  // namespace bulwark::server
