// Where the verifier listens: "https://host[:port][/prefix]". Pure parsing, so a
// typo in the agent's configuration is a clear error naming the problem rather
// than a failed connection later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "attest/core/error.h"

namespace bulwark::agent {

struct VerifierUrl {
  std::string host;  // DNS name, IPv4 literal, or IPv6 literal without brackets
  std::uint16_t port = 443;
  std::string path_prefix;  // "" or "/something" without a trailing slash
  bool host_is_ip = false;  // literal address: verified against the cert's IP SAN

  // "https://host:port/prefix" again (IPv6 in brackets).
  std::string toString() const;
};

// Only https is accepted: the agent never sends evidence or keys in clear text.
// kInvalidArgument names what is wrong (scheme, empty host, port range, query,
// fragment, user info).
[[nodiscard]] Result<VerifierUrl> parseVerifierUrl(std::string_view text);

}  // namespace bulwark::agent
