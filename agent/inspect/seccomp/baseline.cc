#include "agent/inspect/seccomp/baseline.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/inspect/seccomp/str_util.h"
#include "attest/core/bytes.h"

namespace bulwark::agent {
namespace {

using nlohmann::json;

constexpr std::array kTopKeys = {"$schema",     "kind", "version", "name",
                                 "description", "refs", "deny"};
constexpr std::array kEntryKeys = {"syscall", "severity", "reason"};
constexpr std::array kSeverities = {"low", "medium", "high", "critical"};

std::unexpected<Error> invalid(const std::string& where, const std::string& why) {
  return fail(ErrorCode::kMalformed, strCat(where, ": ", why), "seccomp baseline");
}

template <std::size_t N>
Result<void> onlyKnownKeys(const json& obj, const std::array<const char*, N>& known,
                           const std::string& where) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find_if(known.begin(), known.end(), [&](const char* k) { return key == k; }) ==
        known.end()) {
      return invalid(where, strCat("unknown key '", key, "'"));
    }
  }
  return {};
}

Result<std::string> requireString(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return invalid(where, strCat("missing key '", key, "'"));
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return invalid(strCat(where, ".", key), "must be a non-empty string");
  }
  return it->get<std::string>();
}

Result<BaselineEntry> parseEntry(const json& e, const std::string& where,
                                 const SyscallTable& table) {
  if (!e.is_object()) return invalid(where, "must be an object");
  if (auto ok = onlyKnownKeys(e, kEntryKeys, where); !ok) return std::unexpected(ok.error());
  BaselineEntry entry;
  auto syscall = requireString(e, "syscall", where);
  if (!syscall) return std::unexpected(syscall.error());
  auto severity = requireString(e, "severity", where);
  if (!severity) return std::unexpected(severity.error());
  auto reason = requireString(e, "reason", where);
  if (!reason) return std::unexpected(reason.error());
  if (std::find(kSeverities.begin(), kSeverities.end(), *severity) == kSeverities.end()) {
    return invalid(where + ".severity",
                   strCat("'", *severity, "' is not one of low, medium, high, critical"));
  }
  if (!table.knowsName(*syscall)) {
    return invalid(
        where + ".syscall",
        strCat("'", *syscall, "' is not a syscall on any architecture libseccomp knows"));
  }
  entry.syscall = std::move(*syscall);
  entry.severity = std::move(*severity);
  entry.reason = std::move(*reason);
  return entry;
}

Result<void> parseHeader(const json& doc, SeccompBaseline& out) {
  if (auto ok = onlyKnownKeys(doc, kTopKeys, "$"); !ok) return ok;
  auto kind = requireString(doc, "kind", "$");
  if (!kind) return std::unexpected(kind.error());
  if (*kind != kSeccompBaselineKind) {
    return invalid("$.kind", strCat("'", *kind, "' is not '", kSeccompBaselineKind, "'"));
  }
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() ||
      version->get<long long>() != kSeccompBaselineVersion) {
    return invalid("$.version", strCat("must be the integer ", kSeccompBaselineVersion));
  }
  auto name = requireString(doc, "name", "$");
  if (!name) return std::unexpected(name.error());
  out.name = std::move(*name);
  if (auto d = doc.find("description"); d != doc.end()) {
    if (!d->is_string()) return invalid("$.description", "must be a string");
    out.description = d->get<std::string>();
  }
  if (auto r = doc.find("refs"); r != doc.end()) {
    if (!r->is_array()) return invalid("$.refs", "must be an array of strings");
    for (std::size_t i = 0; i < r->size(); ++i) {
      if (!(*r)[i].is_string()) return invalid(strCat("$.refs[", i, "]"), "must be a string");
      out.refs.push_back((*r)[i].get<std::string>());
    }
  }
  return {};
}

}  // namespace

Result<SeccompBaseline> parseSeccompBaseline(std::string_view json_text,
                                             const SyscallTable& table) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid("$", "not valid JSON");
  if (!doc.is_object()) return invalid("$", "must be a JSON object");
  SeccompBaseline out;
  if (auto ok = parseHeader(doc, out); !ok) return std::unexpected(ok.error());
  auto deny = doc.find("deny");
  if (deny == doc.end()) return invalid("$", "missing key 'deny'");
  if (!deny->is_array() || deny->empty()) return invalid("$.deny", "must be a non-empty array");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < deny->size(); ++i) {
    const std::string where = strCat("$.deny[", i, "]");
    auto entry = parseEntry((*deny)[i], where, table);
    if (!entry) return std::unexpected(entry.error());
    if (!seen.insert(entry->syscall).second) {
      return invalid(where + ".syscall", strCat("'", entry->syscall, "' is listed twice"));
    }
    out.deny.push_back(std::move(*entry));
  }
  return out;
}

Result<SeccompBaseline> loadSeccompBaseline(const std::string& path, const SyscallTable& table) {
  auto bytes = readFile(path, 1u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  auto parsed = parseSeccompBaseline(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), table);
  if (!parsed) {
    Error e = parsed.error();
    e.within(path);
    return std::unexpected(std::move(e));
  }
  return parsed;
}

}  // namespace bulwark::agent
