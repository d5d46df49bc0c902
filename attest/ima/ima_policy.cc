#include "attest/ima/ima_policy.h"

#include <fnmatch.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace bulwark::attest::ima {

namespace {

std::unexpected<Error> bad(const std::string& what) {
  return fail(ErrorCode::kInvalidArgument, what, "ima policy");
}

Result<std::string> normaliseDigest(std::string d, const std::string& path) {
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string alg;
  std::string hex = d;
  if (auto colon = d.find(':'); colon != std::string::npos) {
    alg = d.substr(0, colon);
    hex = d.substr(colon + 1);
  }
  auto bytes = fromHex(hex);
  if (!bytes || bytes->empty()) return bad("digest for " + path + " is not hex");
  if (alg.empty()) {
    for (HashAlg a : kAllHashAlgs) {
      if (hashAlgSize(a) == bytes->size()) alg = std::string(hashAlgName(a));
    }
    if (alg.empty()) return bad("digest for " + path + " has no algorithm and an unknown length");
  } else if (auto known = hashAlgFromName(alg); known && hashAlgSize(*known) != bytes->size()) {
    return bad(alg + " digest for " + path + " of " + std::to_string(bytes->size()) + " bytes");
  }
  return alg + ":" + toHex(*bytes);
}

bool excluded(const std::string& path, const std::vector<std::string>& globs) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& g) { return ::fnmatch(g.c_str(), path.c_str(), 0) == 0; });
}

}  // namespace

std::string_view imaFindingKindName(ImaFindingKind kind) {
  switch (kind) {
    case ImaFindingKind::kUnknownFile: return "unknown-file";
    case ImaFindingKind::kDigestMismatch: return "digest-mismatch";
    case ImaFindingKind::kTemplateHashMismatch: return "template-hash-mismatch";
    case ImaFindingKind::kMeasurementViolation: return "measurement-violation";
  }
  return "unknown";
}

Result<ImaPolicy> normaliseImaPolicy(ImaPolicy policy) {
  for (auto& [path, digests] : policy.allowlist) {
    std::set<std::string> out;
    for (const auto& d : digests) {
      auto n = normaliseDigest(d, path);
      if (!n) return std::unexpected(n.error());
      out.insert(std::move(*n));
    }
    digests = std::move(out);
  }
  return policy;
}

Result<ImaPolicy> parseImaPolicyJson(std::string_view text) {
  using nlohmann::json;
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return bad("must be a JSON object");
  ImaPolicy p;
  for (const auto& [key, value] : doc.items()) {
    if (key == "allow_violations" && value.is_boolean()) {
      p.allow_violations = value.get<bool>();
    } else if (key == "excludes" && value.is_array()) {
      for (const auto& g : value) {
        if (!g.is_string()) return bad("excludes must be strings");
        p.excludes.push_back(g.get<std::string>());
      }
    } else if (key == "allowlist" && value.is_object()) {
      for (const auto& [path, digests] : value.items()) {
        if (!digests.is_array()) return bad("allowlist." + path + " must be an array");
        for (const auto& d : digests) {
          if (!d.is_string()) return bad("allowlist." + path + " must hold strings");
          p.allowlist[path].insert(d.get<std::string>());
        }
      }
    } else {
      return bad("unknown key or wrong type: " + key);
    }
  }
  return normaliseImaPolicy(std::move(p));
}

std::vector<ImaFinding> evaluateImaPolicy(std::span<const ImaEntry> entries, const ImaPolicy& policy) {
  std::vector<ImaFinding> out;
  for (const auto& e : entries) {
    if (e.isViolation()) {
      if (!policy.allow_violations) {
        out.push_back({e.index, e.path, ImaFindingKind::kMeasurementViolation, "all-zero template hash"});
      }
      continue;
    }
    if (!e.template_hash_ok) {
      out.push_back({e.index, e.path, ImaFindingKind::kTemplateHashMismatch,
                     "logged " + toHex(e.template_hash) + " does not match the template data"});
      continue;
    }
    auto allowed = policy.allowlist.find(e.path);
    if (allowed == policy.allowlist.end()) {
      if (!excluded(e.path, policy.excludes)) {
        out.push_back({e.index, e.path, ImaFindingKind::kUnknownFile, e.fileDigestString()});
      }
      continue;
    }
    if (!allowed->second.contains(e.fileDigestString())) {
      out.push_back({e.index, e.path, ImaFindingKind::kDigestMismatch, e.fileDigestString() + " not allowed"});
    }
  }
  return out;
}

}  // namespace bulwark::attest::ima
