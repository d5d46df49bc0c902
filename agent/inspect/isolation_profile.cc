#include "agent/inspect/isolation_profile.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <regex>

#include "agent/inspect/capabilities.h"
#include "agent/inspect/controls.h"
#include "agent/inspect/json_fields.h"
#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

using nlohmann::json;

const JsonFields kFields("isolation profile");
constexpr std::array<std::string_view, 6> kNamespaces = {"pid", "network", "ipc",
                                                         "uts", "mount",   "cgroup"};

bool matchesAny(const std::vector<std::string>& patterns, std::string_view value) {
  const std::string v(value);
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return fnmatch(p.c_str(), v.c_str(), 0) == 0; });
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Judgement accepted(std::string reason) { return Judgement{false, std::move(reason)}; }

// The profile rule a control falls under; a Judgement with violation=true when it applies.
Judgement judgeByRule(const IsolationProfile& p, std::string_view id, std::string_view param,
                      std::string_view severity) {
  const std::string why = strCat("profile '", p.name, "' ");
  if (id.starts_with("host-") && id.ends_with("-namespace")) {
    const std::string_view ns = id.substr(5, id.size() - 5 - 10);
    if (contains(p.allowed_host_namespaces, ns)) {
      return accepted(strCat(why, "allows the host ", ns, " namespace"));
    }
  } else if (id == "root-without-userns" && !p.run_as_non_root) {
    return accepted(why + "does not require runAsNonRoot");
  } else if (id == "seccomp-disabled" && !p.seccomp_required) {
    return accepted(why + "does not require seccomp");
  } else if (id == "seccomp-allows" &&
             severityRank(severity) < severityRank(p.seccomp_min_severity)) {
    return accepted(strCat(why, "reports seccomp-allows from severity ", p.seccomp_min_severity));
  } else if (id == "privileged" && p.allow_privileged) {
    return accepted(why + "allows privileged containers");
  } else if (id == "no-new-privileges-off" && !p.require_no_new_privileges) {
    return accepted(why + "does not require no_new_privs");
  } else if (id == "lsm-unconfined" && !p.require_lsm) {
    return accepted(why + "does not require an LSM label");
  } else if (id == "rootfs-writable" && !p.require_read_only_rootfs) {
    return accepted(why + "does not require a read-only root file system");
  } else if ((id == "no-memory-limit" || id == "no-pids-limit") && !p.require_resource_limits) {
    return accepted(why + "does not require cgroup limits");
  } else if (id == "sensitive-mount" && matchesAny(p.allowed_mounts, param)) {
    return accepted(strCat(why, "allows mounting ", param));
  } else if (id == "capability") {
    const auto bit = capabilityFromName(param);
    if (bit && ((p.allowed_capabilities >> *bit) & 1u)) {
      return accepted(strCat(why, "allows ", param));
    }
  }
  return Judgement{};
}

Result<void> parseSeccomp(const json& doc, IsolationProfile& p) {
  auto it = doc.find("seccomp");
  if (it == doc.end()) return kFields.invalid("$", "missing key 'seccomp'");
  if (!it->is_object()) return kFields.invalid("$.seccomp", "must be an object");
  if (auto ok = kFields.onlyKnownKeys(*it, {"required", "min_severity"}, "$.seccomp"); !ok) {
    return ok;
  }
  auto required = kFields.boolean(*it, "required", "$.seccomp");
  auto min = kFields.severity(*it, "min_severity", "$.seccomp");
  if (!required) return std::unexpected(required.error());
  if (!min) return std::unexpected(min.error());
  p.seccomp_required = *required;
  p.seccomp_min_severity = *min;
  return {};
}

Result<void> parseLists(const json& doc, IsolationProfile& p) {
  auto caps = kFields.strings(doc, "allowed_capabilities", "$");
  if (!caps) return std::unexpected(caps.error());
  for (std::size_t i = 0; i < caps->size(); ++i) {
    const std::string& name = (*caps)[i];
    const auto bit = capabilityFromName(name);
    if (!name.starts_with("CAP_") || !bit) {
      return kFields.invalid(strCat("$.allowed_capabilities[", i, "]"),
                             strCat("'", name, "' is not a Linux capability name"));
    }
    p.allowed_capabilities |= std::uint64_t{1} << *bit;
  }
  auto ns = kFields.strings(doc, "allowed_host_namespaces", "$");
  if (!ns) return std::unexpected(ns.error());
  for (std::size_t i = 0; i < ns->size(); ++i) {
    if (std::find(kNamespaces.begin(), kNamespaces.end(), (*ns)[i]) == kNamespaces.end()) {
      return kFields.invalid(
          strCat("$.allowed_host_namespaces[", i, "]"),
          strCat("'", (*ns)[i], "' is not pid, network, ipc, uts, mount or cgroup"));
    }
  }
  p.allowed_host_namespaces = std::move(*ns);
  auto mounts = kFields.strings(doc, "allowed_mounts", "$", false);
  auto accept = kFields.strings(doc, "accept", "$", false);
  if (!mounts) return std::unexpected(mounts.error());
  if (!accept) return std::unexpected(accept.error());
  p.allowed_mounts = std::move(*mounts);
  p.accept = std::move(*accept);
  return {};
}

