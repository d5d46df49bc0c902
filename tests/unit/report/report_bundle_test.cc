// The signed bundle: made from a report and its EARs, checked offline against a JWKS.
// Every changed byte of the file is rejected; EARs that do not verify or do not say what
// the report says are named.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "attest/ear/ear.h"
#include "attest/ear/jwk.h"
#include "attest/ear/verifier_key.h"
#include "server/report/bundle.h"
#include "tests/unit/report/report_test_data.h"

namespace bulwark::server::report::test {
namespace {
using nlohmann::json;

attest::EvpPkeyPtr newKey() {
  auto k = attest::generateP256Key();
  EXPECT_TRUE(k.has_value());
  return std::move(*k);
}

json jwksOf(EVP_PKEY* key) { return attest::jwks({*attest::publicJwk(key)}); }

std::string earFor(const AppraisalRecord& a, EVP_PKEY* key, const std::string& label = "node-a") {
  attest::Ear ear;
  ear.iat = a.appraised_at / 1000;
  ear.exp = a.fresh_until / 1000;
  ear.verifier_id = {"https://github.com/bulwark", "test"};
  attest::Appraisal ap;
  ap.status = *attest::tierFromName(appraisalStatusName(a.status));
  ap.vector = *attest::TrustVector::fromJson(json::parse(a.trust_vector_json));
  ap.policy_id = "bulwark:policy:v" + std::to_string(a.policy_version);
  ear.submods[label] = ap;
  auto token = attest::signEar(ear, key);
  EXPECT_TRUE(token.has_value()) << (token ? "" : token.error().toString());
  return token.value_or("");
}

struct Signed {
  attest::EvpPkeyPtr key = newKey();
  NodeReportInput in = hostileInput();
  std::vector<BundleAttestation> ears;

