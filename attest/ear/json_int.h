// Bounded integer extraction from untrusted JSON. nlohmann stores integers
// above INT64_MAX as unsigned; reading those with get<int64_t>() would wrap,
// so both representations are range-checked here.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace bulwark::attest {

inline std::optional<std::int64_t> jsonInt(const nlohmann::json& v, std::int64_t lo,
                                           std::int64_t hi) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (hi < 0 || u > static_cast<std::uint64_t>(hi)) return std::nullopt;
    auto s = static_cast<std::int64_t>(u);
    if (s < lo) return std::nullopt;
    return s;
  }
  if (!v.is_number_integer()) return std::nullopt;
  auto s = v.get<std::int64_t>();
  if (s < lo || s > hi) return std::nullopt;
  return s;
}

}  // namespace bulwark::attest
