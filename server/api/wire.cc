#include "server/api/wire.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "bulwark/v1/enrollment.pb.h"
#include "server/http/content_type.h"

namespace bulwark::server {

bool wantsProtobuf(const HttpRequest& request) {
  if (isMediaType(request.header("content-type"), kProtobuf)) return true;
  auto accept = request.header("accept");
  if (!accept || accept->empty()) return false;
  auto pick = negotiate(accept, {kJson, kProtobuf});
  return pick && *pick == kProtobuf;
}

HttpResponse errorResponse(const HttpRequest& request, const ApiError& error) {
  if (wantsProtobuf(request)) {
    bulwark::v1::ErrorBody body;
    body.set_error(error.code);
    body.set_detail(error.detail);
    return HttpResponse::text(error.status, body.SerializeAsString(), std::string(kProtobuf));
  }
  nlohmann::json j = {{"error", error.code}, {"detail", error.detail}};
  return jsonResponse(error.status, j);
}

HttpResponse protoResponse(const HttpRequest& request, const google::protobuf::Message& message) {
  if (wantsProtobuf(request))
    return HttpResponse::text(200, message.SerializeAsString(), std::string(kProtobuf));
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, opts).ok()) {
    return jsonResponse(500, {{"error", "internal-error"}, {"detail", "JSON encoding failed"}});
  }
  return HttpResponse::json(200, std::move(json));
}

HttpResponse jsonResponse(int status, const nlohmann::json& body) {
  return HttpResponse::json(status,
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

ApiResult<void> parseProtoBody(const HttpRequest& request, google::protobuf::Message& out) {
  if (!isMediaType(request.header("content-type"), kProtobuf)) {
    return apiFail(415, "unsupported-media-type", "send Content-Type: application/x-protobuf");
  }
  if (!out.ParseFromString(request.body)) {
    return apiFail(400, "malformed-request",
                   "body is not a bulwark.v1." + out.GetTypeName().substr(11) + " message");
  }
  return {};
}

ApiResult<nlohmann::json> parseJsonBody(const HttpRequest& request) {
  if (request.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(request.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return apiFail(400, "malformed-request", "body must be a JSON object");
  return j;
}

std::string rfc3339(Millis ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buf;
}

std::optional<std::string> queryParam(const HttpRequest& request, std::string_view name) {
  std::string_view t = request.target;
  auto q = t.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = t.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name)
      return std::string(eq == std::string_view::npos ? "" : kv.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return std::nullopt;
}

}  // namespace bulwark::server
