// Strict field readers for the agent's validated data files (profiles/*.json):
// every error is kMalformed "<json path>: <problem>" with the document kind as
// context, so a bad profile names the exact field. JSON parsing itself is
// nlohmann's (exceptions off).
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

class JsonFields {
 public:
  // `what` names the document kind in errors ("isolation profile").
  explicit JsonFields(std::string what) : what_(std::move(what)) {}

  [[nodiscard]] std::unexpected<Error> invalid(std::string_view where, std::string_view why) const;

  // Parses `text` as a JSON object.
  [[nodiscard]] Result<nlohmann::json> parseObject(std::string_view text) const;
  // Reads the text of the file at `path` (at most 1 MiB).
  [[nodiscard]] static Result<std::string> readText(const std::string& path);

  [[nodiscard]] Result<void> onlyKnownKeys(const nlohmann::json& obj,
                                           std::initializer_list<std::string_view> known,
                                           const std::string& where) const;
  [[nodiscard]] Result<void> header(const nlohmann::json& doc, std::string_view kind,
                                    int version) const;
  [[nodiscard]] Result<std::string> string(const nlohmann::json& obj, const char* key,
                                           const std::string& where, bool required = true) const;
  [[nodiscard]] Result<bool> boolean(const nlohmann::json& obj, const char* key,
                                     const std::string& where, bool required = true,
                                     bool fallback = false) const;
  [[nodiscard]] Result<std::vector<std::string>> strings(const nlohmann::json& obj, const char* key,
                                                         const std::string& where,
                                                         bool required = true) const;
  // "low" | "medium" | "high" | "critical".
  [[nodiscard]] Result<std::string> severity(const nlohmann::json& obj, const char* key,
                                             const std::string& where) const;

 private:
  std::string what_;
};

// 0 low, 1 medium, 2 high, 3 critical; -1 otherwise.
int severityRank(std::string_view severity);

}  // namespace bulwark::agent
