// Verifier-side TPM2_MakeCredential in software (TPM 2.0 Part 1 §24 "Credential
// Protection", Part 3 §12.6). Pure: the EK public area, the AK Name and a secret
// in; the two blobs the agent passes to TPM2_ActivateCredential out.
//
//   seed, encryptedSecret = secret sharing with the EK (Part 1 Annex B.10 RSA-OAEP,
//                           Annex C.6 ECDH + KDFe; see secret_share.h)
//   symKey     = KDFa(ekNameAlg, seed, "STORAGE", akName, "", ekSymKeyBits)   §24.4
//   encIdentity= AES-CFB(symKey, IV = 0, TPM2B_DIGEST(secret))                 §24.4
//   HMACkey    = KDFa(ekNameAlg, seed, "INTEGRITY", "", "", ekNameAlg bits)    §24.5
//   outerHMAC  = HMAC(ekNameAlg, HMACkey, encIdentity || akName)               §24.5
//   idObject   = TPM2B_ID_OBJECT{ TPM2B_DIGEST(outerHMAC) || encIdentity }     Part 2 §12.4.3
//
// Only the TPM holding the EK private key can recover the seed, and it releases
// the secret only when the AK it is asked to bind has exactly akName (the HMAC
// covers it), which is what binds the AK to the EK at enrollment.
#pragma once

#include <cstdint>

#include "attest/core/bytes.h"
#include "attest/credential/rng.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

struct Credential {
  Bytes id_object;         // marshalled TPM2B_ID_OBJECT (credentialBlob), size prefix included
  Bytes encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET (secret), size prefix included
};

// Errors (never a partial credential):
//   kInvalidArgument  ek is not a restricted decryption key with an AES symmetric
//                     definition; ak_name is not <2-byte hash alg id><digest of that
//                     size>; secret is empty or longer than the EK nameAlg digest
//                     (Part 3 §12.6: TPM_RC_SIZE)
//   kUnsupported      EK curve other than NIST P-256/P-384, EK nameAlg other than
//                     SHA-1/256/384/512
//   kMalformed        EK ECC point not on its curve
//   kCrypto           OpenSSL or the Rng failed
[[nodiscard]] Result<Credential> makeCredential(const TpmPublic& ek, ByteView ak_name,
                                                ByteView secret, Rng& rng);
// Same, randomness from OpenSSL (RAND_bytes).
[[nodiscard]] Result<Credential> makeCredential(const TpmPublic& ek, ByteView ak_name,
                                                ByteView secret);

// The protection half on its own (Part 1 §24.4-24.5): the TPM2B_ID_OBJECT for a
// given seed. Exposed for known-answer tests and for callers that share the seed
// themselves. sym_key_bits is the EK's AES key size (128/192/256).
[[nodiscard]] Result<Bytes> protectCredential(HashAlg ek_name_alg, std::uint16_t sym_key_bits,
                                              ByteView seed, ByteView ak_name, ByteView secret);

// Checks a TPM Name of an object: 2-byte nameAlg (a hash we know) || digest of
// exactly that hash's size (Part 1 §16). kInvalidArgument otherwise.
[[nodiscard]] Result<HashAlg> checkObjectName(ByteView name);

// The file format tpm2-tools uses for credentials (`tpm2_makecredential -o`,
// `tpm2_activatecredential -i`): big-endian 0xBADCC0DE magic, big-endian version 1,
// then TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET, each with its 2-byte size.
Bytes toTpm2ToolsCredentialFile(const Credential& credential);
// kMalformed on a wrong magic/version, truncation or trailing bytes.
[[nodiscard]] Result<Credential> parseTpm2ToolsCredentialFile(ByteView file);

}  // namespace bulwark::attest
