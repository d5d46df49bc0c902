// Bulwark's one result type. Every fallible function returns Result<T>; an Error
// means "could not do / could not verify" and is never a verdict. Verdicts with
// reasons ("verified and rejected") are values, see attest/quote/verdict.h.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace bulwark {

// Small closed set; callers branch on the code, people read the message.
enum class ErrorCode {
  kInvalidArgument,  // caller passed something unusable (config, flag, selection)
  kMalformed,        // untrusted bytes failed to parse
  kUnsupported,      // well-formed but an algorithm/version/type we do not handle
  kNotFound,         // file, NV index, handle, node, ... absent
  kIo,               // OS-level I/O failure (errno in the message)
  kTpm,              // TPM/TSS returned an error (decoded TSS2_RC in the message)
  kCrypto,           // OpenSSL failure (error queue in the message)
  kPermission,       // not allowed (OS permission or Bulwark authorization)
  kUnavailable,      // peer/daemon not reachable right now
  kInternal,         // broken invariant inside Bulwark
};

std::string_view errorCodeName(ErrorCode code);

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message, std::string context = {})
      : code_(code), message_(std::move(message)), context_(std::move(context)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Operation or object the error happened in, e.g. "Esys_Quote" or a file path.
  const std::string& context() const { return context_; }

  // Prefixes the context, for callers that add where they were.
  Error& within(std::string_view outer);

  // "<code>: <context>: <message>" — one line, safe to log (never contains secrets
  // because no constructor is ever given secret material).
  std::string toString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string context_;
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for `return fail(ErrorCode::kMalformed, "...")` in functions returning Result<T>.
inline std::unexpected<Error> fail(ErrorCode code, std::string message, std::string context = {}) {
  return std::unexpected<Error>(Error(code, std::move(message), std::move(context)));
}

}  // namespace bulwark