Result<void> parseFlags(const json& doc, IsolationProfile& p) {
  const std::pair<const char*, bool*> flags[] = {
      {"allow_privileged", &p.allow_privileged},
      {"run_as_non_root", &p.run_as_non_root},
      {"require_no_new_privileges", &p.require_no_new_privileges},
      {"require_lsm", &p.require_lsm},
      {"require_read_only_rootfs", &p.require_read_only_rootfs},
      {"require_resource_limits", &p.require_resource_limits}};
  for (const auto& [key, target] : flags) {
    auto v = kFields.boolean(doc, key, "$");
    if (!v) return std::unexpected(v.error());
    *target = *v;
  }
  return {};
}

}  // namespace

Judgement judge(const IsolationProfile& profile, std::string_view control,
                std::string_view severity) {
  if (matchesAny(profile.accept, control)) {
    return accepted(strCat("profile '", profile.name, "' accepts ", control));
  }
  const auto [id, param] = splitControl(control);
  return judgeByRule(profile, id, param, severity);
}

Result<IsolationProfile> parseIsolationProfile(std::string_view json_text) {
  auto doc = kFields.parseObject(json_text);
  if (!doc) return std::unexpected(doc.error());
  if (auto ok = kFields.onlyKnownKeys(
          *doc,
          {"$schema", "kind", "version", "name", "description", "models", "allowed_capabilities",
           "allowed_host_namespaces", "allow_privileged", "seccomp", "run_as_non_root",
           "require_no_new_privileges", "require_lsm", "require_read_only_rootfs",
           "require_resource_limits", "allowed_mounts", "accept"},
          "$");
      !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = kFields.header(*doc, kIsolationProfileKind, kIsolationProfileVersion); !ok) {
    return std::unexpected(ok.error());
  }
  IsolationProfile p;
  auto name = kFields.string(*doc, "name", "$");
  auto description = kFields.string(*doc, "description", "$", false);
  auto models = kFields.string(*doc, "models", "$", false);
  if (!name) return std::unexpected(name.error());
  if (!description) return std::unexpected(description.error());
  if (!models) return std::unexpected(models.error());
  static const std::regex kName(R"(^[a-z0-9][a-z0-9._-]*$)");
  if (!std::regex_match(*name, kName)) {
    return kFields.invalid("$.name", strCat("'", *name, "' must match [a-z0-9][a-z0-9._-]*"));
  }
  p.name = std::move(*name);
  p.description = std::move(*description);
  p.models = std::move(*models);
  if (auto ok = parseLists(*doc, p); !ok) return std::unexpected(ok.error());
  if (auto ok = parseFlags(*doc, p); !ok) return std::unexpected(ok.error());
  if (auto ok = parseSeccomp(*doc, p); !ok) return std::unexpected(ok.error());
  return p;
}

Result<IsolationProfile> loadIsolationProfile(const std::string& path) {
  auto text = JsonFields::readText(path);
  if (!text) return std::unexpected(text.error());
  auto parsed = parseIsolationProfile(*text);
  if (!parsed) {
    Error e = parsed.error();
    e.within(path);
    return std::unexpected(std::move(e));
  }
  return parsed;
}

Result<IsolationProfile> resolveIsolationProfile(std::string_view name_or_path,
                                                 const std::string& profiles_dir) {
  if (name_or_path.find('/') != std::string_view::npos || name_or_path.ends_with(".json")) {
    return loadIsolationProfile(std::string(name_or_path));
  }
  static const std::regex kName(R"(^[a-z0-9][a-z0-9._-]*$)");
  if (!std::regex_match(std::string(name_or_path), kName)) {
    return fail(ErrorCode::kInvalidArgument,
                strCat("'", name_or_path, "' is not a profile name (baseline, restricted, ...)"),
                "--profile");
  }
  return loadIsolationProfile(strCat(profiles_dir, "/isolation/", name_or_path, ".json"));
}

}  // namespace bulwark::agent
