// IMA runtime policy on the real 826-entry list: allowlist, excludes, and each
// finding kind for the reason it names.
#include "attest/ima/ima_policy.h"

#include <gtest/gtest.h>

#include <string>

#include "attest/ima/ima_log.h"
#include "tests/unit/ima/ima_testdata.h"

namespace bulwark::attest::ima {
namespace {

std::vector<ImaEntry> realEntries() {
  auto log = parseImaLog(realLog());
  EXPECT_TRUE(log.has_value());
  return log ? log->entries : std::vector<ImaEntry>{};
}

// The allowlist a reference node would produce: every (path, digest) it measured.
ImaPolicy learnedPolicy(const std::vector<ImaEntry>& entries) {
  ImaPolicy p;
  for (const auto& e : entries) p.allowlist[e.path].insert(toHex(e.file_digest));  // bare hex
  auto n = normaliseImaPolicy(p);
  EXPECT_TRUE(n.has_value());
  return *n;
}

TEST(ImaPolicy, LearnedAllowlistAcceptsTheWholeList) {
  auto entries = realEntries();
  ASSERT_EQ(entries.size(), 826u);
  EXPECT_TRUE(evaluateImaPolicy(entries, learnedPolicy(entries)).empty());
}

TEST(ImaPolicy, FindingsNameTheirReason) {
  auto entries = realEntries();
  ImaPolicy base = learnedPolicy(entries);

  ImaPolicy missing = base;
  missing.allowlist.erase("/bin/sh");
  auto f = evaluateImaPolicy(entries, missing);
  ASSERT_FALSE(f.empty());
  for (const auto& x : f) {
    EXPECT_EQ(x.kind, ImaFindingKind::kUnknownFile);
    EXPECT_EQ(x.path, "/bin/sh");
  }
  EXPECT_EQ(f[0].entry_index, 2u);

  ImaPolicy wrong = base;
  wrong.allowlist["/init"] = {"sha1:" + std::string(40, '0')};
  f = evaluateImaPolicy(entries, wrong);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, ImaFindingKind::kDigestMismatch);
  EXPECT_EQ(f[0].path, "/init");

  ImaPolicy excl;
  excl.excludes = {"*"};
  EXPECT_TRUE(evaluateImaPolicy(entries, excl).empty());
  excl.excludes = {"/lib/*", "/usr/*"};
  f = evaluateImaPolicy(entries, excl);
  ASSERT_FALSE(f.empty());
  for (const auto& x : f) {
    EXPECT_FALSE(x.path.starts_with("/lib/") || x.path.starts_with("/usr/")) << x.path;
  }
}

TEST(ImaPolicy, TamperedLinesAndViolations) {
  std::string text = realLog();
  text[text.find("/bin/sh") + 5] = 'z';
  std::string violation = "10 " + std::string(40, '0') + " ima-ng sha1:" + std::string(40, '0') + " /var/log/x\n";
  auto log = parseImaLog(text + violation);
  ASSERT_TRUE(log.has_value());
  ImaPolicy p = learnedPolicy(realEntries());
  p.allowlist["/bin/zh"] = p.allowlist["/bin/sh"];  // even allowlisted, a lying line is a finding
  auto f = evaluateImaPolicy(log->entries, p);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].kind, ImaFindingKind::kTemplateHashMismatch);
  EXPECT_EQ(f[0].entry_index, 2u);
  EXPECT_EQ(f[1].kind, ImaFindingKind::kMeasurementViolation);
  p.allow_violations = true;
  EXPECT_EQ(evaluateImaPolicy(log->entries, p).size(), 1u);
}

TEST(ImaPolicyJson, ParsesNormalisesAndRejects) {
  auto p = parseImaPolicyJson(R"({"allowlist": {"/init": ["SHA1:19F13B42C2745066347E76454788C0FE083643F3"],
                                                 "/bin/sh": ["c90333979f56f38bbd41b81806015b0de502f3cc"]},
                                  "excludes": ["/tmp/*"], "allow_violations": true})");
  ASSERT_TRUE(p.has_value()) << p.error().toString();
  EXPECT_TRUE(p->allowlist.at("/init").contains("sha1:19f13b42c2745066347e76454788c0fe083643f3"));
  EXPECT_TRUE(p->allowlist.at("/bin/sh").contains("sha1:c90333979f56f38bbd41b81806015b0de502f3cc"));
  EXPECT_TRUE(p->allow_violations);
  const char* bad[] = {
      R"([])",
      R"({"allowlist": {"/a": "ab"}})",
      R"({"allowlist": {"/a": ["zz"]}})",
      R"({"allowlist": {"/a": ["abc"]}})",
      R"({"allowlist": {"/a": ["sha256:ab"]}})",
      R"({"excludes": [1]})",
      R"({"exclude": []})",
      R"({"allow_violations": "yes"})",
  };
  for (const char* j : bad) {
    auto r = parseImaPolicyJson(j);
    ASSERT_FALSE(r.has_value()) << j;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << j;
  }
}

}  // namespace
}  // namespace bulwark::attest::ima

