#include "server/http/router.h"

#include <exception>

namespace bulwark::server {

namespace {
std::string_view nextSegment(std::string_view& rest) {
  // rest starts after a '/'
  auto slash = rest.find('/');
  std::string_view seg = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  return seg;
}

HttpResponse unauthorized(std::string_view message, bool invalid_token) {
  HttpResponse r = HttpResponse::error(401, message);
  // RFC 6750 §3: challenge, with error=invalid_token when a token was rejected.
  r.headers.emplace_back("WWW-Authenticate", invalid_token
                                                 ? R"(Bearer realm="bulwark", error="invalid_token")"
                                                 : R"(Bearer realm="bulwark")");
  return r;
}
}  // namespace

bool matchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>& params) {
  if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/') {
    return false;
  }
  std::string_view p = pattern.substr(1);
  std::string_view s = path.substr(1);
  std::map<std::string, std::string> found;
  bool more = true;
  while (more) {
    more = p.find('/') != std::string_view::npos;
    bool path_more = s.find('/') != std::string_view::npos;
    if (more != path_more) return false;
    std::string_view pseg = nextSegment(p);
    std::string_view sseg = nextSegment(s);
    if (pseg.size() > 2 && pseg.front() == '{' && pseg.back() == '}') {
      if (sseg.empty()) return false;
      found.emplace(std::string(pseg.substr(1, pseg.size() - 2)), std::string(sseg));
    } else if (pseg != sseg) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

void Router::add(std::string method, std::string pattern, Access access, Handler handler) {
  routes_.push_back({std::move(method), std::move(pattern), access, std::move(handler)});
}

Dispatch Router::handle(const HttpRequest& request) const {
  std::string_view path = request.path();
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::string allow;
  bool path_public = false;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> p;
    if (!matchPattern(r.pattern, path, p)) continue;
    path_public = path_public || r.access.is_public;
    if (r.method == request.method && route == nullptr) {
      route = &r;
      params = std::move(p);
    } else if (r.method != request.method) {
      allow += allow.empty() ? r.method : ", " + r.method;
    }
  }
  Dispatch d{{}, route ? route->pattern : "unmatched", ""};
  if (route == nullptr && path_public) {
    d.response = HttpResponse::error(405, "method not allowed");
    d.response.headers.emplace_back("Allow", allow);
    return d;
  }
  Principal principal;
  if (route == nullptr || !route->access.is_public) {
    AuthResult auth = auth_.authenticate(request);
    if (auth.outcome == AuthResult::Outcome::kAnonymous) {
      d.response = unauthorized("authentication required", false);
      return d;
    }
    if (auth.outcome == AuthResult::Outcome::kInvalid) {
      d.response = unauthorized("invalid credentials: " + auth.why, true);
      return d;
    }
    principal = std::move(auth.principal);
    d.principal = principal.name;
    if (route == nullptr && !allow.empty()) {
      d.response = HttpResponse::error(405, "method not allowed");
      d.response.headers.emplace_back("Allow", allow);
      return d;
    }
    if (route == nullptr) {
      d.response = HttpResponse::error(404, "no such resource");
      return d;
    }
    if (!principal.roles.intersects(route->access.roles)) {
      d.response = HttpResponse::error(
          403, (principal.roles.empty() ? std::string("no role")
                                         : "role '" + principal.roles.toString() + "'") +
                   " may not call " + request.method + " " +
                   route->pattern + " (allowed: " + route->access.roles.toString() + ")");
      return d;
    }
  }
  RouteContext ctx{request, route->access.is_public ? nullptr : &principal, std::move(params)};
  try {
    d.response = route->handler(ctx);
  } catch (const std::exception&) {
    d.response = HttpResponse::error(500, "internal error");
  }
  return d;
}

}  // namespace bulwark::server
