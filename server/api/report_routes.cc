// Placeholder until the report handlers land: routes without a handler answer 501
// (server/http/verifier_routes.cc notImplemented).
#include "server/api/routes.h"

namespace bulwark::server {

void addReportHandlers(std::map<std::string, Handler>& /*out*/, const ApiServices& /*s*/) {}

}  // namespace bulwark::server
