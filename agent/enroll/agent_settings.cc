#include "agent/enroll/agent_settings.h"

#include <unistd.h>

#include "agent/config/agent_config.h"

namespace bulwark::agent {

AgentSettings settingsFromConfig(const AgentConfig& c) {
  AgentSettings s;
  s.node = c.node;
  s.state_dir = c.state_dir;
  s.tcti = c.tpm.tcti;
  s.ek_type = c.tpm.ek_type;
  s.ak_type = c.tpm.ak_type;
  s.verifier_url = c.verifier.url;
  s.verifier_ca_file = c.verifier.ca_file;
  s.timeout = std::chrono::seconds(c.verifier.timeout_s);
  s.interval = std::chrono::seconds(c.verifier.interval_s);
  s.max_backoff = std::chrono::seconds(c.verifier.max_backoff_s);
  s.firmware_log = c.verifier.firmware_log;
  s.ima_log = c.verifier.ima_log;
  s.measurement_pcr = c.measure.pcr;
  s.measurement_log = c.measure.log;
  s.config = std::make_shared<const AgentConfig>(c);
  return s;
}

Result<AgentSettings> parseAgentSettings(std::string_view yaml) {
  auto config = parseAgentConfig(yaml);
  if (!config) return std::unexpected(config.error());
  if (!config->node.empty()) {
    if (auto r = validateNodeName(config->node); !r) {
      return fail(ErrorCode::kInvalidArgument, "node: " + r.error().message());
    }
  }
  return settingsFromConfig(*config);
}

Result<AgentSettings> loadAgentSettings(const std::string& path, bool must_exist) {
  auto config = loadAgentConfig(path, must_exist);
  if (!config) return std::unexpected(config.error());
  if (!config->node.empty()) {
    if (auto r = validateNodeName(config->node); !r) {
      return fail(ErrorCode::kInvalidArgument, "node: " + r.error().message(), path);
    }
  }
  return settingsFromConfig(*config);
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

}  // namespace bulwark::agent
