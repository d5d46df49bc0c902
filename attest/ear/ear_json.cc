// EAR claims-set <-> JSON (draft-ietf-rats-ear §"JSON Serialisation").
#include <nlohmann/json.hpp>

#include "attest/ear/base64url.h"
#include "attest/ear/ear.h"
#include "attest/ear/json_int.h"

namespace bulwark::attest {

namespace {
using nlohmann::json;

constexpr std::string_view kReasonsClaim = "bulwark.reasons";
constexpr std::string_view kVerifierReason = "verifier";

bool validReasonClaim(std::string_view c) {
  return c == kVerifierReason || trustClaimFromName(c).has_value();
}

Result<void> checkAppraisal(const std::string& label, const Appraisal& a) {
  if (label.empty()) return fail(ErrorCode::kInvalidArgument, "empty submod label");
  for (TrustClaim c : kAllTrustClaims) {
    auto v = a.vector.get(c);
    if (v && !isDefinedValue(c, *v)) {
      return fail(ErrorCode::kInvalidArgument,
                  "value " + std::to_string(*v) + " is not defined for " +
                      std::string(trustClaimName(c)),
                  label);
    }
  }
  if (!statusConsistent(a.status, a.vector.worstTier())) {
    return fail(ErrorCode::kInvalidArgument,
                "ear.status " + std::string(tierName(a.status)) + " claims more trust than the " +
                    "vector's worst tier " + std::string(tierName(a.vector.worstTier())),
                label);
  }
  for (const Reason& r : a.reasons) {
    if (r.code.empty() || !validReasonClaim(r.claim)) {
      return fail(ErrorCode::kInvalidArgument, "reason needs a code and a known claim", label);
    }
  }
  return {};
}

json appraisalJson(const Appraisal& a) {
  json j = {{"ear.status", tierName(a.status)}};
  if (!a.vector.empty()) j["ear.trustworthiness-vector"] = a.vector.toJson();
  if (!a.policy_id.empty()) j["ear.appraisal-policy-id"] = a.policy_id;
  if (!a.reasons.empty()) {
    json reasons = json::object();
    for (const Reason& r : a.reasons) {
      reasons[r.claim].push_back({{"code", r.code}, {"detail", r.detail}});
    }
    j[std::string(kReasonsClaim)] = std::move(reasons);
  }
  return j;
}

const json* member(const json& obj, std::string_view name) {
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::string> stringMember(const json& obj, std::string_view name) {
  const json* v = member(obj, name);
  if (v == nullptr || !v->is_string()) {
    return fail(ErrorCode::kMalformed, "'" + std::string(name) + "' missing or not a string");
  }
  return v->get<std::string>();
}

Result<std::int64_t> timeMember(const json& obj, std::string_view name) {
  const json* v = member(obj, name);
  // RFC 9711 §4.3.1 / EAR: integer NumericDate only, no floating point.
  auto t = v ? jsonInt(*v, 0, INT64_MAX) : std::nullopt;
  if (!t) return fail(ErrorCode::kMalformed, "'" + std::string(name) + "' missing or not an integer date");
  return *t;
}

Result<std::vector<Reason>> reasonsFromJson(const json& j) {
  if (!j.is_object()) return fail(ErrorCode::kMalformed, "bulwark.reasons is not an object");
  std::vector<Reason> out;
  for (const auto& [claim, list] : j.items()) {
    if (!validReasonClaim(claim) || !list.is_array()) {
      return fail(ErrorCode::kMalformed, "bulwark.reasons entry '" + claim + "' is invalid");
    }
    for (const json& r : list) {
      if (!r.is_object()) return fail(ErrorCode::kMalformed, "reason is not an object");
      auto code = stringMember(r, "code");
      auto detail = stringMember(r, "detail");
      if (!code || !detail) return fail(ErrorCode::kMalformed, "reason needs code and detail");
      out.push_back({claim, *code, *detail});
    }
  }
  return out;
}

Result<Appraisal> appraisalFromJson(const std::string& label, const json& j) {
  if (!j.is_object()) return fail(ErrorCode::kMalformed, "submod is not an object", label);
  Appraisal a;
  auto status = stringMember(j, "ear.status");
  if (!status) return std::unexpected(status.error().within(label));
  auto tier = tierFromName(*status);
  if (!tier) return fail(ErrorCode::kMalformed, "unknown ear.status '" + *status + "'", label);
  a.status = *tier;
  if (const json* v = member(j, "ear.trustworthiness-vector")) {
    auto tv = TrustVector::fromJson(*v);
    if (!tv) return std::unexpected(tv.error().within(label));
    a.vector = *tv;
  }
  if (member(j, "ear.appraisal-policy-id")) {
    auto id = stringMember(j, "ear.appraisal-policy-id");
    if (!id) return std::unexpected(id.error().within(label));
    a.policy_id = *id;
  }
  if (const json* r = member(j, kReasonsClaim)) {
    auto reasons = reasonsFromJson(*r);
    if (!reasons) return std::unexpected(reasons.error().within(label));
    a.reasons = std::move(*reasons);
  }
  if (!statusConsistent(a.status, a.vector.worstTier())) {
    return fail(ErrorCode::kMalformed, "ear.status is more trusting than its vector", label);
  }
  return a;
}

Result<VerifierId> verifierIdFromJson(const json& claims) {
  const json* v = member(claims, "ear.verifier-id");
  if (v == nullptr || !v->is_object()) {
    return fail(ErrorCode::kMalformed, "'ear.verifier-id' missing or not an object");
  }
  auto developer = stringMember(*v, "developer");
  if (!developer) return std::unexpected(developer.error());
  auto build = stringMember(*v, "build");
  if (!build) return std::unexpected(build.error());
  return VerifierId{*developer, *build};
}

Result<std::map<std::string, Appraisal>> submodsFromJson(const json& claims) {
  const json* s = member(claims, "submods");
  if (s == nullptr || !s->is_object() || s->empty()) {
    return fail(ErrorCode::kMalformed, "'submods' missing, not an object, or empty");
  }
  std::map<std::string, Appraisal> out;
  for (const auto& [label, value] : s->items()) {
    auto a = appraisalFromJson(label, value);
    if (!a) return std::unexpected(a.error());
    out.emplace(label, std::move(*a));
  }
  return out;
}
}  // namespace

Result<json> earToJson(const Ear& ear) {
  if (ear.submods.empty()) return fail(ErrorCode::kInvalidArgument, "EAR needs at least one submod");
  if (ear.iat < 0 || ear.exp <= ear.iat) {
    return fail(ErrorCode::kInvalidArgument, "EAR exp must be after iat");
  }
  if (ear.verifier_id.developer.empty() || ear.verifier_id.build.empty()) {
    return fail(ErrorCode::kInvalidArgument, "EAR verifier-id needs developer and build");
  }
  if (ear.nonce && (ear.nonce->size() < kMinNonce || ear.nonce->size() > kMaxNonce)) {
    return fail(ErrorCode::kInvalidArgument, "eat_nonce must be 8..64 bytes");
  }
  json submods = json::object();
  for (const auto& [label, a] : ear.submods) {
    if (auto ok = checkAppraisal(label, a); !ok) return std::unexpected(ok.error());
    submods[label] = appraisalJson(a);
  }
  json j = {{"eat_profile", ear.profile},
            {"iat", ear.iat},
            {"exp", ear.exp},
            {"ear.verifier-id",
             {{"developer", ear.verifier_id.developer}, {"build", ear.verifier_id.build}}},
            {"submods", std::move(submods)}};
  if (ear.nonce) j["eat_nonce"] = base64urlEncode(*ear.nonce);
  return j;
}

Result<Ear> earFromJson(const json& claims) {
  if (!claims.is_object()) return fail(ErrorCode::kMalformed, "EAR claims-set is not an object");
  Ear ear;
  auto profile = stringMember(claims, "eat_profile");
  if (!profile) return std::unexpected(profile.error());
  ear.profile = *profile;
  auto iat = timeMember(claims, "iat");
  if (!iat) return std::unexpected(iat.error());
  auto exp = timeMember(claims, "exp");
  if (!exp) return std::unexpected(exp.error());
  ear.iat = *iat;
  ear.exp = *exp;
  auto vid = verifierIdFromJson(claims);
  if (!vid) return std::unexpected(vid.error());
  ear.verifier_id = *vid;
  auto submods = submodsFromJson(claims);
  if (!submods) return std::unexpected(submods.error());
  ear.submods = std::move(*submods);
  if (member(claims, "eat_nonce")) {
    auto text = stringMember(claims, "eat_nonce");
    if (!text) return std::unexpected(text.error());
    auto nonce = base64urlDecode(*text);
    if (!nonce || nonce->size() < kMinNonce || nonce->size() > kMaxNonce) {
      return fail(ErrorCode::kMalformed, "eat_nonce is not 8..64 base64url-encoded bytes");
    }
    ear.nonce = std::move(*nonce);
  }
  return ear;
}

}  // namespace bulwark::attest
