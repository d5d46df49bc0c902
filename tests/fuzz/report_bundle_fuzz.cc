// Fuzzes the offline bundle check (server/report/bundle.h) — what `bulwarkctl report
// verify` runs on a file an auditor was handed. Each input is checked as is, then its
// content (if it parses) is re-signed with the fixed key and checked again, so mutations
// also reach the EAR and report-consistency checks behind the bundle signature.
// Invariants: the check always answers (the JWKS is valid); an accepted file is exactly
// the canonical JSON of what it holds; nothing crashes or over-reads.
// Seeds: corpus/report_bundle_fuzz/*.json, made by make_seeds.py there (independent
// Python implementation, same fixed key).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "attest/ear/jwk.h"
#include "attest/ear/verifier_key.h"
#include "server/report/bundle.h"

namespace {
using nlohmann::json;

// Fixed, test-only P-256 key (also in corpus/report_bundle_fuzz/make_seeds.py).
constexpr std::string_view kFuzzKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFvR6tMzaIa85uIvA\n"
    "GhONElYvibJwePoolBYWKeOQXJWhRANCAATsjag2D/Eq6HHh6GVGwatgPpSO3nxD\n"
    "JxetUoiuz3+7BHh+dStxQoeHKeKND9j1MkV5Qqk+q2gZvg0+awqx/5kH\n"
    "-----END PRIVATE KEY-----\n";

EVP_PKEY* fuzzKey() {
  static bulwark::attest::EvpPkeyPtr key = [] {
    auto k = bulwark::attest::parsePrivateKeyPem(bulwark::asBytes(kFuzzKeyPem));
    if (!k) __builtin_trap();  // the embedded key is a fixed invariant
    return std::move(*k);
  }();
  return key.get();
}

const json& fuzzJwks() {
  static const json kJwks = bulwark::attest::jwks({*bulwark::attest::publicJwk(fuzzKey())});
  return kJwks;
}

// Returns false when the file was refused before parsing (too large or too deep).
bool check(std::string_view file) {
  auto r = bulwark::server::report::verifyBundle(file, fuzzJwks());
  if (!r) __builtin_trap();  // only an unusable JWKS is an error
  if (r->ok()) {
    json doc = json::parse(file, nullptr, false);
    if (!doc.is_object() || bulwark::server::report::canonicalJson(doc) + "\n" != file) {
      __builtin_trap();  // accepted bytes must be the canonical form
    }
  }
  for (const std::string& reason : r->reasons) {
    if (reason.starts_with("bundle-malformed: nested") ||
        reason.starts_with("bundle-malformed: larger")) {
      return false;
    }
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!check(text)) return 0;
  json doc = json::parse(text, nullptr, false);
  if (doc.is_object() && doc.contains("content")) {
    auto resigned = bulwark::server::report::signBundleContent(doc["content"], fuzzKey());
    if (resigned) check(*resigned);
  }
  return 0;
}