  Signed() {
    for (AppraisalRecord& a : in.history) a.ear = earFor(a, key.get());
    in.latest = in.history.front();
    for (const AppraisalRecord& a : in.history) ears.push_back(attestationOf(a));
  }
  static BundleAttestation attestationOf(const AppraisalRecord& a) {
    return {a.node, a.id, a.ear, a.evidence_digest, a.policy_version};
  }
  std::string bundle() const {
    auto b = makeBundle(nodeReport(in), ears, key.get());
    EXPECT_TRUE(b.has_value()) << (b ? "" : b.error().toString());
    return b.value_or("");
  }
  BundleCheck check(const std::string& file) const {
    auto c = verifyBundle(file, jwksOf(key.get()));
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().toString());
    return c.value_or(BundleCheck{{"check failed"}, nullptr});
  }
};

std::string joined(const BundleCheck& c) {
  std::string s;
  for (const std::string& r : c.reasons) s += r + "\n";
  return s;
}

bool hasReason(const BundleCheck& c, std::string_view prefix) {
  for (const std::string& r : c.reasons) {
    if (r.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(ReportBundle, NodeAndFleetBundlesVerify) {
  Signed s;
  std::string file = s.bundle();
  ASSERT_EQ(file.back(), '\n');
  BundleCheck c = s.check(file);
  EXPECT_TRUE(c.ok()) << joined(c);
  EXPECT_EQ(c.content["scope"], "node");
  EXPECT_EQ(c.content["attestations"].size(), 3u);
  EXPECT_EQ(c.content["report"]["node"]["name"], "node-a");

  FleetReportInput fleet;
  fleet.now = s.in.now;
  const AppraisalRecord& a = *s.in.latest;
  fleet.fleet = {
      {s.in.node, AppraisalSummary{a.id, a.appraised_at, a.status, a.reasons_json, a.fresh_until,
                                   a.policy_version}},
      {NodeSummary{"node-b", NodeState::kEnrolling, "", kT0, std::nullopt, kT0}, std::nullopt}};
  auto fb = makeBundle(fleetReport(fleet), {Signed::attestationOf(a)}, s.key.get());
  ASSERT_TRUE(fb.has_value());
  BundleCheck fc = s.check(*fb);
  EXPECT_TRUE(fc.ok()) << joined(fc);
  EXPECT_EQ(fc.content["scope"], "fleet");
}

// Flips one bit per byte: every byte of the detached signature and of the EAR, and every
// 7th byte of the rest (report content, digests, framing). Each variant must be rejected.
TEST(ReportBundle, EveryModifiedByteIsRejected) {
  Signed s;
  s.in.history.resize(1);  // one appraisal, one EAR
  s.in.latest = s.in.history.front();
  s.ears.resize(1);
  std::string file = s.bundle();
  ASSERT_TRUE(s.check(file).ok());
  auto range = [&](std::string_view key) {
    std::size_t b = file.find("\"" + std::string(key) + "\":\"");
    EXPECT_NE(b, std::string::npos) << key;
    b += key.size() + 4;
    return std::pair{b, file.find('"', b)};
  };
  auto [ear_b, ear_e] = range("ear");
  auto [sig_b, sig_e] = range("signature");
  json jwks = jwksOf(s.key.get());
  std::size_t tried = 0, accepted = 0;
  for (std::size_t i = 0; i < file.size(); ++i) {
    bool exhaustive = (i >= ear_b && i < ear_e) || (i >= sig_b && i < sig_e);
    if (!exhaustive && i % 7 != 0) continue;
    std::string m = file;
    m[i] = static_cast<char>(m[i] ^ 0x01);
    auto c = verifyBundle(m, jwks);
    ASSERT_TRUE(c.has_value());
    ++tried;
    if (c->ok()) {
      ++accepted;
      ADD_FAILURE() << "byte " << i << " ('" << file[i] << "') modified and accepted";
    }
  }
  EXPECT_EQ(accepted, 0u) << "of " << tried << " modified bytes";
  EXPECT_GT(ear_e - ear_b, 100u);
  EXPECT_EQ(sig_e - sig_b, 2u + 86u + std::string_view(file).substr(sig_b).find(".."));
  EXPECT_FALSE(s.check(file + "\n").ok());
  EXPECT_FALSE(s.check(file.substr(0, file.size() - 1)).ok());
  EXPECT_FALSE(s.check(" " + file).ok());
}

TEST(ReportBundle, NamedReasons) {
  Signed s;
  auto other = newKey();
  struct Case {
    std::string name;
    std::function<void(Signed&)> change;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"EAR by a foreign key",
       [&](Signed& x) { x.ears[1].ear = earFor(x.in.history[1], other.get()); },
       "ear-rejected: node node-a appraisal #2"},
      {"EAR for another node",
       [&](Signed& x) { x.ears[0].ear = earFor(x.in.history[0], x.key.get(), "node-b"); },
       "ear-claims-mismatch: node node-a appraisal #3: submodule"},
      {"EAR status differs from the report",
       [&](Signed& x) {
         AppraisalRecord a = x.in.history[2];
         a.status = AppraisalStatus::kNone;
         a.trust_vector_json = "{}";
         x.ears[2].ear = earFor(a, x.key.get());
       },
       "ear-claims-mismatch: node node-a appraisal #1: status none"},
      {"EAR missing", [](Signed& x) { x.ears.pop_back(); },
       "ear-missing: node node-a appraisal #1"},
      {"EAR not in the report",
       [](Signed& x) {
         x.ears.push_back(x.ears[0]);
         x.ears.back().appraisal_id = 99;
       },
       "ear-unreferenced: node node-a appraisal #99"},
      {"evidence digest differs", [](Signed& x) { x.ears[0].evidence_digest = Bytes(32, 1); },
       "ear-claims-mismatch: node node-a appraisal #3: evidence digest"},
  };
  for (Case& c : cases) {
    Signed x;
    c.change(x);
    BundleCheck r = x.check(x.bundle());
    EXPECT_TRUE(hasReason(r, c.reason)) << c.name << ":\n" << joined(r);
  }
  // A JWKS without the bundle's key: the bundle and every EAR are rejected.
  std::string file = s.bundle();
  auto wrong = verifyBundle(file, jwksOf(other.get()));
  ASSERT_TRUE(wrong.has_value());
  EXPECT_TRUE(hasReason(*wrong, "bundle-key-unknown")) << joined(*wrong);
  EXPECT_TRUE(hasReason(*wrong, "ear-rejected")) << joined(*wrong);
  // Whitespace alone changes the bytes: not canonical.
  json pretty = json::parse(file);
  EXPECT_TRUE(hasReason(s.check(pretty.dump(1) + "\n"), "bundle-not-canonical"));
  // Not JSON, not a bundle, too large.
  EXPECT_TRUE(hasReason(s.check("nope"), "bundle-malformed"));
  EXPECT_TRUE(hasReason(s.check("{}\n"), "bundle-format"));
  EXPECT_TRUE(hasReason(s.check(std::string(kMaxBundleBytes + 1, ' ')), "bundle-malformed"));
  // Deep nesting is refused while parsing (serialising it would recurse once per level);
  // brackets inside strings, escaped quotes included, do not count.
  std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}\n";
  EXPECT_TRUE(hasReason(s.check(deep), "bundle-malformed: nested deeper")) << joined(s.check(deep));
  // kMaxBundleDepth levels (the outer object included) parse; one more is refused.
  auto nested = [](std::size_t levels) {
    return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}\n";
  };
  EXPECT_FALSE(hasReason(s.check(nested(kMaxBundleDepth)), "bundle-malformed"));
  EXPECT_TRUE(hasReason(s.check(nested(kMaxBundleDepth + 1)), "bundle-malformed: nested deeper"));
  std::string quoted = "{\"a\":\"\\\"" + std::string(100, '[') + "\"}\n";
  EXPECT_TRUE(hasReason(s.check(quoted), "bundle-format")) << joined(s.check(quoted));
}

TEST(ReportBundle, UnusableJwksIsAnError) {
  Signed s;
  std::string file = s.bundle();
  for (json jwks : {json::object(), json{{"keys", json::array()}},
                    json{{"keys", json::array({{{"kty", "EC"}, {"crv", "P-384"}}})}}}) {
    auto r = verifyBundle(file, jwks);
    ASSERT_FALSE(r.has_value()) << jwks.dump();
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  // A report that is not a report cannot be bundled.
  EXPECT_FALSE(makeBundle(json::object(), {}, s.key.get()).has_value());
}

}  // namespace
}  // namespace bulwark::server::report::test

