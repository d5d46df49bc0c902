#include "attest/core/error.h"

namespace bulwark {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kTpm: return "tpm";
    case ErrorCode::kCrypto: return "crypto";
    case ErrorCode::kPermission: return "permission";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

Error& Error::within(std::string_view outer) {
  if (context_.empty()) {
    context_ = std::string(outer);
  } else {
    context_ = std::string(outer) + ": " + context_;
  }
  return *this;
}

std::string Error::toString() const {
  std::string out(errorCodeName(code_));
  out += ": ";
  if (!context_.empty()) {
    out += context_;
    out += ": ";
  }
  out += message_;
  return out;
}

}  // namespace bulwark
