// Pure request -> response dispatch with deny-by-default authorization.
// Every route declares who may call it; there is no implicit access.
//
// Order of checks (docs/verifier.md "Access control"):
//   1. a public route matching path and method runs without credentials;
//   2. otherwise the caller must authenticate: none -> 401, invalid -> 401;
//   3. unknown path -> 404, known path with another method -> 405;
//   4. no allowed role -> 403; else the handler runs.
// Anonymous callers therefore cannot probe which protected paths exist.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/auth.h"
#include "server/http/http_types.h"

namespace bulwark::server {

struct RouteContext {
  const HttpRequest& request;
  const Principal* principal;                 // nullptr on public routes
  std::map<std::string, std::string> params;  // "{name}" segments of the pattern
};

using Handler = std::function<HttpResponse(const RouteContext&)>;

struct Access {
  bool is_public = false;
  RoleSet roles;
  static Access anyone() { return {true, {}}; }
  static Access only(RoleSet roles) { return {false, roles}; }
};

struct Route {
  std::string method;
  std::string pattern;  // "/v1/nodes/{name}/ear": literal segments and {param}
  Access access;
  Handler handler;
};

// What the router did, for the access log and metrics.
struct Dispatch {
  HttpResponse response;
  std::string route;      // matched pattern, or "unmatched"
  std::string principal;  // name, or "" when anonymous
};

class Router {
 public:
  explicit Router(Authenticator auth) : auth_(std::move(auth)) {}

  // Registers a route. Patterns must start with '/'; "{x}" matches exactly one
  // non-empty path segment.
  void add(std::string method, std::string pattern, Access access, Handler handler);

  // Never throws: a handler exception becomes a 500 without details.
  Dispatch handle(const HttpRequest& request) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Lookup;
  // The route for this method and path, plus what else the path allows.
  Lookup lookup(const HttpRequest& request) const;
  // Steps 2-4 of the class comment; nullopt when the handler may run.
  std::optional<HttpResponse> authorize(const HttpRequest& request, const Lookup& lookup,
                                        Principal& principal) const;
  Authenticator auth_;
  std::vector<Route> routes_;
};

// Matches `path` against `pattern`, filling params; false when it does not match.
bool matchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>& params);

}  // namespace bulwark::server
