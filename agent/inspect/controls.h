// The control catalog (profiles/controls.json, schema profiles/schema/
// controls.schema.json): for every control id inspection emits, its default
// severity, a title and the references each finding cites. Keeping this in a
// data file lets a site re-rate a control without rebuilding the agent; the
// loader refuses a catalog that lacks any control the agent can emit.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

inline constexpr std::string_view kControlsKind = "bulwark.inspect.controls";
inline constexpr int kControlsVersion = 1;

struct ControlRefs {
  std::string cis_docker;    // CIS Docker Benchmark v1.6.0 recommendation, "5.15"
  std::string nist_800_190;  // NIST SP 800-190 section, "4.4.3"
  std::string pss;           // Pod Security Standards "level:field"
};

struct ControlInfo {
  std::string id;
  bool parameterized = false;
  std::string severity;
  std::map<std::string, std::string> severity_by_parameter;
  std::string title;
  ControlRefs refs;
};

// Every control id inspection can emit (parameterized ones without ":<param>").
const std::vector<std::string>& emittedControlIds();

class ControlCatalog {
 public:
  // Parses and validates a catalog. kMalformed names the JSON path: invalid
  // JSON, unknown/missing keys, wrong types, bad severities, duplicate ids,
  // severity_by_parameter on a plain control, or a control of
  // emittedControlIds() that is missing.
  [[nodiscard]] static Result<ControlCatalog> parse(std::string_view json_text);
  [[nodiscard]] static Result<ControlCatalog> load(const std::string& path);

  // The control of "<id>" or "<id>:<parameter>"; nullptr when unknown.
  const ControlInfo* find(std::string_view control) const;
  // Severity for a full control id ("capability:CAP_SYS_ADMIN"), using the
  // per-parameter override when there is one; "high" for an unknown control
  // (fail towards attention, never silence).
  std::string severityOf(std::string_view control) const;
  // "CIS-Docker-1.6:5.15", "NIST-800-190:4.4.3", "PSS:baseline:spec.hostPID"
  // (the form bulwark.v1.Finding.refs documents).
  std::vector<std::string> refsOf(std::string_view control) const;

  const std::vector<ControlInfo>& controls() const { return controls_; }

 private:
  std::vector<ControlInfo> controls_;
};

// Splits "capability:CAP_SYS_ADMIN" into {"capability", "CAP_SYS_ADMIN"}.
std::pair<std::string_view, std::string_view> splitControl(std::string_view control);

}  // namespace bulwark::agent
