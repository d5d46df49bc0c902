// What a verifier service answers instead of a value: an HTTP status and a stable
// error code (docs/api.md tables). "Could not do" (store down) and "refused" (nonce
// replayed) are both ApiErrors here; appraisal verdicts are values, never ApiErrors.
#pragma once

#include <expected>
#include <string>

#include "attest/core/error.h"

namespace bulwark::server {

struct ApiError {
  int status = 500;
  std::string code;    // stable, e.g. "nonce-replayed"
  std::string detail;  // human sentence; never secrets
};

template <typename T>
using ApiResult = std::expected<T, ApiError>;

inline std::unexpected<ApiError> apiFail(int status, std::string code, std::string detail) {
  return std::unexpected<ApiError>(ApiError{status, std::move(code), std::move(detail)});
}

// Store errors: kUnavailable → 503 store-unavailable, kNotFound → 404 `not_found_code`,
// kInvalidArgument → 400 invalid-request, anything else → 500 internal-error.
inline ApiError fromStoreError(const Error& e, std::string not_found_code = "not-found") {
  switch (e.code()) {
    case ErrorCode::kUnavailable:
      return {503, "store-unavailable", "database unavailable; retry"};
    case ErrorCode::kNotFound:
      return {404, std::move(not_found_code), e.message()};
    case ErrorCode::kInvalidArgument:
      return {400, "invalid-request", e.message()};
    default:
      return {500, "internal-error", "storage error"};
  }
}

}  // namespace bulwark::server
