#include "server/api/pipeline_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "server/http/config.h"

namespace bulwark::server {

namespace {
using std::chrono::seconds;

std::unexpected<Error> bad(const std::string& key, const std::string& problem) {
  return fail(ErrorCode::kInvalidArgument, key + ": " + problem);
}

Result<void> onlyKeys(const YAML::Node& n, const std::string& path,
                      std::initializer_list<std::string_view> keys) {
  if (!n.IsMap()) return bad(path, "must be a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.Scalar();
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      return bad(path + "." + k, "unknown key");
  }
  return {};
}

// yaml-cpp: a missing key yields an invalid node whose accessors throw, so every
// reader checks IsDefined() first.
Result<std::string> text(const YAML::Node& n, const std::string& key) {
  if (!n.IsDefined()) return bad(key, "is required");
  if (!n.IsScalar() || n.Scalar().empty()) return bad(key, "must be a non-empty string");
  return n.Scalar();
}

Result<bool> boolean(const YAML::Node& n, const std::string& key) {
  if (n.IsScalar()) {
    if (n.Scalar() == "true") return true;
    if (n.Scalar() == "false") return false;
  }
  return bad(key, "must be true or false");
}

Result<std::int64_t> integer(const YAML::Node& n, const std::string& key, std::int64_t lo,
                             std::int64_t hi) {
  std::int64_t v = 0;
  const std::string s = n.IsScalar() ? n.Scalar() : std::string();
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
    return bad(key, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return v;
}

Result<seconds> duration(const YAML::Node& n, const std::string& key, seconds lo, seconds hi) {
  auto d = n.IsScalar() ? parseDuration(n.Scalar())
                        : Result<seconds>(std::unexpected(Error(ErrorCode::kInvalidArgument, "")));
  if (!d || *d < lo || *d > hi) {
    return bad(key, "must be a duration between " + std::to_string(lo.count()) + "s and " +
                        std::to_string(hi.count()) + "s");
  }
  return *d;
}

Result<std::vector<std::string>> strings(const YAML::Node& n, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsScalar())
    n.Scalar().empty() ? void() : out.push_back(n.Scalar());
  else if (!n.IsSequence())
    return bad(key, "must be a list of strings");
  else {
    for (std::size_t i = 0; i < n.size(); ++i) {
      auto s = text(n[i], key + "[" + std::to_string(i) + "]");
      if (!s) return std::unexpected(s.error());
      out.push_back(*s);
    }
  }
  return out;
}

#define BW_SET(target, expr)                     \
  do {                                           \
    auto _v = (expr);                            \
    if (!_v) return std::unexpected(_v.error()); \
    target = *_v;                                \
  } while (0)

Result<void> parseAgentCa(const YAML::Node& n, PipelineConfig& c) {
  if (!n.IsDefined() || n.IsScalar()) return {};  // scalar form: a CA file only (server/http)
  if (auto r = onlyKeys(n, "agent_ca", {"cert", "key", "validity"}); !r) return r;
  BW_SET(c.agent_ca_cert, text(n["cert"], "agent_ca.cert"));
  BW_SET(c.agent_ca_key, text(n["key"], "agent_ca.key"));
  if (n["validity"])
    BW_SET(c.agent_cert_validity,
           duration(n["validity"], "agent_ca.validity", seconds{3600}, seconds{400 * 86400}));
  return {};
}

Result<void> parseEnrollment(const YAML::Node& n, PipelineConfig& c) {
  if (!n.IsDefined()) return {};
  if (auto r = onlyKeys(n, "enrollment",
                        {"ek_ca", "ek_intermediates", "auto_approve", "ttl", "max_attempts"});
      !r) {
    return r;
  }
  if (n["ek_ca"]) BW_SET(c.ek_ca.trusted, strings(n["ek_ca"], "enrollment.ek_ca"));
  if (n["ek_intermediates"])
    BW_SET(c.ek_ca.intermediates, strings(n["ek_intermediates"], "enrollment.ek_intermediates"));
  if (n["auto_approve"])
    BW_SET(c.auto_approve, boolean(n["auto_approve"], "enrollment.auto_approve"));
  if (n["ttl"])
    BW_SET(c.enrollment_ttl, duration(n["ttl"], "enrollment.ttl", seconds{30}, seconds{3600}));
  if (n["max_attempts"])
    BW_SET(c.max_attempts, integer(n["max_attempts"], "enrollment.max_attempts", 1, 10));
  return {};
}

Result<std::uint32_t> pcrIndex(const YAML::Node& n, const std::string& key) {
  auto v = integer(n, key, 0, 23);
  if (!v) return std::unexpected(v.error());
  // Resettable PCRs can be reset by anyone at locality 0 (DESIGN §4).
  if (*v == 16 || *v == 23) return bad(key, "PCRs 16 and 23 are resettable and cannot be attested");
  return static_cast<std::uint32_t>(*v);
}

Result<void> parseAppraisal(const YAML::Node& n, PipelineConfig& c) {
  if (!n.IsDefined()) return {};
  if (auto r = onlyKeys(n, "appraisal",
                        {"pcr_bank", "measurement_pcr", "pcrs", "boot_pcrs", "ima_pcr", "nonce_ttl",
                         "ima_policy", "boot_policy"});
      !r) {
    return r;
  }
  if (n["pcr_bank"]) {
    auto b = text(n["pcr_bank"], "appraisal.pcr_bank");
    if (!b) return std::unexpected(b.error());
    auto alg = hashAlgFromName(*b);
    if (!alg || *alg == HashAlg::kSha1)
      return bad("appraisal.pcr_bank", "must be sha256, sha384 or sha512");
    c.pcr_bank = *alg;
  }
  if (n["measurement_pcr"])
    BW_SET(c.measurement_pcr, pcrIndex(n["measurement_pcr"], "appraisal.measurement_pcr"));
  if (n["pcrs"]) {
    if (!n["pcrs"].IsSequence()) return bad("appraisal.pcrs", "must be a list of PCR indices");
    for (std::size_t i = 0; i < n["pcrs"].size(); ++i) {
      std::uint32_t p = 0;
      BW_SET(p, pcrIndex(n["pcrs"][i], "appraisal.pcrs[" + std::to_string(i) + "]"));
      c.extra_pcrs.push_back(p);
    }
  }
  if (n["boot_pcrs"]) BW_SET(c.boot_pcrs, boolean(n["boot_pcrs"], "appraisal.boot_pcrs"));
  if (n["ima_pcr"]) BW_SET(c.ima_pcr, boolean(n["ima_pcr"], "appraisal.ima_pcr"));
  if (n["nonce_ttl"])
    BW_SET(c.nonce_ttl,
           duration(n["nonce_ttl"], "appraisal.nonce_ttl", seconds{10}, seconds{3600}));
  if (n["ima_policy"]) BW_SET(c.ima_policy_file, text(n["ima_policy"], "appraisal.ima_policy"));
  if (n["boot_policy"]) {
    BW_SET(c.boot_policy_file, text(n["boot_policy"], "appraisal.boot_policy"));
    if (!c.boot_pcrs) return bad("appraisal.boot_policy", "needs appraisal.boot_pcrs: true (PCRs 0-9 quoted)");
  }
  return {};
}

Result<void> parseProfiles(const YAML::Node& n, PipelineConfig& c) {
  c.isolation_profiles["default"] = IsolationProfile{};
  if (!n.IsDefined()) return {};
  if (!n.IsMap()) return bad("isolation_profiles", "must be a mapping of node group to profile");
  for (const auto& kv : n) {
    std::string group = kv.first.Scalar();
    std::string key = "isolation_profiles." + group;
    if (auto r = onlyKeys(kv.second, key, {"allow", "fail_severity"}); !r) return r;
    IsolationProfile p;
    p.name = group;
    if (kv.second["allow"]) BW_SET(p.allow, strings(kv.second["allow"], key + ".allow"));
    if (kv.second["fail_severity"]) {
      BW_SET(p.fail_severity, text(kv.second["fail_severity"], key + ".fail_severity"));
      if (severityRank(p.fail_severity) < 0)
        return bad(key + ".fail_severity", "must be low, medium, high or critical");
    }
    c.isolation_profiles[group] = std::move(p);
  }
  return {};
}
}  // namespace

attest::PcrSelection PipelineConfig::selection() const {
  std::uint32_t mask = 1u << measurement_pcr;
  for (std::uint32_t p : extra_pcrs) mask |= 1u << p;
  if (boot_pcrs) mask |= 0x3FFu;
  if (ima_pcr) mask |= 1u << 10;
  attest::PcrSelection s;
  (void)s.add(pcr_bank, mask);  // one bank, non-empty mask: cannot fail
  return s;
}

Result<PipelineConfig> parsePipelineConfig(std::string_view yaml) {
  try {
    YAML::Node doc = YAML::Load(std::string(yaml));
    if (!doc.IsMap()) return bad("configuration", "must be a mapping");
    PipelineConfig c;
    if (auto r = parseAgentCa(doc["agent_ca"], c); !r) return std::unexpected(r.error());
    if (auto r = parseEnrollment(doc["enrollment"], c); !r) return std::unexpected(r.error());
    if (auto r = parseAppraisal(doc["appraisal"], c); !r) return std::unexpected(r.error());
    if (auto r = parseProfiles(doc["isolation_profiles"], c); !r) return std::unexpected(r.error());
    if (doc["freshness_ttl"]) {
      BW_SET(c.freshness_ttl,
             duration(doc["freshness_ttl"], "freshness_ttl", seconds{10}, seconds{7 * 86400}));
    }
    if (!c.agent_ca_cert.empty() && c.ek_ca.trusted.empty()) {
      return bad("enrollment.ek_ca",
                 "is required when agent_ca is set (TPM vendor CA files or directories)");
    }
    return c;
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, "YAML: " + e.msg);
  }
}

Result<PipelineConfig> loadPipelineConfig(const std::string& path) {
  auto bytes = readFile(path, 1u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  auto c = parsePipelineConfig(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!c) return std::unexpected(c.error().within(path));
  return c;
}

}  // namespace bulwark::server
