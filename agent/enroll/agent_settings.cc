#include "agent/enroll/agent_settings.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace bulwark::agent {

namespace {

Error keyError(const std::string& key, const std::string& problem) {
  return Error(ErrorCode::kInvalidArgument, key + ": " + problem);
}

Result<std::string> scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) return std::unexpected(keyError(key, "must be a string"));
  return node.Scalar();
}

Result<std::string> nonEmptyPath(const YAML::Node& node, const std::string& key, bool allow_empty) {
  auto s = scalar(node, key);
  if (!s) return s;
  if (s->empty()) {
    if (allow_empty) return s;
    return std::unexpected(keyError(key, "must not be empty"));
  }
  if (!s->starts_with('/')) return std::unexpected(keyError(key, "must be an absolute path"));
  return s;
}

Result<std::chrono::seconds> duration(const YAML::Node& node, const std::string& key,
                                      std::chrono::seconds min, std::chrono::seconds max) {
  auto s = scalar(node, key);
  if (!s) return std::unexpected(s.error());
  auto d = parseSeconds(*s);
  if (!d) return std::unexpected(keyError(key, d.error().message()));
  if (*d < min || *d > max) {
    return std::unexpected(keyError(key, "must be between " + std::to_string(min.count()) +
                                             "s and " + std::to_string(max.count()) + "s"));
  }
  return *d;
}

Result<std::string> oneOf(const YAML::Node& node, const std::string& key,
                          std::initializer_list<std::string_view> allowed) {
  auto s = scalar(node, key);
  if (!s) return s;
  std::string list;
  for (auto a : allowed) {
    if (*s == a) return s;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  return std::unexpected(keyError(key, "'" + *s + "' is not one of " + list));
}

using Setter = std::function<Result<void>(const YAML::Node&, const std::string&)>;

// Applies `setters` to every key of the mapping `section`; unknown keys are errors.
Result<void> readSection(const YAML::Node& section, const std::string& name,
                         const std::map<std::string, Setter>& setters) {
  if (!section) return {};
  if (!section.IsMap()) return std::unexpected(keyError(name, "must be a mapping"));
  for (const auto& kv : section) {
    std::string key = kv.first.as<std::string>();
    auto it = setters.find(key);
    if (it == setters.end()) return std::unexpected(keyError(name + "." + key, "unknown key"));
    if (auto r = it->second(kv.second, name + "." + key); !r) return r;
  }
  return {};
}

template <typename T>
Setter assign(T& field, std::function<Result<T>(const YAML::Node&, const std::string&)> read) {
  return [&field, read](const YAML::Node& n, const std::string& k) -> Result<void> {
    auto v = read(n, k);
    if (!v) return std::unexpected(v.error());
    field = *v;
    return {};
  };
}

Result<void> readTpm(const YAML::Node& root, AgentSettings& s) {
  return readSection(root["tpm"], "tpm",
                     {{"tcti", assign<std::string>(s.tcti, scalar)},
                      {"ek_type", assign<std::string>(s.ek_type,
                                                      [](const YAML::Node& n, const std::string& k) {
                                                        return oneOf(n, k, {"auto", "rsa2048", "ecc-p256", "ecc-p384"});
                                                      })},
                      {"ak_type", assign<std::string>(s.ak_type,
                                                      [](const YAML::Node& n, const std::string& k) {
                                                        return oneOf(n, k, {"auto", "rsa2048", "ecc-p256"});
                                                      })}});
}

Result<void> readVerifier(const YAML::Node& root, AgentSettings& s) {
  using std::chrono::seconds;
  auto path = [](bool allow_empty) {
    return [allow_empty](const YAML::Node& n, const std::string& k) { return nonEmptyPath(n, k, allow_empty); };
  };
  auto secs = [](seconds min, seconds max) {
    return [min, max](const YAML::Node& n, const std::string& k) { return duration(n, k, min, max); };
  };
  return readSection(
      root["verifier"], "verifier",
      {{"url", assign<std::string>(s.verifier_url, scalar)},
       {"ca_file", assign<std::string>(s.verifier_ca_file, path(false))},
       {"timeout", assign<seconds>(s.timeout, secs(seconds(1), seconds(600)))},
       {"interval", assign<seconds>(s.interval, secs(seconds(1), seconds(86400)))},
       {"max_backoff", assign<seconds>(s.max_backoff, secs(seconds(1), seconds(86400)))},
       {"firmware_log", assign<std::string>(s.firmware_log, path(true))},
       {"ima_log", assign<std::string>(s.ima_log, path(true))}});
}

// measure: belongs to the measurement engine's loader; only the two keys the
// report needs are read, the rest is left to that loader.
Result<void> readMeasure(const YAML::Node& root, AgentSettings& s) {
  YAML::Node m = root["measure"];
  if (!m) return {};
  if (!m.IsMap()) return std::unexpected(keyError("measure", "must be a mapping"));
  if (YAML::Node pcr = m["pcr"]) {
    auto text = scalar(pcr, "measure.pcr");
    if (!text) return std::unexpected(text.error());
    unsigned v = 0;
    auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || p != text->data() + text->size() || v > 23) {
      return std::unexpected(keyError("measure.pcr", "must be a PCR index 0..23"));
    }
    s.measurement_pcr = v;
  }
  if (YAML::Node log = m["log"]) {
    auto v = nonEmptyPath(log, "measure.log", false);
    if (!v) return std::unexpected(v.error());
    s.measurement_log = *v;
  }
  return {};
}

