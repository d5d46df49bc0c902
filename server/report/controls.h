// Controls a compliance report judges a node on (DESIGN §8): the container isolation
// controls of profiles/controls.json (compiled in, so every control the agent can report
// carries its CIS Docker Benchmark / NIST SP 800-190 / PSS references) and the host
// attestation controls, one per AR4SI claim the appraisal pipeline sets
// (draft-ietf-rats-ar4si §2.3), mapped to NIST SP 800-190 countermeasures.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::server::report {

struct ControlRefs {
  std::string nist_800_190;  // section, "4.4.3"
  std::string cis_docker;    // CIS Docker Benchmark v1.6.0 recommendation, "5.15"; "" = none
  std::string pss;           // Pod Security Standards "level:field"; "" = none
};

enum class ControlSource { kAttestation, kIsolation };

struct Control {
  std::string id;     // "host-pid-namespace", "attestation:executables"
  std::string title;  // one line
  std::string severity;
  ControlSource source = ControlSource::kIsolation;
  std::string claim;  // attestation controls: the AR4SI claim name
  ControlRefs refs;
};

// The text of profiles/controls.json as built (controls_data.cc, generated).
std::string_view embeddedControlsJson();

// Parses a controls.json document (kind bulwark.inspect.controls, version 1); only what
// reports need is read. kMalformed naming the field otherwise.
[[nodiscard]] Result<std::vector<Control>> parseIsolationControls(std::string_view json_text);

// Attestation controls (fixed) followed by the isolation controls of the embedded
// catalog. Parsed once; the build's own JSON always parses (tests/unit/report checks).
const std::vector<Control>& reportControls();

// "capability:CAP_SYS_ADMIN" → "capability".
std::string_view baseControlId(std::string_view control);

}  // namespace bulwark::server::report