namespace bulwark::server::report::test {
namespace {

std::string corpusFile(const std::string& name) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  std::string path = std::string(src ? src : ".") + "/tests/fuzz/corpus/report_bundle_fuzz/" + name;
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Bundles made from docs/reports.md by an independent implementation (PyJWT for the EARs,
// python3-cryptography for the detached JWS; corpus/report_bundle_fuzz/make_seeds.py)
// verify with ours; one changed byte still fails.
TEST(ReportBundle, PythonMadeBundleVerifies) {
  json jwks = json::parse(corpusFile("jwks.json"), nullptr, false);
  ASSERT_TRUE(jwks.is_object()) << "run make_seeds.py";
  for (const char* name : {"node.json", "fleet.json"}) {
    std::string file = corpusFile(name);
    ASSERT_FALSE(file.empty()) << name;
    auto c = verifyBundle(file, jwks);
    ASSERT_TRUE(c.has_value());
    std::string reasons;
    for (const auto& r : c->reasons) reasons += r + "\n";
    EXPECT_TRUE(c->ok()) << name << ":\n" << reasons;
    std::size_t at = file.find("\"status\":\"affirming\"");
    ASSERT_NE(at, std::string::npos);
    file[at + 10] = 'A';
    EXPECT_FALSE(verifyBundle(file, jwks)->ok()) << name;
  }
}

}  // namespace
}  // namespace bulwark::server::report::test
