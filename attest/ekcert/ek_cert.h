// EK certificate validation for enrollment (DESIGN §3, TCG EK Credential Profile
// for TPM Family 2.0). Pure: certificate bytes, the EK public area the agent sent,
// the CA store and the verification time in; a verdict out.
//
// An Error means the certificate could not be examined (not a certificate, a key
// type OpenSSL cannot decode); a verdict with reasons means it was examined and
// rejected. Only a verdict with no reasons is trusted.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/ekcert/ca_store.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

// Reason codes (stable; docs/enrollment.md explains each):
inline constexpr const char* kEkCertUntrustedIssuer = "ek-cert-untrusted-issuer";
inline constexpr const char* kEkCertExpired = "ek-cert-expired";
inline constexpr const char* kEkCertNotYetValid = "ek-cert-not-yet-valid";
inline constexpr const char* kEkCertKeyMismatch = "ek-cert-key-mismatch";
inline constexpr const char* kEkCertSignatureInvalid = "ek-cert-signature-invalid";
inline constexpr const char* kEkCertUnhandledCritical = "ek-cert-unhandled-critical-extension";
inline constexpr const char* kEkCertIssuerNotCa = "ek-cert-issuer-not-ca";
inline constexpr const char* kEkCertChainInvalid = "ek-cert-chain-invalid";

struct EkCertReason {
  std::string code;    // one of the constants above
  std::string detail;  // which certificate (depth, subject) and OpenSSL's words
};

// What the certificate says, for enrollment records and logs.
struct EkCertInfo {
  std::string subject;  // RFC 2253 form; often empty for EK certificates
  std::string issuer;
  std::string serial_hex;
  // Seconds precision: EK certificates commonly say notAfter 9999-12-31 (RFC 5280
  // §4.1.2.5 "no well-defined expiration"), beyond system_clock's nanosecond range.
  std::chrono::sys_seconds not_before{}, not_after{};
  // From the subjectAltName directoryName (TCG OIDs 2.23.133.2.1/.2/.3), if present.
  std::string tpm_manufacturer, tpm_model, tpm_version;
  std::vector<std::string> critical_extensions;  // OIDs in dotted form
};

struct EkCertVerdict {
  EkCertInfo info;
  std::vector<std::string> chain;  // subjects, EK certificate first, when a chain was built
  std::vector<EkCertReason> reasons;  // one per distinct code; empty only if trusted
  bool trusted() const { return reasons.empty(); }
  bool has(std::string_view code) const;
};

// Parses `cert` (DER, DER with NV padding, or PEM with exactly one certificate),
// builds and verifies its chain to an anchor in `store` at time `now` (signatures,
// validity periods, CA constraints and critical extensions per RFC 5280 via OpenSSL),
// and checks that the certificate's public key equals the EK public key.
// Errors: kMalformed (not one certificate), kUnsupported (certificate key OpenSSL
// cannot decode, e.g. the legacy id-RSAES-OAEP key OID), kCrypto.
[[nodiscard]] Result<EkCertVerdict> validateEkCertificate(ByteView cert, const TpmPublic& ek,
                                                          const CaStore& store,
                                                          std::chrono::system_clock::time_point now);

// Only the parsing half: the certificate's facts, no trust decision.
[[nodiscard]] Result<EkCertInfo> inspectEkCertificate(ByteView cert);

}  // namespace bulwark::attest
