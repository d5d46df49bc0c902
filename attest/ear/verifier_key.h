// The verifier's EAR signing key: a P-256 private key in a PEM file (PKCS#8),
// created with mode 0600 on first start when absent. Loading refuses keys on
// other curves and files readable by group or others, like ssh does for its
// private keys, because the key vouches for every node's trust verdict.
#pragma once

#include <string>

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

Result<EvpPkeyPtr> generateP256Key();

// PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") of a private key.
Result<std::string> privateKeyPem(EVP_PKEY* key);

// Parses a PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY"); must be P-256.
Result<EvpPkeyPtr> parsePrivateKeyPem(ByteView pem);

struct LoadedKey {
  EvpPkeyPtr key;
  bool created = false;  // true when this call generated and wrote the file
};

// Loads the key at `path`, or creates it (P-256, mode 0600, O_EXCL so two
// verifier replicas starting at once cannot overwrite each other's key) when
// the file does not exist. The parent directory must exist.
Result<LoadedKey> loadOrCreateVerifierKey(const std::string& path);

}  // namespace bulwark::attest
