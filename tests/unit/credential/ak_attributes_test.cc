// AK enrollment checks. The accepted publics are real: captured from swtpm 0.7.1
// with tpm2-tools 5.4 (`tpm2_createak -C 0x81010001 -G rsa -g sha256 -s rsassa -u ak.pub`
// and `tpm2_createak -C 0x81010016 -G ecc -g sha256 -s ecdsa -u ak.pub`, then
// `xxd -p -c 1000 ak.pub`). Each rejection case flips one property and must yield
// exactly its own reason.
#include "attest/credential/ak_attributes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bulwark::attest {
namespace {

constexpr const char* kRsaAk =
    "01180001000b00050072000000100014000b0800000000000100a8c083307f30934ba83917a3038bbe2382d713"
    "cb0bf73b1234a89c9c24c14cd76d5859b16122b5ae7aa817724142039ab09c1fae00b8db421caee143f4c0f1fd"
    "a2bef8771276f1d1f745d148796269b965c8d40dd00de885f17e17edc1a84176064160c42a45abee4093ff1eb3"
    "b9382ba0a09e5386269915608606e99199205d15da8181014397063068e562fbf3b38fd4d6823c7d9b2e27773a"
    "96b2d567cd0539ba37743503124e286dc0288333a330232492cff74692c3eff4b9c5ae1cfe374c2d62c3257624"
    "272559d51fcdc63d9d344e26a9035dd3dd06b7126a9eb35a14d58cd72e973c285679825b8cdbbedeffdef60c32"
    "99ec5379b763f238509fcd1d";
constexpr const char* kEccAk =
    "00580023000c00050072000000100018000b000300100020a33825e9a392c8494b5f025df1410b04b304f52ea6"
    "f9d0be722c38e3f8293b130020fd9dac0bb181705414eeabc6b95e00064d093484f31862ceb25ffd5cb5edef4e";

TpmPublic load(const char* hex) {
  auto pub = parseTpm2bPublic(fromHex(hex).value());
  EXPECT_TRUE(pub.has_value()) << pub.error().toString();
  return pub.value_or(TpmPublic{});
}

std::vector<std::string> codes(const AkAttributeCheck& check) {
  std::vector<std::string> out;
  for (const auto& r : check.reasons) out.push_back(r.code);
  return out;
}

TEST(AkAttributes, AcceptsTpm2CreateakKeys) {
  for (const char* hex : {kRsaAk, kEccAk}) {
    auto check = checkAkAttributes(load(hex));
    EXPECT_TRUE(check.accepted()) << ::testing::PrintToString(codes(check));
  }
}

struct Case {
  const char* what;
  const char* ak;
  void (*mutate)(TpmPublic&);
  std::vector<std::string> expected;
};

TEST(AkAttributes, EachViolationHasItsOwnReason) {
  using V = std::vector<std::string>;
  const Case cases[] = {
      {"restricted clear", kRsaAk, [](TpmPublic& p) { p.attributes &= ~object_attr::kRestricted; },
       V{"ak-not-restricted"}},
      {"sign clear", kEccAk, [](TpmPublic& p) { p.attributes &= ~object_attr::kSign; },
       V{"ak-not-sign"}},
      {"fixedTPM clear", kRsaAk, [](TpmPublic& p) { p.attributes &= ~object_attr::kFixedTpm; },
       V{"ak-not-fixed-tpm"}},
      {"fixedParent clear", kEccAk,
       [](TpmPublic& p) { p.attributes &= ~object_attr::kFixedParent; }, V{"ak-not-fixed-parent"}},
      {"sensitiveDataOrigin clear", kRsaAk,
       [](TpmPublic& p) { p.attributes &= ~object_attr::kSensitiveDataOrigin; },
       V{"ak-not-sensitive-data-origin"}},
      {"decrypt set", kRsaAk, [](TpmPublic& p) { p.attributes |= object_attr::kDecrypt; },
       V{"ak-decrypt-set"}},
      {"RSA scheme NULL", kRsaAk, [](TpmPublic& p) { p.scheme = 0x0010; },
       V{"ak-scheme-unsupported"}},
      {"RSA with ECDSA scheme", kRsaAk, [](TpmPublic& p) { p.scheme = 0x0018; },
       V{"ak-scheme-unsupported"}},
      {"ECC with RSASSA scheme", kEccAk, [](TpmPublic& p) { p.scheme = 0x0014; },
       V{"ak-scheme-unsupported"}},
      {"RSAPSS is fine", kRsaAk, [](TpmPublic& p) { p.scheme = 0x0016; }, V{}},
      {"scheme hash SHA-1", kRsaAk, [](TpmPublic& p) { p.scheme_hash = 0x0004; },
       V{"ak-scheme-hash-weak"}},
      {"scheme hash SHA-384 is fine", kEccAk, [](TpmPublic& p) { p.scheme_hash = 0x000c; }, V{}},
      {"nameAlg SHA-1", kRsaAk, [](TpmPublic& p) { p.name_alg = HashAlg::kSha1; },
       V{"ak-name-alg-weak"}},
      {"RSA-1024", kRsaAk, [](TpmPublic& p) { p.rsa_bits = 1024; }, V{"ak-key-unsupported"}},
      {"curve BN-256", kEccAk, [](TpmPublic& p) { p.curve = 0x0010; }, V{"ak-key-unsupported"}},
      {"an EK-like storage key collects every reason", kRsaAk,
       [](TpmPublic& p) {
         p.attributes = (p.attributes | object_attr::kDecrypt) & ~object_attr::kSign;
         p.scheme = 0x0010;
       },
       V{"ak-not-sign", "ak-decrypt-set", "ak-scheme-unsupported"}},
  };
  for (const auto& c : cases) {
    TpmPublic ak = load(c.ak);
    c.mutate(ak);
    auto check = checkAkAttributes(ak);
    EXPECT_EQ(codes(check), c.expected) << c.what;
    EXPECT_EQ(check.accepted(), c.expected.empty()) << c.what;
    for (const auto& r : check.reasons) EXPECT_FALSE(r.detail.empty()) << c.what;
  }
}

}  // namespace
}  // namespace bulwark::attest
