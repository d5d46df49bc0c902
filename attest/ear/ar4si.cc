#include "attest/ear/ar4si.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "attest/ear/json_int.h"

namespace bulwark::attest {

namespace {
constexpr std::array<std::string_view, 8> kClaimNames = {
    "instance-identity", "configuration", "executables",    "file-system",
    "hardware",          "runtime-opaque", "storage-opaque", "sourced-data"};
constexpr std::array<std::string_view, 4> kTierNames = {"none", "affirming", "warning",
                                                        "contraindicated"};
}  // namespace

std::string_view trustClaimName(TrustClaim claim) {
  return kClaimNames[static_cast<std::size_t>(claim)];
}

std::optional<TrustClaim> trustClaimFromName(std::string_view name) {
  for (TrustClaim c : kAllTrustClaims) {
    if (trustClaimName(c) == name) return c;
  }
  return std::nullopt;
}

std::string_view tierName(Tier tier) { return kTierNames[static_cast<std::size_t>(tier)]; }

std::optional<Tier> tierFromName(std::string_view name) {
  for (std::size_t i = 0; i < kTierNames.size(); ++i) {
    if (kTierNames[i] == name) return static_cast<Tier>(i);
  }
  return std::nullopt;
}

Tier tierOf(std::int8_t value) {
  int v = value;
  if (v >= -1 && v <= 1) return Tier::kNone;
  if ((v >= 2 && v <= 31) || (v <= -2 && v >= -32)) return Tier::kAffirming;
  if ((v >= 32 && v <= 95) || (v <= -33 && v >= -96)) return Tier::kWarning;
  return Tier::kContraindicated;  // 96..127 and -97..-128
}

bool isDefinedValue(TrustClaim claim, std::int8_t value) {
  using namespace ar4si;
  if (value < 0 || value == kNoClaim || value == kUnexpectedEvidence ||
      value == kCryptoValidationFailed) {
    return true;
  }
  auto in = [value](std::initializer_list<std::int8_t> set) {
    return std::find(set.begin(), set.end(), value) != set.end();
  };
  switch (claim) {
    case TrustClaim::kInstanceIdentity: return in({2, 96, 97});
    case TrustClaim::kConfiguration: return in({2, 3, 32, 36, 96});
    case TrustClaim::kExecutables: return in({2, 3, 32, 33, 96});
    case TrustClaim::kFileSystem: return in({2, 32, 96});
    case TrustClaim::kHardware: return in({2, 32, 96, 97});
    case TrustClaim::kRuntimeOpaque: return in({2, 32, 96});
    case TrustClaim::kStorageOpaque: return in({2, 32, 96});
    case TrustClaim::kSourcedData: return in({2, 32, 96});
  }
  return false;
}

bool TrustVector::empty() const {
  return std::none_of(values_.begin(), values_.end(), [](const auto& v) { return v.has_value(); });
}

Tier TrustVector::worstTier() const {
  bool affirming = false;
  bool warning = false;
  for (const auto& v : values_) {
    if (!v) continue;
    switch (tierOf(*v)) {
      case Tier::kContraindicated: return Tier::kContraindicated;
      case Tier::kWarning: warning = true; break;
      case Tier::kAffirming: affirming = true; break;
      case Tier::kNone: break;
    }
  }
  if (warning) return Tier::kWarning;
  return affirming ? Tier::kAffirming : Tier::kNone;
}

nlohmann::json TrustVector::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (TrustClaim c : kAllTrustClaims) {
    if (auto v = get(c)) j[std::string(trustClaimName(c))] = static_cast<int>(*v);
  }
  return j;
}

Result<TrustVector> TrustVector::fromJson(const nlohmann::json& j) {
  if (!j.is_object()) return fail(ErrorCode::kMalformed, "trustworthiness vector is not an object");
  TrustVector tv;
  for (const auto& [name, value] : j.items()) {
    auto claim = trustClaimFromName(name);
    if (!claim) return fail(ErrorCode::kMalformed, "unknown trustworthiness claim '" + name + "'");
    auto v = jsonInt(value, -128, 127);
    if (!v) {
      return fail(ErrorCode::kMalformed, "trustworthiness claim '" + name +
                                             "' is not an integer in -128..127");
    }
    tv.set(*claim, static_cast<std::int8_t>(*v));
  }
  return tv;
}

bool statusConsistent(Tier status, Tier worst) {
  switch (status) {
    case Tier::kAffirming: return worst == Tier::kAffirming;
    case Tier::kWarning: return worst == Tier::kAffirming || worst == Tier::kWarning;
    case Tier::kNone:
    case Tier::kContraindicated: return true;
  }
  return false;
}

}  // namespace bulwark::attest
