// Key templates: the TCG default EK templates (TCG EK Credential Profile for TPM
// Family 2.0, Level 0, Version 2.5, Annex B: L-1, L-2 and the high-range H-3) and
// the restricted signing AK template tpm2_createak uses. Pure data; no TPM access.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include "attest/core/bytes.h"
#include "attest/tpm/tpm.h"

namespace bulwark::attest {

// PolicyA_SHA256 = PolicySecret(TPM_RH_ENDORSEMENT) with an empty policyRef
// (EK Credential Profile 2.5, Annex B): the authPolicy of templates L-1 and L-2.
Bytes ekPolicyASha256();
// PolicyB_SHA384 = PolicyOR(PolicyA_SHA384, PolicyC_SHA384) (Annex B): the authPolicy
// of H-3. H templates also set userWithAuth, so the EK's USER role is reachable with
// its (empty) authValue; PolicyB is needed only for the ADMIN role.
Bytes ekPolicyBSha384();

// TPM2_PolicySecret digest update (Part 3 §23.4) for an entity with an empty
// policyRef, starting from the all-zero digest: H(H(0…0 || TPM_CC_PolicySecret ||
// entity_name) || "" ). Lets tests recompute PolicyA rather than trust a constant.
Bytes policySecretDigest(HashAlg alg, ByteView entity_name);

TPM2B_PUBLIC ekTemplate(EkType type);
TPM2B_PUBLIC akTemplate(AkType type);

// The AK attributes: fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth |
// restricted | sign (Part 2 §8.3.2).
inline constexpr TPMA_OBJECT kAkAttributes =
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;

}  // namespace bulwark::attest
