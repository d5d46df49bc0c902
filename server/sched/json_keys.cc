#include "server/sched/json_keys.h"

namespace bulwark::server::sched {

bool keyEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

namespace {
template <typename Json>
Result<Json*> findIn(Json& object, std::string_view key) {
  if (!object.is_object()) return static_cast<Json*>(nullptr);
  Json* found = nullptr;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!keyEquals(it.key(), key)) continue;
    if (found != nullptr) {
      return fail(ErrorCode::kMalformed,
                  "ambiguous keys: more than one spelling of \"" + std::string(key) + "\"");
    }
    found = &it.value();
  }
  return found;
}
}  // namespace

Result<const nlohmann::json*> findKey(const nlohmann::json& object, std::string_view key) {
  return findIn(object, key);
}

Result<nlohmann::json*> findKey(nlohmann::json& object, std::string_view key) {
  return findIn(object, key);
}

Result<std::string_view> stringMember(const nlohmann::json& object, std::string_view key) {
  auto v = findKey(object, key);
  if (!v) return std::unexpected(v.error());
  if (*v == nullptr || (*v)->is_null()) return std::string_view{};
  if (!(*v)->is_string()) {
    return fail(ErrorCode::kMalformed, "\"" + std::string(key) + "\" must be a string");
  }
  return std::string_view((*v)->template get_ref<const std::string&>());
}

}  // namespace bulwark::server::sched
