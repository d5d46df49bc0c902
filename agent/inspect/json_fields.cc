#include "agent/inspect/json_fields.h"

#include <algorithm>
#include <array>
#include <set>

#include "agent/inspect/seccomp/str_util.h"
#include "attest/core/bytes.h"

namespace bulwark::agent {

using nlohmann::json;

int severityRank(std::string_view severity) {
  constexpr std::array<std::string_view, 4> kOrder = {"low", "medium", "high", "critical"};
  for (std::size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] == severity) return static_cast<int>(i);
  }
  return -1;
}

std::unexpected<Error> JsonFields::invalid(std::string_view where, std::string_view why) const {
  return fail(ErrorCode::kMalformed, strCat(where, ": ", why), what_);
}

Result<json> JsonFields::parseObject(std::string_view text) const {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid("$", "not valid JSON");
  if (!doc.is_object()) return invalid("$", "must be a JSON object");
  return doc;
}

Result<std::string> JsonFields::readText(const std::string& path) {
  auto bytes = readFile(path, 1u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

Result<void> JsonFields::onlyKnownKeys(const json& obj,
                                       std::initializer_list<std::string_view> known,
                                       const std::string& where) const {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return invalid(where, strCat("unknown key '", key, "'"));
    }
  }
  return {};
}

Result<void> JsonFields::header(const json& doc, std::string_view kind, int version) const {
  auto k = string(doc, "kind", "$");
  if (!k) return std::unexpected(k.error());
  if (*k != kind) return invalid("$.kind", strCat("'", *k, "' is not '", kind, "'"));
  auto v = doc.find("version");
  if (v == doc.end() || !v->is_number_integer() || v->get<long long>() != version) {
    return invalid("$.version", strCat("must be the integer ", version));
  }
  return {};
}

Result<std::string> JsonFields::string(const json& obj, const char* key, const std::string& where,
                                       bool required) const {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return invalid(where, strCat("missing key '", key, "'"));
    return std::string();
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return invalid(strCat(where, ".", key), "must be a non-empty string");
  }
  return it->get<std::string>();
}

Result<bool> JsonFields::boolean(const json& obj, const char* key, const std::string& where,
                                 bool required, bool fallback) const {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return invalid(where, strCat("missing key '", key, "'"));
    return fallback;
  }
  if (!it->is_boolean()) return invalid(strCat(where, ".", key), "must be true or false");
  return it->get<bool>();
}

Result<std::vector<std::string>> JsonFields::strings(const json& obj, const char* key,
                                                     const std::string& where,
                                                     bool required) const {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return invalid(where, strCat("missing key '", key, "'"));
    return out;
  }
  const std::string path = strCat(where, ".", key);
  if (!it->is_array()) return invalid(path, "must be an array of strings");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
      return invalid(strCat(path, "[", i, "]"), "must be a non-empty string");
    }
    if (!seen.insert(e.get<std::string>()).second) {
      return invalid(strCat(path, "[", i, "]"),
                     strCat("'", e.get<std::string>(), "' is listed twice"));
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::string> JsonFields::severity(const json& obj, const char* key,
                                         const std::string& where) const {
  auto s = string(obj, key, where);
  if (!s) return s;
  if (severityRank(*s) < 0) {
    return invalid(strCat(where, ".", key),
                   strCat("'", *s, "' is not one of low, medium, high, critical"));
  }
  return s;
}

}  // namespace bulwark::agent
