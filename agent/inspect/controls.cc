#include "agent/inspect/controls.h"

#include <regex>
#include <set>

#include "agent/inspect/json_fields.h"
#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

using nlohmann::json;

const JsonFields kFields("controls catalog");

Result<ControlRefs> parseRefs(const json& c, const std::string& where) {
  auto it = c.find("refs");
  if (it == c.end()) return kFields.invalid(where, "missing key 'refs'");
  const std::string path = where + ".refs";
  if (!it->is_object()) return kFields.invalid(path, "must be an object");
  if (auto ok = kFields.onlyKnownKeys(*it, {"cis_docker", "nist_800_190", "pss"}, path); !ok) {
    return std::unexpected(ok.error());
  }
  static const std::regex kSection(R"(^[0-9]+(\.[0-9]+)+$)");
  static const std::regex kPss(R"(^(baseline|restricted):.+$)");
  ControlRefs refs;
  auto nist = kFields.string(*it, "nist_800_190", path);
  auto cis = kFields.string(*it, "cis_docker", path, false);
  auto pss = kFields.string(*it, "pss", path, false);
  if (!nist) return std::unexpected(nist.error());
  if (!cis) return std::unexpected(cis.error());
  if (!pss) return std::unexpected(pss.error());
  if (!std::regex_match(*nist, kSection)) {
    return kFields.invalid(path + ".nist_800_190", "must be a section number like 4.4.3");
  }
  if (!cis->empty() && !std::regex_match(*cis, kSection)) {
    return kFields.invalid(path + ".cis_docker", "must be a recommendation number like 5.15");
  }
  if (!pss->empty() && !std::regex_match(*pss, kPss)) {
    return kFields.invalid(path + ".pss", "must be 'baseline:<field>' or 'restricted:<field>'");
  }
  refs.nist_800_190 = std::move(*nist);
  refs.cis_docker = std::move(*cis);
  refs.pss = std::move(*pss);
  return refs;
}

Result<void> parseOverrides(const json& c, const std::string& where, ControlInfo& info) {
  auto it = c.find("severity_by_parameter");
  if (it == c.end()) return {};
  const std::string path = where + ".severity_by_parameter";
  if (!info.parameterized) return kFields.invalid(path, "only parameterized controls have it");
  if (!it->is_object()) return kFields.invalid(path, "must be an object");
  for (const auto& [param, sev] : it->items()) {
    if (!sev.is_string() || severityRank(sev.get<std::string>()) < 0) {
      return kFields.invalid(strCat(path, ".", param), "must be low, medium, high or critical");
    }
    info.severity_by_parameter[param] = sev.get<std::string>();
  }
  return {};
}

Result<ControlInfo> parseControl(const json& c, const std::string& where) {
  if (!c.is_object()) return kFields.invalid(where, "must be an object");
  if (auto ok = kFields.onlyKnownKeys(
          c, {"id", "parameterized", "severity", "severity_by_parameter", "title", "refs"}, where);
      !ok) {
    return std::unexpected(ok.error());
  }
  ControlInfo info;
  auto id = kFields.string(c, "id", where);
  if (!id) return std::unexpected(id.error());
  static const std::regex kId(R"(^[a-z0-9]+(-[a-z0-9]+)*$)");
  if (!std::regex_match(*id, kId)) {
    return kFields.invalid(where + ".id",
                           strCat("'", *id, "' must be lower-case words joined by '-'"));
  }
  auto param = kFields.boolean(c, "parameterized", where, false);
  auto severity = kFields.severity(c, "severity", where);
  auto title = kFields.string(c, "title", where);
  if (!param) return std::unexpected(param.error());
  if (!severity) return std::unexpected(severity.error());
  if (!title) return std::unexpected(title.error());
  info.id = std::move(*id);
  info.parameterized = *param;
  info.severity = std::move(*severity);
  info.title = std::move(*title);
  if (auto ok = parseOverrides(c, where, info); !ok) return std::unexpected(ok.error());
  auto refs = parseRefs(c, where);
  if (!refs) return std::unexpected(refs.error());
  info.refs = std::move(*refs);
  return info;
}

}  // namespace

