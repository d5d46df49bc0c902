#include "agent/transport/verifier_url.h"

#include <arpa/inet.h>

#include <charconv>

namespace bulwark::agent {

namespace {

bool isIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Result<std::uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return fail(ErrorCode::kInvalidArgument,
                "port must be a number from 1 to 65535, got '" + std::string(text) + "'");
  }
  return static_cast<std::uint16_t>(value);
}

// Splits "host[:port]" where host may be "[v6]".
Result<void> parseAuthority(std::string_view authority, VerifierUrl& url) {
  std::string_view port_text;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(ErrorCode::kInvalidArgument, "unterminated IPv6 literal '[...'");
    }
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(ErrorCode::kInvalidArgument, "junk after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return fail(ErrorCode::kInvalidArgument, "empty port after ':'");
    }
  } else {
    std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail(ErrorCode::kInvalidArgument, "empty port after ':'");
    }
  }
  if (url.host.empty()) return fail(ErrorCode::kInvalidArgument, "no host in verifier URL");
  if (!port_text.empty()) {
    auto port = parsePort(port_text);
    if (!port) return std::unexpected(port.error());
    url.port = *port;
  }
  url.host_is_ip = isIpLiteral(url.host);
  if (authority.starts_with('[') && !url.host_is_ip) {
    return fail(ErrorCode::kInvalidArgument, "'" + url.host + "' is not an IPv6 address");
  }
  return {};
}

}  // namespace

std::string VerifierUrl::toString() const {
  bool v6 = host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path_prefix;
}

Result<VerifierUrl> parseVerifierUrl(std::string_view text) {
  auto bad = [&](std::string why) {
    return fail(ErrorCode::kInvalidArgument, std::move(why),
                "verifier URL '" + std::string(text) + "'");
  };
  constexpr std::string_view kScheme = "https://";
  if (!text.starts_with(kScheme)) return bad("must start with https:// (TLS is mandatory)");
  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad("no query or fragment allowed");
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) return bad("no user info allowed");
  VerifierUrl url;
  if (auto r = parseAuthority(authority, url); !r) return bad(r.error().message());
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (path.ends_with('/')) path.remove_suffix(1);
    for (char c : path) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
        return bad("control or space in path");
    }
    url.path_prefix = std::string(path);
  }
  return url;
}

}  // namespace bulwark::agent
