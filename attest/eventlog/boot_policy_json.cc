// Boot policy from JSON (format: docs/boot-policy.md). Parsed without exceptions:
// nlohmann's non-throwing parse, and every value's type checked before it is read.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "attest/eventlog/boot_policy.h"

namespace bulwark::attest::eventlog {

namespace {

using nlohmann::json;

std::unexpected<Error> bad(const std::string& what) {
  return fail(ErrorCode::kInvalidArgument, what, "boot policy");
}

Result<std::set<std::string>> stringSet(const json& v, const std::string& key) {
  if (!v.is_array()) return bad(key + " must be an array of strings");
  std::set<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) return bad(key + " must be an array of strings");
    out.insert(s.get<std::string>());
  }
  return out;
}

Result<void> readCmdline(const json& v, BootPolicy& p) {
  if (!v.is_object()) return bad("kernel_cmdline must be an object");
  static const std::pair<const char*, CmdlineRule::Kind> kKinds[] = {
      {"require", CmdlineRule::Kind::kRequireSubstring},
      {"forbid", CmdlineRule::Kind::kForbidSubstring},
      {"require_regex", CmdlineRule::Kind::kRequireRegex},
      {"forbid_regex", CmdlineRule::Kind::kForbidRegex}};
  for (const auto& [key, value] : v.items()) {
    auto kind = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const auto& k) { return key == k.first; });
    if (kind == std::end(kKinds)) return bad("unknown key kernel_cmdline." + key);
    if (!value.is_array()) return bad("kernel_cmdline." + key + " must be an array of strings");
    for (const auto& s : value) {  // keep order: rules are reported in policy order
      if (!s.is_string()) return bad("kernel_cmdline." + key + " must be an array of strings");
      p.cmdline_rules.push_back({kind->second, s.get<std::string>()});
    }
  }
  return {};
}

Result<void> readVariables(const json& v, BootPolicy& p) {
  if (!v.is_object()) return bad("allowed_variables must be an object");
  for (const auto& [name, value] : v.items()) {
    if (name != "PK" && name != "KEK" && name != "db" && name != "dbx") {
      return bad("allowed_variables." + name + ": only PK, KEK, db, dbx");
    }
    auto set = stringSet(value, "allowed_variables." + name);
    if (!set) return std::unexpected(set.error());
    p.allowed_variables[name] = std::move(*set);
  }
  return {};
}

Result<void> readKey(const std::string& key, const json& value, BootPolicy& p) {
  if (key == "require_secure_boot" || key == "require_separators") {
    if (!value.is_boolean()) return bad(key + " must be true or false");
    (key == "require_secure_boot" ? p.require_secure_boot : p.require_separators) = value.get<bool>();
    return {};
  }
  if (key == "digest_alg") {
    auto alg = value.is_string() ? hashAlgFromName(value.get<std::string>()) : std::nullopt;
    if (!alg) return bad("digest_alg must be sha1, sha256, sha384 or sha512");
    p.digest_alg = *alg;
    return {};
  }
  if (key == "allowed_boot_applications" || key == "forbidden_digests") {
    auto set = stringSet(value, key);
    if (!set) return std::unexpected(set.error());
    if (key == "forbidden_digests") {
      p.forbidden_digests = std::move(*set);
    } else {
      p.allowed_boot_applications = std::move(*set);
    }
    return {};
  }
  if (key == "kernel_cmdline") return readCmdline(value, p);
  if (key == "allowed_variables") return readVariables(value, p);
  return bad("unknown key " + key);
}

}  // namespace

Result<BootPolicy> parseBootPolicyJson(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not valid JSON");
  if (!doc.is_object()) return bad("must be a JSON object");
  BootPolicy p;
  for (const auto& [key, value] : doc.items()) {
    if (auto ok = readKey(key, value, p); !ok) return std::unexpected(ok.error());
  }
  return p;
}

}  // namespace bulwark::attest::eventlog
