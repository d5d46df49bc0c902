#include "server/report/controls.h"

#include <nlohmann/json.hpp>

namespace bulwark::server::report {

namespace {
using nlohmann::json;

// One control per AR4SI claim the pipeline sets (server/appraisal/verdict.cc claimRules).
// NIST SP 800-190 §4.6 is "Hardware countermeasures" (TPM-rooted measured boot and
// attestation); the other sections are the countermeasures of the risk each claim covers.
std::vector<Control> attestationControls() {
  auto make = [](std::string claim, std::string title, std::string nist, std::string cis) {
    Control c;
    c.id = "attestation:" + claim;
    c.title = std::move(title);
    c.severity = "critical";
    c.source = ControlSource::kAttestation;
    c.claim = std::move(claim);
    c.refs.nist_800_190 = std::move(nist);
    c.refs.cis_docker = std::move(cis);
    return c;
  };
  return {
      make("instance-identity",
           "evidence quoted by the node's activated TPM attestation key with a fresh nonce", "4.6",
           ""),
      make("hardware", "genuine TPM (EK certificate chain to a trusted vendor CA)", "4.6", ""),
      make("executables",
           "boot chain and container runtime binaries match approved reference values",
           "4.4.1, 4.6", ""),
      make("file-system", "measured host files match approved reference values", "4.5.5, 4.6", ""),
      make("configuration", "host configuration and container isolation within the node's profile",
           "4.4.3, 4.5.1", ""),
      make("sourced-data", "every running container image is allowed by the image rules", "4.1.5",
           "4.2"),
  };
}

std::string text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<Control> parseOne(const json& c, std::size_t index) {
  std::string where = "controls[" + std::to_string(index) + "]";
  if (!c.is_object()) return fail(ErrorCode::kMalformed, where + ": not an object");
  Control out;
  out.id = text(c, "id");
  out.title = text(c, "title");
  out.severity = text(c, "severity");
  if (out.id.empty()) return fail(ErrorCode::kMalformed, where + ".id: missing");
  auto refs = c.find("refs");
  if (refs == c.end() || !refs->is_object()) {
    return fail(ErrorCode::kMalformed, where + ".refs: missing");
  }
  out.refs = {text(*refs, "nist_800_190"), text(*refs, "cis_docker"), text(*refs, "pss")};
  if (out.refs.nist_800_190.empty()) {
    return fail(ErrorCode::kMalformed, where + ".refs.nist_800_190: missing");
  }
  return out;
}
}  // namespace

Result<std::vector<Control>> parseIsolationControls(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (!doc.is_object()) return fail(ErrorCode::kMalformed, "controls: not a JSON object");
  if (text(doc, "kind") != "bulwark.inspect.controls") {
    return fail(ErrorCode::kMalformed, "controls.kind: not bulwark.inspect.controls");
  }
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || *version != 1) {
    return fail(ErrorCode::kUnsupported, "controls.version: only version 1 is supported");
  }
  auto list = doc.find("controls");
  if (list == doc.end() || !list->is_array()) {
    return fail(ErrorCode::kMalformed, "controls.controls: missing");
  }
  std::vector<Control> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto c = parseOne((*list)[i], i);
    if (!c) return std::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  return out;
}

const std::vector<Control>& reportControls() {
  static const std::vector<Control> kAll = [] {
    std::vector<Control> all = attestationControls();
    auto isolation = parseIsolationControls(embeddedControlsJson());
    if (isolation) all.insert(all.end(), isolation->begin(), isolation->end());
    return all;
  }();
  return kAll;
}

std::string_view baseControlId(std::string_view control) {
  return control.substr(0, control.find(':'));
}

}  // namespace bulwark::server::report
