#include "server/report/bundle_expect.h"

#include <map>
#include <optional>

#include "attest/ear/json_int.h"
#include "server/report/report_model.h"

namespace bulwark::server::report {

namespace {
using nlohmann::json;

constexpr std::int64_t kMaxInt = INT64_MAX;

std::optional<std::int64_t> intOf(const json& o, std::string_view key) {
  const json* v = member(o, key);
  return v ? attest::jsonInt(*v, -kMaxInt, kMaxInt) : std::nullopt;
}

std::optional<std::string> strOf(const json& o, std::string_view key) {
  const json* v = member(o, key);
  return v && v->is_string() ? std::optional<std::string>(v->get<std::string>()) : std::nullopt;
}

// What the report says about one appraisal.
struct Expected {
  std::string node;
  std::int64_t id = 0;
  std::int64_t appraised_at = 0;
  std::int64_t fresh_until = 0;
  std::string status;
  std::int64_t policy_version = 0;
  std::optional<std::string> evidence_sha256;
  std::optional<std::string> ear_sha256;
  const json* trust_vector = nullptr;
  bool seen = false;
};

std::optional<Expected> expectedOf(const json& e, const std::string& node, const char* at_key) {
  auto id = intOf(e, "appraisal_id");
  auto at = intOf(e, at_key);
  auto fresh = intOf(e, "fresh_until_unix_ms");
  auto status = strOf(e, "status");
  auto policy = intOf(e, "policy_version");
  if (!id || !at || !fresh || !status || !policy) return std::nullopt;
  Expected x{node,
             *id,
             *at,
             *fresh,
             *status,
             *policy,
             strOf(e, "evidence_sha256"),
             strOf(e, "ear_sha256"),
             member(e, "trust_vector"),
             false};
  return x;
}

using ExpectedMap = std::map<std::int64_t, Expected>;

void add(ExpectedMap& out, const json& e, const std::string& node, const char* at_key,
         std::vector<std::string>& reasons) {
  auto x = expectedOf(e, node, at_key);
  if (!x) {
    reasons.push_back(
        "bundle-report-malformed: an appraisal entry lacks id, times, status or policy");
    return;
  }
  out.emplace(x->id, std::move(*x));
}

ExpectedMap expectations(const json& content, std::vector<std::string>& reasons) {
  ExpectedMap out;
  const json* report = member(content, "report");
  const json* scope = member(content, "scope");
  const json* kind = report ? member(*report, "kind") : nullptr;
  if (!kind || !scope) {
    reasons.push_back("bundle-report-malformed: no report kind or scope");
    return out;
  }
  if (*scope == "node" && *kind == kNodeReportKind) {
    const json* node = member(*report, "node");
    auto name = node ? strOf(*node, "name") : std::nullopt;
    if (!name || member(content, "node") == nullptr || *member(content, "node") != *name) {
      reasons.push_back("bundle-scope-mismatch: bundle node and report node differ");
      return out;
    }
    const json* verdict = member(*report, "verdict");
    if (verdict && !verdict->is_null()) add(out, *verdict, *name, "appraised_at_unix_ms", reasons);
    const json* timeline = member(*report, "timeline");
    if (timeline && timeline->is_array()) {
      for (const json& e : *timeline) add(out, e, *name, "appraised_at_unix_ms", reasons);
    }
  } else if (*scope == "fleet" && *kind == kFleetReportKind) {
    const json* nodes = member(*report, "nodes");
    if (nodes && nodes->is_array()) {
      for (const json& n : *nodes) {
        const json* id = member(n, "appraisal_id");
        if (id && id->is_null()) continue;  // never appraised: nothing to vouch for
        add(out, n, strOf(n, "name").value_or(""), "last_attestation_unix_ms", reasons);
      }
    }
  } else {
    reasons.push_back("bundle-scope-mismatch: scope does not match the report kind");
  }
  return out;
}

// Differences between a verified EAR (and its bundle entry) and the report's appraisal.
std::vector<std::string> claimMismatches(const attest::Ear& ear, const Expected& x,
                                         const json& entry) {
  std::vector<std::string> out;
  auto sub = ear.submods.find(x.node);
  if (ear.submods.size() != 1 || sub == ear.submods.end()) {
    out.push_back("submodule is not labelled with the node name");
    return out;
  }
  const attest::Appraisal& a = sub->second;
  if (attest::tierName(a.status) != x.status) {
    out.push_back("status " + std::string(attest::tierName(a.status)) + " in the EAR, " + x.status +
                  " in the report");
  }
  if (ear.iat != x.appraised_at / 1000) out.push_back("iat differs from the appraisal time");
  if (ear.exp != x.fresh_until / 1000) out.push_back("exp differs from the freshness deadline");
  if (a.policy_id != "bulwark:policy:v" + std::to_string(x.policy_version) ||
      intOf(entry, "policy_version") != x.policy_version) {
    out.push_back("policy version differs");
  }
  if (x.evidence_sha256 && strOf(entry, "evidence_sha256") != x.evidence_sha256) {
    out.push_back("evidence digest differs");
  }
  if (x.ear_sha256 && strOf(entry, "ear_sha256") != x.ear_sha256) {
    out.push_back("EAR digest differs from the report's");
  }
  if (x.trust_vector) {
    auto v = attest::TrustVector::fromJson(*x.trust_vector);
    if (!v || !(*v == a.vector)) out.push_back("trust vector differs");
  }
  return out;
}

void checkOne(const json& entry, std::size_t index, ExpectedMap& expected,
              const EarVerifyFn& verify, std::vector<std::string>& reasons) {
  auto node = strOf(entry, "node");
  auto id = intOf(entry, "appraisal_id");
  auto token = strOf(entry, "ear");
  auto digest = strOf(entry, "ear_sha256");
  std::string where = "attestations[" + std::to_string(index) + "]";
  if (!node || !id || !token || !digest) {
    reasons.push_back("bundle-malformed: " + where +
                      " lacks node, appraisal_id, ear or ear_sha256");
    return;
  }
  where = "node " + *node + " appraisal #" + std::to_string(*id);
  if (earDigest(*token) != *digest) reasons.push_back("ear-digest-mismatch: " + where);
  auto x = expected.find(*id);
  if (x == expected.end() || x->second.node != *node) {
    reasons.push_back("ear-unreferenced: " + where + " is not in the report");
    return;
  }
  x->second.seen = true;
  auto ear = verify(*token, {x->second.appraised_at / 1000, 0});
  if (!ear) {
    reasons.push_back("ear-rejected: " + where + ": " + ear.error().toString());
    return;
  }
  for (const std::string& m : claimMismatches(*ear, x->second, entry)) {
    reasons.push_back("ear-claims-mismatch: " + where + ": " + m);
  }
}
}  // namespace

const json* member(const json& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

void checkAttestations(const json& content, const EarVerifyFn& verify,
                       std::vector<std::string>& reasons) {
  ExpectedMap expected = expectations(content, reasons);
  const json* list = member(content, "attestations");
  if (!list || !list->is_array()) {
    reasons.push_back("bundle-malformed: attestations array missing");
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) checkOne((*list)[i], i, expected, verify, reasons);
  for (const auto& [id, x] : expected) {
    if (!x.seen) {
      reasons.push_back("ear-missing: node " + x.node + " appraisal #" + std::to_string(id) +
                        " has no EAR in the bundle");
    }
  }
}

}  // namespace bulwark::server::report
