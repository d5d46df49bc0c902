// Turning a verifier's non-2xx answer into a bulwark::Error (pure). The verifier
// answers errors with an ErrorBody {error: stable code, detail: what to do}
// (bulwark.v1, docs/api.md), as protobuf for agents and JSON for people; both are
// decoded. The Error carries the server's code in its message, in the fixed form
//   "HTTP <status> <code>: <detail>"
// so callers can branch on it with verifierErrorCode() (e.g. fetch a new nonce on
// "nonce-*") and people read one line that says what happened and what to do.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/transport/http_client.h"
#include "attest/core/error.h"

namespace bulwark::agent {

// The ErrorCode an HTTP status maps to: 401/403 kPermission, 404 kNotFound,
// 408/429/5xx kUnavailable (worth retrying), other 4xx kInvalidArgument (the
// verifier refused what we sent: retrying the same request will not help).
ErrorCode errorCodeForStatus(int status);

// Decodes `response` (a non-2xx answer to `what`, e.g. "POST /v1/attest").
// Bodies that are neither a protobuf nor a JSON ErrorBody still give an Error with
// a sanitised, bounded excerpt of the body, never raw bytes.
Error verifierError(std::string_view what, const HttpResponse& response);

// The verifier's error code carried by an Error from verifierError(), or nullopt
// for any other Error (a transport failure has no server code).
std::optional<std::string> verifierErrorCode(const Error& error);
// HTTP status carried by an Error from verifierError(), or 0.
int verifierErrorStatus(const Error& error);

// True for the codes that mean "this nonce cannot be used" (unknown, expired,
// already used, bound to another node): the agent fetches a fresh one.
bool isNonceError(const Error& error);

// The verifier's answer when it does not hold the log prefix an incremental
// EventLog builds on (docs/api.md "Incremental logs"): 409, nonce not consumed.
inline constexpr std::string_view kLogPrefixUnknown = "log-prefix-unknown";
// True for that answer: the agent sends the whole logs again with the same nonce.
bool isLogPrefixUnknown(const Error& error);

}  // namespace bulwark::agent
