// The verifier chooses the PCR bank and selection the agent quotes (DESIGN §3:
// "the verifier decides the PCR bank (no downgrade)"). The agent checks the
// choice before using it: a known bank other than SHA-1, PCR indices 0..23,
// strictly ascending, at least one.
#pragma once

#include <google/protobuf/repeated_field.h>

#include "agent/enroll/enrollment_state.h"
#include "attest/quote/pcr_selection.h"

namespace bulwark::agent {

[[nodiscard]] Result<attest::PcrSelection> pcrSelectionFor(const PcrChoice& choice);

// From the wire fields; validated like pcrSelectionFor.
[[nodiscard]] Result<PcrChoice> pcrChoiceFrom(
    const std::string& bank, const google::protobuf::RepeatedField<std::uint32_t>& selection);

}  // namespace bulwark::agent
