#include "server/report/bundle.h"

#include <map>
#include <optional>

#include "attest/core/digest.h"
#include "attest/ear/base64url.h"
#include "attest/ear/ear.h"
#include "attest/ear/es256.h"
#include "attest/ear/jwk.h"
#include "server/report/bundle_expect.h"
#include "server/report/report_model.h"

namespace bulwark::server::report {

namespace {
using nlohmann::json;

std::string protectedHeader(const std::string& kid) {
  return attest::base64urlEncode(
      canonicalJson({{"alg", "ES256"}, {"kid", kid}, {"typ", kBundleJwsType}}));
}

std::string signingInput(std::string_view protected_b64, const json& content) {
  return std::string(protected_b64) + "." + attest::base64urlEncode(canonicalJson(content));
}

json attestationJson(const BundleAttestation& a) {
  return {{"node", a.node},
          {"appraisal_id", a.appraisal_id},
          {"ear", a.ear},
          {"ear_sha256", earDigest(a.ear)},
          {"evidence_sha256", toHex(a.evidence_digest)},
          {"policy_version", a.policy_version}};
}

using KeyMap = std::map<std::string, attest::EvpPkeyPtr>;

Result<KeyMap> keysOf(const json& jwks) {
  KeyMap keys;
  const json* list = member(jwks, "keys");
  if (list && list->is_array()) {
    for (const json& jwk : *list) {
      auto key = attest::publicKeyFromJwk(jwk);
      auto kid = attest::jwkThumbprint(jwk);
      if (key && kid) keys.emplace(*kid, std::move(*key));
    }
  }
  if (keys.empty()) return fail(ErrorCode::kInvalidArgument, "JWKS holds no usable P-256 key");
  return keys;
}

// The detached JWS "<protected>..<signature>" over the canonical content.
void checkSignature(const json& doc, const KeyMap& keys, std::vector<std::string>& reasons) {
  const json* sig = member(doc, "signature");
  const json* content = member(doc, "content");
  if (!sig || !sig->is_string() || !content || !content->is_object()) {
    reasons.push_back("bundle-malformed: content object and signature string required");
    return;
  }
  const std::string& jws = sig->get_ref<const std::string&>();
  std::size_t dot = jws.find("..");
  if (dot == std::string::npos || jws.find('.', dot + 2) != std::string::npos) {
    reasons.push_back("bundle-signature-invalid: not a detached JWS (<protected>..<signature>)");
    return;
  }
  std::string_view protected_b64 = std::string_view(jws).substr(0, dot);
  auto header_bytes = attest::base64urlDecode(protected_b64);
  auto signature = attest::base64urlDecode(std::string_view(jws).substr(dot + 2));
  json header = header_bytes
                    ? json::parse(header_bytes->begin(), header_bytes->end(), nullptr, false)
                    : json();
  if (!signature || !header.is_object()) {
    reasons.push_back("bundle-signature-invalid: protected header or signature does not decode");
    return;
  }
  const json* alg = member(header, "alg");
  const json* kid = member(header, "kid");
  const json* typ = member(header, "typ");
  if (!alg || *alg != "ES256" || header.contains("crit") || !typ || *typ != kBundleJwsType) {
    reasons.push_back("bundle-signature-invalid: protected header must be ES256, typ " +
                      std::string(kBundleJwsType) + ", no crit");
    return;
  }
  auto key = kid && kid->is_string() ? keys.find(kid->get<std::string>()) : keys.end();
  if (key == keys.end()) {
    reasons.push_back("bundle-key-unknown: the signing key (kid) is not in the JWKS");
    return;
  }
  if (!attest::es256Verify(key->second.get(), asBytes(signingInput(protected_b64, *content)),
                           *signature)) {
    reasons.push_back("bundle-signature-invalid: ES256 signature does not verify");
  }
}
}  // namespace

std::string canonicalJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> makeBundle(const json& report,
                               const std::vector<BundleAttestation>& attestations, EVP_PKEY* key) {
  const json* kind = member(report, "kind");
  bool node = kind && *kind == kNodeReportKind;
  if (!node && !(kind && *kind == kFleetReportKind)) {
    return fail(ErrorCode::kInvalidArgument, "bundle: not a node or fleet report");
  }
  json list = json::array();
  for (const BundleAttestation& a : attestations) list.push_back(attestationJson(a));
  json content = {{"scope", node ? "node" : "fleet"},
                  {"node", node ? report["node"]["name"] : json(nullptr)},
                  {"generated_at_unix_ms", report.value("generated_at_unix_ms", Millis{0})},
                  {"policy_version", report.value("policy_version", std::int64_t{0})},
                  {"report", report},
                  {"attestations", std::move(list)}};
  return signBundleContent(content, key);
}

Result<std::string> signBundleContent(const json& content, EVP_PKEY* key) {
  auto jwk = attest::publicJwk(key);
  if (!jwk) return std::unexpected(jwk.error());
  std::string protected_b64 = protectedHeader((*jwk)["kid"].get<std::string>());
  auto sig = attest::es256Sign(key, asBytes(signingInput(protected_b64, content)));
  if (!sig) return std::unexpected(sig.error());
  json doc = {{"format", kBundleFormat},
              {"version", kBundleVersion},
              {"content", content},
              {"signature", protected_b64 + ".." + attest::base64urlEncode(*sig)}};
  return canonicalJson(doc) + "\n";
}

Result<BundleCheck> verifyBundle(std::string_view file, const json& jwks) {
  auto keys = keysOf(jwks);
  if (!keys) return std::unexpected(keys.error());
  BundleCheck check;
  if (file.size() > kMaxBundleBytes) {
    check.reasons.push_back("bundle-malformed: larger than " + std::to_string(kMaxBundleBytes));
    return check;
  }
  // Parsing is iterative but serialising is recursive: nesting deeper than
  // kMaxBundleDepth is refused in the parse itself (the callback's depth is 0 at the top).
  bool too_deep = false;
  auto depth_limit = [&too_deep](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || static_cast<std::size_t>(depth) >= kMaxBundleDepth;
    return !too_deep;
  };
  json doc = json::parse(file, depth_limit, false);
  if (too_deep) {
    check.reasons.push_back("bundle-malformed: nested deeper than " +
                            std::to_string(kMaxBundleDepth));
    return check;
  }
  if (!doc.is_object()) {
    check.reasons.push_back("bundle-malformed: not a JSON object");
    return check;
  }
  if (canonicalJson(doc) + "\n" != file) {
    check.reasons.push_back(
        "bundle-not-canonical: the file is not the canonical JSON it was signed as");
  }
  const json* format = member(doc, "format");
  const json* version = member(doc, "version");
  if (!format || *format != kBundleFormat || !version || *version != kBundleVersion) {
    check.reasons.push_back("bundle-format: not a bulwark.report-bundle version 1");
    return check;
  }
  checkSignature(doc, *keys, check.reasons);
  if (const json* content = member(doc, "content"); content && content->is_object()) {
    check.content = *content;
    checkAttestations(
        *content,
        [&](std::string_view token, const attest::EarVerifyOptions& o) {
          std::optional<attest::EarRejected> first;
          for (const auto& [kid, key] : *keys) {
            auto ear = attest::verifyEar(token, key.get(), o);
            if (ear) return std::expected<attest::Ear, attest::EarRejected>(std::move(*ear));
            if (!first || ear.error().reason != attest::EarRejection::kKeyMismatch)
              first = ear.error();
          }
          return std::expected<attest::Ear, attest::EarRejected>(std::unexpected(*first));
        },
        check.reasons);
  }
  return check;
}

}  // namespace bulwark::server::report
