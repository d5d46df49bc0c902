#include "server/http/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <set>

#include <yaml-cpp/yaml.h>

#include "attest/core/bytes.h"

namespace bulwark::server {

namespace {
using std::chrono::seconds;

std::unexpected<Error> bad(const std::string& key, const std::string& problem) {
  return fail(ErrorCode::kInvalidArgument, key + ": " + problem);
}

std::optional<std::int64_t> toInt(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// A YAML mapping at `path` whose keys must all be in `allowed`.
class Section {
 public:
  static Result<Section> open(const YAML::Node& node, std::string path,
                              std::initializer_list<std::string_view> allowed) {
    std::string where = path.empty() ? "configuration" : path;
    if (!node.IsMap()) return bad(where, "must be a mapping");
    std::set<std::string> seen;
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return bad(join(path, key), "unknown key");
      }
      // yaml-cpp keeps one of two equal keys silently; an ambiguous file is an error.
      if (!seen.insert(key).second) return bad(join(path, key), "duplicate key");
    }
    return Section(node, std::move(path));
  }
  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  bool has(std::string_view key) const { return node_[std::string(key)].IsDefined(); }
  YAML::Node child(std::string_view key) const { return node_[std::string(key)]; }
  std::string key(std::string_view k) const { return join(path_, k); }

