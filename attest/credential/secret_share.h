// Secret sharing with a TPM decryption key: the verifier picks a seed that only
// the TPM holding the EK private key can recover (TPM 2.0 Part 1 Annex B.10 for
// RSA, Annex C.6 for ECC; label "IDENTITY" for credentials, Part 1 §24.3).
#pragma once

#include <string_view>

#include "attest/core/bytes.h"
#include "attest/credential/rng.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

struct SharedSeed {
  Bytes seed;              // digest-size of the key's nameAlg; secret
  Bytes encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET for the TPM
};

// RSA: seed = Rng(digestSize(nameAlg)); encrypted = RSA-OAEP(nameAlg, MGF1(nameAlg),
//      label = use || 0x00) of the seed (Part 1 Annex B.10).
// ECC: ephemeral d from the Rng on the key's curve, Qe = d·G, Z = x(d·Qs),
//      seed = KDFe(nameAlg, Z, use, Qe.x, Qs.x, digestBits); encrypted =
//      TPMS_ECC_POINT(Qe) (Part 1 Annex C.6, KDFe §11.4.10.3).
// `use` is the label without its terminating NUL ("IDENTITY" for credentials).
// The RSA ciphertext also consumes OpenSSL's RNG (OAEP padding), so only the seed,
// not the ciphertext, is reproducible from the injected Rng.
[[nodiscard]] Result<SharedSeed> shareSeed(const TpmPublic& key, std::string_view use, Rng& rng);

}  // namespace bulwark::attest
