#include "attest/tpm/tcti_config.h"

#include <charconv>

namespace bulwark::attest {

namespace {

Result<std::uint16_t> parsePort(std::string_view value, std::string_view text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
  // port+1 carries the control/platform channel, so 65535 is unusable.
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || port == 0 ||
      port >= 65535) {
    return fail(ErrorCode::kInvalidArgument,
                "bad port '" + std::string(value) + "' (expected 1..65534)", std::string(text));
  }
  return static_cast<std::uint16_t>(port);
}

bool validHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// "host=H,port=N" in any order, each key at most once.
Result<void> parseNetConf(std::string_view conf, std::string_view text, TctiConfig& out) {
  bool seen_host = false;
  bool seen_port = false;
  while (!conf.empty()) {
    std::size_t comma = conf.find(',');
    std::string_view item = conf.substr(0, comma);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return fail(ErrorCode::kInvalidArgument,
                  "expected key=value, got '" + std::string(item) + "'", std::string(text));
    }
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (key == "host" && !seen_host) {
      if (!validHost(value)) {
        return fail(ErrorCode::kInvalidArgument, "bad host '" + std::string(value) + "'",
                    std::string(text));
      }
      out.host = std::string(value);
      seen_host = true;
    } else if (key == "port" && !seen_port) {
      auto port = parsePort(value, text);
      if (!port) return std::unexpected(port.error());
      out.port = *port;
      seen_port = true;
    } else {
      return fail(ErrorCode::kInvalidArgument,
                  "unknown or repeated key '" + std::string(key) + "' (expected host=, port=)",
                  std::string(text));
    }
    if (comma == std::string_view::npos) break;
    conf.remove_prefix(comma + 1);
    if (conf.empty()) return fail(ErrorCode::kInvalidArgument, "trailing ','", std::string(text));
  }
  return {};
}

}  // namespace

Result<TctiConfig> parseTctiConfig(std::string_view text) {
  if (text.empty()) text = kDefaultTcti;
  std::size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  std::string_view conf =
      colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  TctiConfig cfg;
  if (name == "device") {
    cfg.kind = TctiKind::kDevice;
    if (!conf.empty()) {
      if (conf.front() != '/' || conf.find_first_of(",\n") != std::string_view::npos) {
        return fail(ErrorCode::kInvalidArgument,
                    "device path must be absolute, e.g. device:/dev/tpmrm0", std::string(text));
      }
      cfg.device_path = std::string(conf);
    }
    return cfg;
  }
  if (name == "swtpm" || name == "mssim") {
    cfg.kind = name == "swtpm" ? TctiKind::kSwtpm : TctiKind::kMssim;
    if (auto ok = parseNetConf(conf, text, cfg); !ok) return std::unexpected(ok.error());
    return cfg;
  }
  return fail(ErrorCode::kInvalidArgument,
              "unknown TCTI '" + std::string(name) + "' (expected device, swtpm or mssim)",
              std::string(text));
}

std::string TctiConfig::loaderString() const {
  switch (kind) {
    case TctiKind::kDevice:
      return "device:" + device_path;
    case TctiKind::kSwtpm:
      return "swtpm:host=" + host + ",port=" + std::to_string(port);
    case TctiKind::kMssim:
      return "mssim:host=" + host + ",port=" + std::to_string(port);
  }
  return "device:" + device_path;
}

}  // namespace bulwark::attest