  Result<std::string> text(std::string_view k) const {
    YAML::Node n = child(k);
    if (!n.IsDefined()) return bad(key(k), "is required");
    if (!n.IsScalar() || n.Scalar().empty()) return bad(key(k), "must be a non-empty string");
    return n.Scalar();
  }
  Result<void> optText(std::string_view k, std::string& out) const {
    if (!has(k)) return {};
    auto v = text(k);
    if (!v) return std::unexpected(v.error());
    out = *v;
    return {};
  }
  template <typename T>
  Result<void> optInt(std::string_view k, std::int64_t lo, std::int64_t hi, T& out) const {
    if (!has(k)) return {};
    YAML::Node n = child(k);
    auto v = n.IsScalar() ? toInt(n.Scalar()) : std::nullopt;
    if (!v || *v < lo || *v > hi) {
      return bad(key(k), "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    out = static_cast<T>(*v);
    return {};
  }
  Result<void> optDuration(std::string_view k, seconds lo, seconds hi, seconds& out) const {
    if (!has(k)) return {};
    YAML::Node n = child(k);
    std::optional<seconds> d;
    if (n.IsScalar()) {
      if (auto parsed = parseDuration(n.Scalar())) d = *parsed;
    }
    if (!d || *d < lo || *d > hi) {
      return bad(key(k), "must be a duration (e.g. 30s, 5m) between " +
                             std::to_string(lo.count()) + "s and " + std::to_string(hi.count()) +
                             "s");
    }
    out = *d;
    return {};
  }

 private:
  Section(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {}
  const YAML::Node node_;
  std::string path_;
};

#define BULWARK_TRY(expr)                                  \
  do {                                                     \
    if (auto _r = (expr); !_r) return std::unexpected(_r.error()); \
  } while (0)

Result<void> parseListen(const Section& root, VerifierConfig& c) {
  if (!root.has("listen")) return {};
  auto s = Section::open(root.child("listen"), "listen", {"address", "port"});
  if (!s) return std::unexpected(s.error());
  BULWARK_TRY(s->optText("address", c.server.address));
  unsigned char buf[16];
  if (inet_pton(AF_INET, c.server.address.c_str(), buf) != 1 &&
      inet_pton(AF_INET6, c.server.address.c_str(), buf) != 1) {
    return bad("listen.address", "must be an IPv4 or IPv6 address literal");
  }
  return s->optInt("port", 0, 65535, c.server.port);
}

Result<void> parseTls(const Section& root, VerifierConfig& c) {
  auto s = Section::open(root.child("tls"), "tls", {"cert", "key", "client_ca", "min_version"});
  if (!s) return std::unexpected(s.error());
  auto cert = s->text("cert");
  if (!cert) return std::unexpected(cert.error());
  auto key = s->text("key");
  if (!key) return std::unexpected(key.error());
  c.server.cert_file = *cert;
  c.server.key_file = *key;
  BULWARK_TRY(s->optText("client_ca", c.server.client_ca_file));
  std::string version = "1.3";
  BULWARK_TRY(s->optText("min_version", version));
  if (version != "1.2" && version != "1.3") return bad("tls.min_version", "must be \"1.2\" or \"1.3\"");
  c.server.min_tls = version == "1.2" ? TlsVersion::kTls12 : TlsVersion::kTls13;
  return {};
}

Result<void> parseLimitsAndTimeouts(const Section& root, VerifierConfig& c) {
  BULWARK_TRY(root.optInt("threads", 1, 256, c.server.threads));
  if (root.has("limits")) {
    auto s = Section::open(root.child("limits"), "limits", {"max_body_bytes", "max_header_bytes", "max_evidence_bytes"});
    if (!s) return std::unexpected(s.error());
    BULWARK_TRY(s->optInt("max_body_bytes", 1024, std::int64_t{1} << 30, c.server.max_body_bytes));
    BULWARK_TRY(s->optInt("max_evidence_bytes", 1024, std::int64_t{16} << 20,
                          c.server.max_evidence_bytes));
    BULWARK_TRY(s->optInt("max_header_bytes", 1024, std::int64_t{1} << 20, c.server.max_header_bytes));
  }
  if (!root.has("timeouts")) return {};
  auto s = Section::open(root.child("timeouts"), "timeouts",
                         {"handshake", "header", "body", "write", "shutdown_grace"});
  if (!s) return std::unexpected(s.error());
  const seconds lo{1}, hi{3600};
  BULWARK_TRY(s->optDuration("handshake", lo, hi, c.server.handshake_timeout));
  BULWARK_TRY(s->optDuration("header", lo, hi, c.server.header_timeout));
  BULWARK_TRY(s->optDuration("body", lo, hi, c.server.body_timeout));
  BULWARK_TRY(s->optDuration("write", lo, hi, c.server.write_timeout));
  return s->optDuration("shutdown_grace", seconds{0}, hi, c.server.shutdown_grace);
}

// Hex SHA-256 with optional ':' separators (openssl x509 -fingerprint output).
std::optional<std::string> normalizeFingerprint(std::string text) {
  std::erase(text, ':');
  auto bytes = fromHex(text);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  return toHex(*bytes);
}

struct Credential {
  std::string name;
  Role role;
  std::string sha256;
};

Result<std::vector<Credential>> parseCredentials(const Section& root, std::string_view list) {
  std::vector<Credential> out;
  if (!root.has(list)) return out;
  YAML::Node seq = root.child(list);
  if (!seq.IsSequence()) return bad(std::string(list), "must be a list");
  std::set<std::string> names, hashes;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    std::string path = std::string(list) + "[" + std::to_string(i) + "]";
    auto s = Section::open(seq[i], path, {"name", "role", "sha256"});
    if (!s) return std::unexpected(s.error());
    auto name = s->text("name");
    auto role = s->text("role");
    auto sha = s->text("sha256");
    for (auto* r : {&name, &role, &sha}) {
      if (!*r) return std::unexpected(r->error());
    }
    auto parsed_role = roleFromName(*role);
    if (!parsed_role) return bad(path + ".role", "must be agent, scheduler, auditor or admin");
    auto fp = normalizeFingerprint(*sha);
    if (!fp) return bad(path + ".sha256", "must be 64 hex digits (a SHA-256)");
    if (!names.insert(*name).second) return bad(path + ".name", "duplicate name '" + *name + "'");
    if (!hashes.insert(*fp).second) return bad(path + ".sha256", "duplicate hash");
    out.push_back({*name, *parsed_role, *fp});
  }
  return out;
}

Result<void> parseAccess(const Section& root, VerifierConfig& c) {
  auto tokens = parseCredentials(root, "tokens");
  if (!tokens) return std::unexpected(tokens.error());
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    const Credential& t = (*tokens)[i];
    if (t.role == Role::kAgent) {
      return bad("tokens[" + std::to_string(i) + "].role",
                 "agent is not a token role: agents authenticate with their enrollment certificate");
    }
    c.access.tokens.push_back({t.name, t.role, *fromHex(t.sha256)});
  }
  auto certs = parseCredentials(root, "client_certs");
  if (!certs) return std::unexpected(certs.error());
  for (const Credential& cc : *certs) c.access.client_certs.push_back({cc.name, cc.role, cc.sha256});
  bool agent_ca_map = root.has("agent_ca") && root.child("agent_ca").IsMap();
  if (agent_ca_map) {
    // Mapping form {cert, key, validity}: the verifier's own agent CA, created on first
    // start (server/api/pipeline_config.h parses the rest). Its certificate is what
    // authenticates agents here, and the client CA when no other is configured.
    auto ca = Section::open(root.child("agent_ca"), "agent_ca", {"cert", "key", "validity"});
    if (!ca) return std::unexpected(ca.error());
    auto cert = ca->text("cert");
    if (!cert) return std::unexpected(cert.error());
    c.agent_ca_file = *cert;
    if (c.server.client_ca_file.empty() && c.access.client_certs.empty()) {
      c.server.client_ca_file = c.agent_ca_file;
    }
  } else {
    BULWARK_TRY(root.optText("agent_ca", c.agent_ca_file));
  }
  bool wants_mtls = !c.access.client_certs.empty() || !c.agent_ca_file.empty();
  if (wants_mtls && c.server.client_ca_file.empty()) {
    return bad("tls.client_ca", "is required when client_certs or agent_ca are set");
  }
  return {};
}

Result<void> parseStorage(const Section& root, VerifierConfig& c) {
  if (!root.has("database")) return bad("database", "is required");
  auto s = Section::open(root.child("database"), "database", {"sqlite", "postgres"});
  if (!s) return std::unexpected(s.error());
  BULWARK_TRY(s->optText("sqlite", c.database.sqlite_path));
  BULWARK_TRY(s->optText("postgres", c.database.postgres_conninfo));
  if (c.database.sqlite_path.empty() == c.database.postgres_conninfo.empty()) {
    return bad("database", "set exactly one of sqlite or postgres");
  }
  auto key = root.text("verifier_key");
  if (!key) return std::unexpected(key.error());
  c.verifier_key_file = *key;
  return root.optDuration("freshness_ttl", seconds{10}, seconds{7 * 86400}, c.freshness_ttl);
}
}  // namespace

Result<seconds> parseDuration(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::kInvalidArgument, "empty duration");
  std::int64_t unit = 1;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: unit = 0;
  }
  std::string_view digits = unit == 0 ? text : text.substr(0, text.size() - 1);
  auto v = toInt(digits);
  if (!v || *v < 0 || *v > (std::int64_t{1} << 40)) {
    return fail(ErrorCode::kInvalidArgument, "not a duration: '" + std::string(text) + "'");
  }
  return seconds{*v * (unit == 0 ? 1 : unit)};
}

