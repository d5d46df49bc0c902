// Encoding rules of the /v1 API (docs/api.md "Conventions"): protobuf for agents,
// JSON for people, ErrorBody on every non-2xx answer in the caller's encoding.
#pragma once

#include <google/protobuf/message.h>

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "server/appraisal/api_error.h"
#include "server/http/http_types.h"
#include "server/store/store_types.h"

namespace bulwark::server {

// True when the request body is protobuf, or its Accept header prefers protobuf over JSON.
bool wantsProtobuf(const HttpRequest& request);

// ErrorBody {error, detail}: protobuf when wantsProtobuf(), JSON otherwise.
HttpResponse errorResponse(const HttpRequest& request, const ApiError& error);

// A protobuf answer: binary when wantsProtobuf(), proto3 JSON mapping otherwise.
HttpResponse protoResponse(const HttpRequest& request, const google::protobuf::Message& message);

HttpResponse jsonResponse(int status, const nlohmann::json& body);

// Parses an agent body: 415 unsupported-media-type unless Content-Type is
// application/x-protobuf, 400 malformed-request when it does not parse.
ApiResult<void> parseProtoBody(const HttpRequest& request, google::protobuf::Message& out);

// Parses a JSON object body (empty body = {}); 400 malformed-request otherwise.
ApiResult<nlohmann::json> parseJsonBody(const HttpRequest& request);

// "2024-05-01T12:00:00.123Z"
std::string rfc3339(Millis ms);

// Query parameter value (no decoding beyond what the API needs: digits and names).
std::optional<std::string> queryParam(const HttpRequest& request, std::string_view name);

}  // namespace bulwark::server
