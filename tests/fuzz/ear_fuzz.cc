// Fuzzes everything in attest/ear that reads untrusted bytes: compact-JWS
// verification (header, signature, claims), the claims-set parser directly
// (mutations rarely survive the signature, so the payload is also parsed on
// its own), base64url and JWK import/thumbprint.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "attest/ear/base64url.h"
#include "attest/ear/ear.h"
#include "attest/ear/jwk.h"
#include "attest/ear/verifier_key.h"

namespace {
// A fixed test-only P-256 key, so corpus seeds signed with it verify.
constexpr std::string_view kFuzzKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgns/aeKqVgw8RCwdp\n"
    "kCGXlimZZfwYxBWoJJ9SuKgLHX6hRANCAATzR0UKSU2vpwk5ltxdrjblxuvA5ywn\n"
    "eM88c2nBaPAudgYAMxRbEEFIUBlccvvl2l+xEvFtHL7y5OoTOxLSloff\n"
    "-----END PRIVATE KEY-----\n";

EVP_PKEY* fuzzKey() {
  static bulwark::attest::EvpPkeyPtr key = [] {
    auto k = bulwark::attest::parsePrivateKeyPem(bulwark::asBytes(kFuzzKeyPem));
    if (!k) __builtin_trap();  // the embedded key is a fixed invariant
    return std::move(*k);
  }();
  return key.get();
}

void parsePayload(std::string_view token) {
  auto a = token.find('.');
  if (a == std::string_view::npos) return;
  auto b = token.find('.', a + 1);
  auto len = b == std::string_view::npos ? std::string_view::npos : b - a - 1;
  auto payload = bulwark::attest::base64urlDecode(token.substr(a + 1, len));
  if (!payload) return;
  auto j = nlohmann::json::parse(payload->begin(), payload->end(), nullptr, false);
  if (j.is_discarded()) return;
  auto ear = bulwark::attest::earFromJson(j);
  if (ear) (void)bulwark::attest::earToJson(*ear);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto verdict = bulwark::attest::verifyEar(text, fuzzKey(), {.now = 1'700'000'100});
  if (verdict) (void)bulwark::attest::earToJson(*verdict);
  parsePayload(text);
  (void)bulwark::attest::base64urlDecode(text);
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_discarded()) {
    (void)bulwark::attest::jwkThumbprint(j);
    (void)bulwark::attest::publicKeyFromJwk(j);
    (void)bulwark::attest::earFromJson(j);
  }
  return 0;
}