Result<VerifierConfig> parseVerifierConfig(std::string_view yaml) {
  try {
    YAML::Node doc = YAML::Load(std::string(yaml));
    auto root = Section::open(doc, "",
                              {"listen", "tls", "agent_ca", "threads", "limits", "timeouts",
                               "tokens", "client_certs", "database", "verifier_key",
                               "freshness_ttl",
                               // appraisal pipeline sections (server/api/pipeline_config.h)
                               "enrollment", "appraisal", "isolation_profiles"});
    if (!root) return std::unexpected(root.error());
    if (!root->has("tls")) return bad("tls", "is required");
    VerifierConfig c;
    BULWARK_TRY(parseListen(*root, c));
    BULWARK_TRY(parseTls(*root, c));
    BULWARK_TRY(parseLimitsAndTimeouts(*root, c));
    BULWARK_TRY(parseAccess(*root, c));
    BULWARK_TRY(parseStorage(*root, c));
    return c;
  } catch (const YAML::Exception& e) {
    // Mark positions are 0-based.
    return fail(ErrorCode::kInvalidArgument,
                "YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                    std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<VerifierConfig> loadVerifierConfig(const std::string& path) {
  auto bytes = readFile(path, 1u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  auto config = parseVerifierConfig(std::string_view(reinterpret_cast<const char*>(bytes->data()),
                                                     bytes->size()));
  if (!config) return std::unexpected(config.error().within(path));
  return config;
}

}  // namespace bulwark::server
