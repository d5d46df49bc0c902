// Fuzz target: untrusted EK certificate bytes (DER, NV-padded DER, PEM) through
// parsing, CA-store loading and full chain validation, plus the tpm2-tools
// credential file reader. The input is also installed as a trust anchor so
// mutated certificates reach signature, validity, extension and key checks.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "attest/credential/make_credential.h"
#include "attest/ekcert/ek_cert.h"

namespace {

// A fixed P-256 EK public area (the known-answer EK of make_credential_test).
const bulwark::attest::TpmPublic& fixedEk() {
  static const bulwark::attest::TpmPublic ek = [] {
    bulwark::attest::TpmPublic p;
    p.type = bulwark::attest::KeyType::kEcc;
    p.curve = bulwark::attest::kEccNistP256;
    p.ecc_x = *bulwark::fromHex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6");
    p.ecc_y = *bulwark::fromHex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
    return p;
  }();
  return ek;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bulwark::attest;
  bulwark::ByteView in(data, size);
  auto when = std::chrono::system_clock::from_time_t(1893456000);  // 2030-01-01

  (void)inspectEkCertificate(in);
  (void)parseTpm2ToolsCredentialFile(in);

  CaStore empty;
  auto v = validateEkCertificate(in, fixedEk(), empty, when);
  // Invariant: with no anchors nothing can be trusted.
  if (v && v->trusted()) __builtin_trap();

  CaStore self;
  if (self.addTrusted(in)) {
    auto s = validateEkCertificate(in, fixedEk(), self, when);
    // Invariant: trust needs the certificate key to equal the fixed EK; no seed
    // carries that key (and a mutant cannot re-sign itself), so trust here would
    // mean the key check was bypassed.
    if (s && s->trusted()) __builtin_trap();
  }
  return 0;
}
