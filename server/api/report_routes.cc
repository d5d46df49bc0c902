// Compliance reports (docs/reports.md, DESIGN §8): HTML pages for people, the same
// documents as JSON, and the signed bundle for offline audit. Read-only; the route table
// restricts every route to auditors and admins. Pages carry a Content-Security-Policy
// that forbids scripts and external fetches, on top of escaping every dynamic string.
#include <charconv>
#include <nlohmann/json.hpp>

#include "server/api/routes.h"
#include "server/api/wire.h"
#include "server/report/html.h"
#include "server/report/html_escape.h"
#include "server/report/report_source.h"

namespace bulwark::server {

namespace {
using nlohmann::json;

constexpr std::string_view kPageCsp =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

HttpResponse withPageHeaders(HttpResponse r) {
  r.headers.emplace_back("content-security-policy", std::string(kPageCsp));
  r.headers.emplace_back("x-content-type-options", "nosniff");
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

HttpResponse page(std::string html) {
  return withPageHeaders(HttpResponse::text(200, std::move(html), "text/html; charset=utf-8"));
}

// Browsers get an HTML error page; the message never echoes more than the node name.
HttpResponse errorPage(const ApiError& e) {
  std::string body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     std::to_string(e.status) + "</title></head><body><h1>" +
                     std::to_string(e.status) + " " + report::htmlEscape(e.code) + "</h1><p>" +
                     report::htmlEscape(e.detail) +
                     "</p><p><a href=\"/reports\">fleet report</a></p></body></html>\n";
  return withPageHeaders(HttpResponse::text(e.status, std::move(body), "text/html; charset=utf-8"));
}

report::ReportRequest requestOf(const ApiServices& s, const HttpRequest& req) {
  report::ReportRequest r;
  r.now = s.now();
  if (auto v = queryParam(req, "limit")) {
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec == std::errc() && p == v->data() + v->size()) r.history = n;
  }
  return r;
}

ApiError storeError(const Error& e) { return fromStoreError(e, "node-unknown"); }

HttpResponse bundle(const ApiServices& s, const RouteContext& ctx) {
  if (!s.ear_key) {
    return errorResponse(ctx.request, {503, "signing-unavailable", "no EAR key configured"});
  }
  std::optional<std::string> node = queryParam(ctx.request, "node");
  if (node && node->empty()) node.reset();
  auto b = report::loadBundle(*s.store, node, requestOf(s, ctx.request), s.ear_key.get());
  if (!b) return errorResponse(ctx.request, storeError(b.error()));
  HttpResponse r = HttpResponse::text(200, std::move(*b), "application/json");
  std::string file = node ? "bulwark-report-" + report::urlSegment(*node) : "bulwark-report-fleet";
  r.headers.emplace_back("content-disposition", "attachment; filename=\"" + file + ".json\"");
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}
}  // namespace

void addReportHandlers(std::map<std::string, Handler>& out, const ApiServices& s) {
  out["GET /reports"] = [s](const RouteContext& ctx) {
    auto r = report::loadFleetReport(*s.store, requestOf(s, ctx.request));
    return r ? page(report::renderFleetPage(*r)) : errorPage(storeError(r.error()));
  };
  out["GET /reports/nodes/{name}"] = [s](const RouteContext& ctx) {
    auto r = report::loadNodeReport(*s.store, ctx.params.at("name"), requestOf(s, ctx.request));
    return r ? page(report::renderNodePage(*r)) : errorPage(storeError(r.error()));
  };
  out["GET /v1/reports/fleet"] = [s](const RouteContext& ctx) {
    auto r = report::loadFleetReport(*s.store, requestOf(s, ctx.request));
    return r ? jsonResponse(200, *r) : errorResponse(ctx.request, storeError(r.error()));
  };
  out["GET /v1/reports/nodes/{name}"] = [s](const RouteContext& ctx) {
    auto r = report::loadNodeReport(*s.store, ctx.params.at("name"), requestOf(s, ctx.request));
    return r ? jsonResponse(200, *r) : errorResponse(ctx.request, storeError(r.error()));
  };
  out["GET /v1/reports/bundle"] = [s](const RouteContext& ctx) { return bundle(s, ctx); };
}

}  // namespace bulwark::server
