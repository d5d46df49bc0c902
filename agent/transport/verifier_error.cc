#include "agent/transport/verifier_error.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "bulwark/v1/enrollment.pb.h"

namespace bulwark::agent {

namespace {

constexpr std::size_t kMaxExcerpt = 200;
constexpr std::string_view kPrefix = "HTTP ";

// Printable ASCII only, bounded: a hostile or broken server must not be able to
// inject control characters or megabytes into our logs.
std::string sanitize(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxExcerpt)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (text.size() > kMaxExcerpt) out += "...";
  return out;
}

bool isMedia(std::string_view content_type, std::string_view media) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  if (base.size() != media.size()) return false;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(base[i])) != media[i]) return false;
  }
  return true;
}

// {code, detail} from the body, or nullopt when it is not an ErrorBody.
std::optional<std::pair<std::string, std::string>> decodeBody(const HttpResponse& r) {
  if (isMedia(r.content_type, "application/x-protobuf")) {
    bulwark::v1::ErrorBody body;
    if (body.ParseFromString(r.body) && !body.error().empty()) {
      return std::make_pair(body.error(), body.detail());
    }
    return std::nullopt;
  }
  if (isMedia(r.content_type, "application/json")) {
    auto json = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (json.is_object() && json.contains("error") && json["error"].is_string()) {
      std::string detail;
      if (json.contains("detail") && json["detail"].is_string()) detail = json["detail"];
      return std::make_pair(json["error"].get<std::string>(), detail);
    }
  }
  return std::nullopt;
}

// A stable code is one token; a message-like "error" field becomes the detail.
bool isToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

ErrorCode errorCodeForStatus(int status) {
  if (status == 401 || status == 403) return ErrorCode::kPermission;
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 408 || status == 429 || status >= 500) return ErrorCode::kUnavailable;
  return ErrorCode::kInvalidArgument;
}

Error verifierError(std::string_view what, const HttpResponse& response) {
  std::string code = "http-" + std::to_string(response.status);
  std::string detail;
  if (auto body = decodeBody(response)) {
    if (isToken(body->first)) {
      code = body->first;
      detail = sanitize(body->second);
    } else {
      detail = sanitize(body->first + (body->second.empty() ? "" : ": " + body->second));
    }
  } else if (!response.body.empty()) {
    detail = "unexpected " + sanitize(response.content_type) + " body: " + sanitize(response.body);
  }
  std::string message = std::string(kPrefix) + std::to_string(response.status) + " " + code;
  if (!detail.empty()) message += ": " + detail;
  return Error(errorCodeForStatus(response.status), message, std::string(what));
}

std::optional<std::string> verifierErrorCode(const Error& error) {
  std::string_view m = error.message();
  if (!m.starts_with(kPrefix)) return std::nullopt;
  m.remove_prefix(kPrefix.size());
  int status = 0;
  auto [ptr, ec] = std::from_chars(m.data(), m.data() + m.size(), status);
  if (ec != std::errc() || ptr != m.data() + 3 || m.size() < 5 || m[3] != ' ') return std::nullopt;
  m.remove_prefix(4);
  std::string_view code = m.substr(0, m.find(':'));
  if (!isToken(code)) return std::nullopt;
  return std::string(code);
}

int verifierErrorStatus(const Error& error) {
  if (!verifierErrorCode(error)) return 0;
  std::string_view m = std::string_view(error.message()).substr(kPrefix.size(), 3);
  int status = 0;
  std::from_chars(m.data(), m.data() + m.size(), status);
  return status;
}

bool isNonceError(const Error& error) {
  auto code = verifierErrorCode(error);
  return code && code->starts_with("nonce-");
}

bool isLogPrefixUnknown(const Error& error) {
  return verifierErrorStatus(error) == 409 && verifierErrorCode(error) == kLogPrefixUnknown;
}

}  // namespace bulwark::agent