Result<void> readTop(const YAML::Node& root, AgentSettings& s) {
  if (YAML::Node n = root["node"]) {
    auto v = scalar(n, "node");
    if (!v) return std::unexpected(v.error());
    if (auto r = validateNodeName(*v); !r) return std::unexpected(keyError("node", r.error().message()));
    s.node = *v;
  }
  if (YAML::Node n = root["state_dir"]) {
    auto v = nonEmptyPath(n, "state_dir", false);
    if (!v) return std::unexpected(v.error());
    s.state_dir = *v;
  }
  return {};
}

}  // namespace

Result<std::chrono::seconds> parseSeconds(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::kInvalidArgument, "empty duration");
  std::int64_t mult = 1;
  switch (text.back()) {
    case 's': mult = 1; text.remove_suffix(1); break;
    case 'm': mult = 60; text.remove_suffix(1); break;
    case 'h': mult = 3600; text.remove_suffix(1); break;
    default: break;
  }
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < 0 ||
      v > 10'000'000) {
    return fail(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not a duration like 30s, 5m, 2h");
  }
  return std::chrono::seconds(v * mult);
}

Result<void> validateNodeName(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return fail(ErrorCode::kInvalidArgument, "node name must be 1 to 253 characters");
  }
  if (name.front() == '.' || name.front() == '-') {
    return fail(ErrorCode::kInvalidArgument, "node name must not start with '.' or '-'");
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return fail(ErrorCode::kInvalidArgument,
                  "node name '" + std::string(name) + "' may only use A-Z a-z 0-9 . _ -");
    }
  }
  return {};
}

Result<std::string> defaultNodeName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) {
    return fail(ErrorCode::kIo, "gethostname failed; set node: in the config or pass --node");
  }
  std::string name(buf);
  if (auto r = validateNodeName(name); !r) {
    return fail(ErrorCode::kInvalidArgument,
                "host name is not a valid node name (" + r.error().message() + "); pass --node");
  }
  return name;
}

Result<AgentSettings> parseAgentSettings(std::string_view yaml) {
  AgentSettings s;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root || root.IsNull()) return s;
    if (!root.IsMap()) return fail(ErrorCode::kInvalidArgument, "top level must be a mapping");
    for (auto step : {readTop, readTpm, readVerifier, readMeasure}) {
      if (auto r = step(root, s); !r) return std::unexpected(r.error());
    }
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("not valid YAML: ") + e.what());
  }
  return s;
}

Result<AgentSettings> loadAgentSettings(const std::string& path, bool must_exist) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (must_exist) return fail(ErrorCode::kNotFound, "configuration file does not exist", path);
    return AgentSettings{};
  }
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::kIo, "cannot read configuration file", path);
  std::stringstream text;
  text << in.rdbuf();
  auto s = parseAgentSettings(text.str());
  if (!s) {
    Error e = s.error();
    e.within(path);
    return std::unexpected(e);
  }
  return s;
}

}  // namespace bulwark::agent
