#include "server/http/router.h"

#include <exception>
#include <optional>

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

// Every route whose pattern matches the path: the one for this method, and
// what the path allows otherwise.
struct Router::Lookup {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::string allow;         // other methods on this path, for 405
  bool path_public = false;  // some method on this path is public
};

Router::Lookup Router::lookup(const HttpRequest& request) const {
  Lookup l;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> p;
    if (!matchPattern(r.pattern, request.path(), p)) continue;
    l.path_public = l.path_public || r.access.is_public;
    if (r.method == request.method && l.route == nullptr) {
      l.route = &r;
      l.params = std::move(p);
    } else if (r.method != request.method) {
      l.allow += l.allow.empty() ? r.method : ", " + r.method;
    }
  }
  return l;
}

namespace {
HttpResponse methodNotAllowed(const std::string& allow) {
  HttpResponse r = HttpResponse::error(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

HttpResponse forbidden(const Principal& who, const HttpRequest& request, const Route& route) {
  std::string role = who.roles.empty() ? std::string("no role")
                                       : "role '" + who.roles.toString() + "'";
  return HttpResponse::error(403, role + " may not call " + request.method + " " +
                                      route.pattern + " (allowed: " +
                                      route.access.roles.toString() + ")");
}
}  // namespace

std::optional<HttpResponse> Router::authorize(const HttpRequest& request, const Lookup& l,
                                              Principal& principal) const {
  AuthResult auth = auth_.authenticate(request);
  if (auth.outcome == AuthResult::Outcome::kAnonymous) {
    return unauthorized("authentication required", false);
  }
  if (auth.outcome == AuthResult::Outcome::kInvalid) {
    return unauthorized("invalid credentials: " + auth.why, true);
  }
  principal = std::move(auth.principal);
  if (l.route == nullptr) {
    return l.allow.empty() ? HttpResponse::error(404, "no such resource") : methodNotAllowed(l.allow);
  }
  if (!principal.roles.intersects(l.route->access.roles)) return forbidden(principal, request, *l.route);
  return std::nullopt;
}

Dispatch Router::handle(const HttpRequest& request) const {
  Lookup l = lookup(request);
  Dispatch d{{}, l.route ? l.route->pattern : "unmatched", ""};
  if (l.route == nullptr && l.path_public) {
    d.response = methodNotAllowed(l.allow);
    return d;
  }
  Principal principal;
  bool is_public = l.route != nullptr && l.route->access.is_public;
  if (!is_public) {
    auto denied = authorize(request, l, principal);
    d.principal = principal.name;
    if (denied) {
      d.response = std::move(*denied);
      return d;
    }
  }
  RouteContext ctx{request, is_public ? nullptr : &principal, std::move(l.params)};
  try {
    d.response = l.route->handler(ctx);
  } catch (const std::exception&) {
    d.response = HttpResponse::error(500, "internal error");
  }
  return d;
}

}  // namespace bulwark::server
