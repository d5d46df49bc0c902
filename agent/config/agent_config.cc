#include "agent/config/agent_config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "attest/core/bytes.h"

namespace bulwark::agent {

namespace {

using Reader = std::function<Result<void>(const YAML::Node&, const std::string&)>;
using Section = std::map<std::string, Reader>;

std::unexpected<Error> keyError(const std::string& key, const std::string& problem) {
  return fail(ErrorCode::kInvalidArgument, key + ": " + problem);
}

Result<std::string> scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) return keyError(key, "must be a string, not a list or mapping");
  return n.Scalar();
}

Reader text(std::string& out) {
  return [&out](const YAML::Node& n, const std::string& key) -> Result<void> {
    auto s = scalar(n, key);
    if (!s) return std::unexpected(s.error());
    out = *s;
    return {};
  };
}

Result<std::string> absolutePath(const YAML::Node& n, const std::string& key, bool allow_empty) {
  auto s = scalar(n, key);
  if (!s) return s;
  if (s->empty() && allow_empty) return s;
  if (s->empty()) return keyError(key, "must not be empty");
  if (!s->starts_with('/')) return keyError(key, "'" + *s + "' is not an absolute path");
  if (s->find('\0') != std::string::npos) return keyError(key, "contains a NUL byte");
  return s;
}

Reader path(std::string& out, bool allow_empty = false) {
  return [&out, allow_empty](const YAML::Node& n, const std::string& key) -> Result<void> {
    auto s = absolutePath(n, key, allow_empty);
    if (!s) return std::unexpected(s.error());
    out = *s;
    return {};
  };
}

Reader boolean(bool& out) {
  return [&out](const YAML::Node& n, const std::string& key) -> Result<void> {
    auto s = scalar(n, key);
    if (!s) return std::unexpected(s.error());
    if (*s == "true") {
      out = true;
    } else if (*s == "false") {
      out = false;
    } else {
      return keyError(key, "'" + *s + "' is not true or false");
    }
    return {};
  };
}

Result<std::uint32_t> parseUint(std::string_view s, std::string_view suffix_ok) {
  std::uint64_t mult = 1;
  if (!suffix_ok.empty() && !s.empty()) {
    if (s.back() == 's') {
      s.remove_suffix(1);
    } else if (s.back() == 'm') {
      mult = 60;
      s.remove_suffix(1);
    } else if (s.back() == 'h') {
      mult = 3600;
      s.remove_suffix(1);
    }
  }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > 0xffffffffu / mult) {
    return fail(ErrorCode::kInvalidArgument, "not a number");
  }
  return static_cast<std::uint32_t>(v * mult);
}

// An unsigned integer in [min, max]; `seconds` also accepts 30s / 5m / 2h.
Reader number(std::uint32_t& out, std::uint32_t min, std::uint32_t max, bool seconds = false) {
  return [&out, min, max, seconds](const YAML::Node& n, const std::string& key) -> Result<void> {
    auto s = scalar(n, key);
    if (!s) return std::unexpected(s.error());
    auto v = parseUint(*s, seconds ? "smh" : "");
    if (!v) {
      return keyError(key, "'" + *s + "' is not " +
                               (seconds ? "a duration like 30s, 5m, 2h" : "an unsigned integer"));
    }
    if (*v < min || *v > max) {
      return keyError(key, std::to_string(*v) + " is outside " + std::to_string(min) + ".." +
                               std::to_string(max));
    }
    out = *v;
    return {};
  };
}

Reader oneOf(std::string& out, std::vector<std::string> allowed) {
  return [&out, allowed](const YAML::Node& n, const std::string& key) -> Result<void> {
    auto s = scalar(n, key);
    if (!s) return std::unexpected(s.error());
    std::string list;
    for (const auto& a : allowed) {
      if (*s == a) {
        out = *s;
        return {};
      }
      list += (list.empty() ? "" : ", ") + a;
    }
    return keyError(key, "'" + *s + "' is not one of " + list);
  };
}

// A list of strings, each checked by `check` (which may be empty).
Reader list(std::vector<std::string>& out,
            std::function<Result<void>(const std::string&, const std::string&)> check) {
  return [&out, check](const YAML::Node& n, const std::string& key) -> Result<void> {
    if (!n.IsSequence()) return keyError(key, "must be a list");
    std::vector<std::string> values;
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string item_key = key + "[" + std::to_string(i) + "]";
      auto s = scalar(n[i], item_key);
      if (!s) return std::unexpected(s.error());
      if (s->empty()) return keyError(item_key, "must not be empty");
      if (check) {
        if (auto r = check(*s, item_key); !r) return r;
      }
      values.push_back(*s);
    }
    out = std::move(values);
    return {};
  };
}

Result<void> checkAbsolute(const std::string& s, const std::string& key) {
  if (!s.starts_with('/')) return keyError(key, "'" + s + "' is not an absolute path");
  return {};
}

