// base64url (RFC 4648 §5, §10 test vectors) and AR4SI tier arithmetic.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest/ear/ar4si.h"
#include "attest/ear/base64url.h"

namespace bulwark::attest {
namespace {

TEST(Base64url, Rfc4648Vectors) {
  // RFC 4648 §10 vectors; padding stripped as JWS requires.
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"", ""},         {"f", "Zg"},          {"fo", "Zm8"},       {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : kCases) {
    EXPECT_EQ(base64urlEncode(plain), enc);
    auto dec = base64urlDecode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(std::string(dec->begin(), dec->end()), plain);
  }
}

TEST(Base64url, UrlSafeAlphabet) {
  Bytes b{0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64urlEncode(b), "-_-_");
  auto dec = base64urlDecode("-_-_");
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(*dec, b);
}

TEST(Base64url, RejectsNonCanonicalInput) {
  const std::string_view kBad[] = {
      "Zg==",   // padding
      "Z",      // length 1 mod 4
      "Zh",     // non-zero unused bits ('f' is "Zg")
      "+/8",    // standard alphabet
      "Zm9v\n", // whitespace
      "Zm 9v",  // embedded space
      "Zm9v.",  // separator
  };
  for (auto s : kBad) {
    auto r = base64urlDecode(s);
    ASSERT_FALSE(r.has_value()) << s;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << s;
  }
}

TEST(Ar4si, TierBoundaries) {
  const std::pair<int, Tier> kCases[] = {
      {0, Tier::kNone},         {1, Tier::kNone},          {-1, Tier::kNone},
      {2, Tier::kAffirming},    {31, Tier::kAffirming},    {-2, Tier::kAffirming},
      {-32, Tier::kAffirming},  {32, Tier::kWarning},      {95, Tier::kWarning},
      {-33, Tier::kWarning},    {-96, Tier::kWarning},     {96, Tier::kContraindicated},
      {127, Tier::kContraindicated}, {-97, Tier::kContraindicated},
      {-128, Tier::kContraindicated}, {99, Tier::kContraindicated}};
  for (const auto& [v, tier] : kCases) {
    EXPECT_EQ(tierOf(static_cast<std::int8_t>(v)), tier) << v;
  }
}

TEST(Ar4si, ClaimNamesRoundTrip) {
  for (TrustClaim c : kAllTrustClaims) {
    EXPECT_EQ(trustClaimFromName(trustClaimName(c)), c);
  }
  EXPECT_EQ(trustClaimName(TrustClaim::kInstanceIdentity), "instance-identity");
  EXPECT_EQ(trustClaimName(TrustClaim::kSourcedData), "sourced-data");
  EXPECT_FALSE(trustClaimFromName("Executables").has_value());
  EXPECT_EQ(tierFromName("contraindicated"), Tier::kContraindicated);
  EXPECT_FALSE(tierFromName("trusted").has_value());
}

TEST(Ar4si, DefinedValuesPerClaim) {
  using namespace ar4si;
  EXPECT_TRUE(isDefinedValue(TrustClaim::kHardware, hardware::kUnrecognizedHardware));
  EXPECT_FALSE(isDefinedValue(TrustClaim::kFileSystem, 97));  // 97 is hardware/identity only
  EXPECT_TRUE(isDefinedValue(TrustClaim::kConfiguration, configuration::kUnavailConfigElems));
  EXPECT_FALSE(isDefinedValue(TrustClaim::kExecutables, 36));
  EXPECT_TRUE(isDefinedValue(TrustClaim::kSourcedData, kCryptoValidationFailed));
  EXPECT_TRUE(isDefinedValue(TrustClaim::kRuntimeOpaque, -50));  // implementation-specific
}

TEST(Ar4si, WorstTierAndStatusConsistency) {
  TrustVector tv;
  EXPECT_EQ(tv.worstTier(), Tier::kNone);
  tv.set(TrustClaim::kHardware, ar4si::hardware::kGenuineHardware);
  tv.set(TrustClaim::kFileSystem, ar4si::kNoClaim);
  EXPECT_EQ(tv.worstTier(), Tier::kAffirming);
  tv.set(TrustClaim::kConfiguration, ar4si::configuration::kUnsafeConfig);
  EXPECT_EQ(tv.worstTier(), Tier::kWarning);
  tv.set(TrustClaim::kExecutables, ar4si::executables::kContraindicatedRuntime);
  EXPECT_EQ(tv.worstTier(), Tier::kContraindicated);

  EXPECT_TRUE(statusConsistent(Tier::kAffirming, Tier::kAffirming));
  EXPECT_FALSE(statusConsistent(Tier::kAffirming, Tier::kNone));
  EXPECT_FALSE(statusConsistent(Tier::kAffirming, Tier::kWarning));
  EXPECT_TRUE(statusConsistent(Tier::kWarning, Tier::kAffirming));
  EXPECT_FALSE(statusConsistent(Tier::kWarning, Tier::kContraindicated));
  EXPECT_TRUE(statusConsistent(Tier::kContraindicated, Tier::kAffirming));
  EXPECT_TRUE(statusConsistent(Tier::kNone, Tier::kContraindicated));
}

TEST(Ar4si, VectorJsonRejectsBadValues) {
  using nlohmann::json;
  auto ok = TrustVector::fromJson(json{{"hardware", 2}, {"executables", -128}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->get(TrustClaim::kExecutables), -128);
  EXPECT_EQ(ok->toJson(), (json{{"executables", -128}, {"hardware", 2}}));
  const json kBad[] = {
      json{{"hardwar", 2}},
      json{{"hardware", 128}},
      json{{"hardware", -129}},
      json{{"hardware", 2.0}},
      json{{"hardware", "2"}},
      json::parse(R"({"hardware": 18446744073709551615})"),  // would wrap to -1
      json::array(),
  };
  for (const auto& j : kBad) {
    auto r = TrustVector::fromJson(j);
    EXPECT_FALSE(r.has_value()) << j.dump();
  }
}

}  // namespace
}  // namespace bulwark::attest