const std::vector<std::string>& emittedControlIds() {
  static const std::vector<std::string> kIds = {"host-pid-namespace",   "host-network-namespace",
                                                "host-ipc-namespace",   "host-uts-namespace",
                                                "host-mount-namespace", "host-cgroup-namespace",
                                                "root-without-userns",  "seccomp-disabled",
                                                "seccomp-allows",       "capability",
                                                "privileged",           "no-new-privileges-off",
                                                "lsm-unconfined",       "rootfs-writable",
                                                "sensitive-mount",      "no-memory-limit",
                                                "no-pids-limit",        "inspection-incomplete"};
  return kIds;
}

std::pair<std::string_view, std::string_view> splitControl(std::string_view control) {
  const std::size_t colon = control.find(':');
  if (colon == std::string_view::npos) return {control, {}};
  return {control.substr(0, colon), control.substr(colon + 1)};
}

Result<ControlCatalog> ControlCatalog::parse(std::string_view json_text) {
  auto doc = kFields.parseObject(json_text);
  if (!doc) return std::unexpected(doc.error());
  if (auto ok = kFields.onlyKnownKeys(
          *doc, {"$schema", "kind", "version", "description", "controls"}, "$");
      !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = kFields.header(*doc, kControlsKind, kControlsVersion); !ok) {
    return std::unexpected(ok.error());
  }
  auto list = doc->find("controls");
  if (list == doc->end()) return kFields.invalid("$", "missing key 'controls'");
  if (!list->is_array() || list->empty())
    return kFields.invalid("$.controls", "must be a non-empty array");
  ControlCatalog catalog;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string where = strCat("$.controls[", i, "]");
    auto info = parseControl((*list)[i], where);
    if (!info) return std::unexpected(info.error());
    if (!seen.insert(info->id).second) {
      return kFields.invalid(where + ".id", strCat("'", info->id, "' is listed twice"));
    }
    catalog.controls_.push_back(std::move(*info));
  }
  for (const std::string& id : emittedControlIds()) {
    if (!seen.count(id)) {
      return kFields.invalid("$.controls",
                             strCat("control '", id, "' is missing (the agent emits it)"));
    }
  }
  return catalog;
}

Result<ControlCatalog> ControlCatalog::load(const std::string& path) {
  auto text = JsonFields::readText(path);
  if (!text) return std::unexpected(text.error());
  auto parsed = parse(*text);
  if (!parsed) {
    Error e = parsed.error();
    e.within(path);
    return std::unexpected(std::move(e));
  }
  return parsed;
}

const ControlInfo* ControlCatalog::find(std::string_view control) const {
  const auto [id, param] = splitControl(control);
  for (const ControlInfo& c : controls_) {
    if (c.id == id && c.parameterized == !param.empty()) return &c;
  }
  return nullptr;
}

std::string ControlCatalog::severityOf(std::string_view control) const {
  const ControlInfo* c = find(control);
  if (c == nullptr) return "high";
  const auto [id, param] = splitControl(control);
  if (auto it = c->severity_by_parameter.find(std::string(param));
      it != c->severity_by_parameter.end()) {
    return it->second;
  }
  return c->severity;
}

std::vector<std::string> ControlCatalog::refsOf(std::string_view control) const {
  std::vector<std::string> out;
  const ControlInfo* c = find(control);
  if (c == nullptr) return out;
  if (!c->refs.cis_docker.empty()) out.push_back("CIS-Docker-1.6:" + c->refs.cis_docker);
  out.push_back("NIST-800-190:" + c->refs.nist_800_190);
  if (!c->refs.pss.empty()) out.push_back("PSS:" + c->refs.pss);
  return out;
}

}  // namespace bulwark::agent