// "[runtime=]dir" as `bulwark-agent inspect --state-root` takes it.
Result<void> checkStateRoot(const std::string& s, const std::string& key) {
  const auto eq = s.find('=');
  const std::string dir = eq == std::string::npos ? s : s.substr(eq + 1);
  if (dir.empty() || dir.front() != '/') {
    return keyError(key, "'" + s + "' must be [runtime=]/absolute/dir (e.g. crun=/run/crun)");
  }
  return {};
}

Result<void> checkBinaryName(const std::string& s, const std::string& key) {
  if (s.find('/') != std::string::npos) {
    return keyError(key, "'" + s +
                             "' must be a file name (a glob like containerd-shim* is fine), "
                             "not a path");
  }
  return {};
}

Result<void> readSection(const YAML::Node& node, const std::string& name, const Section& keys) {
  if (!node || node.IsNull()) return {};
  if (!node.IsMap()) return keyError(name, "must be a mapping");
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return keyError(name, "keys must be strings");
    const std::string& key = kv.first.Scalar();
    std::string full = name.empty() ? key : name + "." + key;
    if (!seen.insert(key).second) return keyError(full, "given twice");
    auto it = keys.find(key);
    if (it == keys.end()) return keyError(full, "unknown key");
    if (auto r = it->second(kv.second, full); !r) return r;
  }
  return {};
}

Reader section(const Section& keys) {
  return [keys](const YAML::Node& n, const std::string& key) { return readSection(n, key, keys); };
}

Result<void> checkPcr(const AgentConfig& c) {
  if (c.measure.pcr > 23) return keyError("measure.pcr", "must be a PCR index 0..23");
  if ((c.measure.pcr == 16 || c.measure.pcr == 23) && !c.debug) {
    return keyError("measure.pcr", "PCR " + std::to_string(c.measure.pcr) +
                                       " is resettable by software; use it only with debug: true");
  }
  return {};
}

Section measureKeys(MeasureConfig& m) {
  return {{"pcr", number(m.pcr, 0, 23)},
          {"log", path(m.log)},
          {"include", list(m.include, checkAbsolute)},
          {"runtime_binaries", list(m.runtime_binaries, checkBinaryName)},
          {"docker_socket", path(m.docker_socket, true)},
          {"containerd_socket", path(m.containerd_socket, true)},
          {"oci_state_roots", list(m.oci_state_roots, checkAbsolute)},
          {"containerd_task_roots", list(m.containerd_task_roots, checkAbsolute)},
          {"systemd", boolean(m.systemd)},
          {"debounce_ms", number(m.debounce_ms, 0, 600000)},
          {"hash_threads", number(m.hash_threads, 0, 256)}};
}

Section topKeys(AgentConfig& c) {
  auto& t = c.tpm;
  auto& v = c.verifier;
  return {
      {"node", text(c.node)},
      {"state_dir", path(c.state_dir)},
      {"debug", boolean(c.debug)},
      {"tpm", section({{"tcti", text(t.tcti)},
                       {"ek_type", oneOf(t.ek_type, {"auto", "rsa2048", "ecc-p256", "ecc-p384"})},
                       {"ak_type", oneOf(t.ak_type, {"auto", "rsa2048", "ecc-p256"})}})},
      {"verifier", section({{"url", text(v.url)},
                            {"ca_file", path(v.ca_file)},
                            {"timeout", number(v.timeout_s, 1, 600, true)},
                            {"interval", number(v.interval_s, 1, 86400, true)},
                            {"max_backoff", number(v.max_backoff_s, 1, 86400, true)},
                            {"firmware_log", path(v.firmware_log, true)},
                            {"ima_log", path(v.ima_log, true)}})},
      {"measure", section(measureKeys(c.measure))},
      {"inspect", section({{"enabled", boolean(c.inspect.enabled)},
                           {"profile", text(c.inspect.profile)},
                           {"profiles_dir", path(c.inspect.profiles_dir, true)},
                           {"state_roots", list(c.inspect.state_roots, checkStateRoot)}})}};
}

}  // namespace

Result<AgentConfig> parseAgentConfig(std::string_view yaml) {
  AgentConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("not valid YAML: ") + e.what());
  }
  if (root && !root.IsNull() && !root.IsMap()) {
    return fail(ErrorCode::kInvalidArgument, "the configuration must be a YAML mapping");
  }
  try {
    if (auto r = readSection(root, "", topKeys(config)); !r) return std::unexpected(r.error());
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("unexpected YAML structure: ") + e.what());
  }
  if (auto r = checkPcr(config); !r) return std::unexpected(r.error());
  return config;
}

Result<AgentConfig> loadAgentConfig(const std::string& path, bool must_exist) {
  auto bytes = readFile(path, 1u << 20);
  if (!bytes) {
    if (bytes.error().code() == ErrorCode::kNotFound && !must_exist) return AgentConfig{};
    Error e = bytes.error();
    return std::unexpected(e.within("config " + path));
  }
  auto config = parseAgentConfig(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!config) {
    Error e = config.error();
    return std::unexpected(e.within(path));
  }
  return config;
}

}  // namespace bulwark::agent
