// QuoteVerifier against real tpm2_quote output (tests/testdata/quote): every
// tampering is rejected with its own reason, malformed bytes are errors.
#include <openssl/err.h>

#include <functional>
#include <set>
#include <type_traits>

#include "tests/unit/quote/quote_fixtures.h"

namespace bulwark::attest {
namespace {

using testing::Fixture;

// Byte offsets in the fixtures' TPMS_ATTEST (Part 2 §10.12.12): magic(4) type(2)
// qualifiedSigner(2+34, a SHA-256 Name) extraData(2+32) clockInfo.clock(8) ...
constexpr std::size_t kTypeOffset = 4;
constexpr std::size_t kExtraDataOffset = 4 + 2 + 2 + 34;
constexpr std::size_t kClockOffset = kExtraDataOffset + 2 + 32;

// Everything verify() takes, as mutable values.
struct Input {
  Bytes ak, msg, sig, nonce;
  PcrSelection selection;
  PcrValues values;

  static Input from(const Fixture& f, bool use_pem) {
    return {use_pem ? f.ak_pem : f.ak_pub, f.msg, f.sig, f.nonce, f.pcrs.selection,
            f.pcrs.values};
  }
  Result<QuoteVerdict> run() const {
    auto v = testing::verifierFor(ak);
    return v.verify(msg, sig, {nonce, &selection, values});
  }
};

std::set<std::string> reasonNames(const QuoteVerdict& v) {
  std::set<std::string> out;
  for (const auto& r : v.rejections()) out.insert(std::string(rejectReasonName(r.reason)));
  return out;
}

PcrSelection sel(const char* spec) {
  auto s = PcrSelection::parse(spec);
  EXPECT_TRUE(s.has_value()) << spec;
  return *s;
}

struct TamperCase {
  const char* name;
  std::function<void(Input&)> tamper;
  std::set<std::string> reasons;  // exactly these; empty = verified
};

const TamperCase kTamperCases[] = {
    {"untouched", [](Input&) {}, {}},
    // clockInfo.clock sits right after extraData; changing it breaks only the signature.
    {"message-clock-byte",
     [](Input& in) { in.msg[kClockOffset + 7] ^= 0x01; },
     {"signature-invalid"}},
    {"message-last-byte", [](Input& in) { in.msg.back() ^= 0x80; },
     {"signature-invalid", "pcr-digest-mismatch"}},
    {"signature-last-byte", [](Input& in) { in.sig.back() ^= 0x01; }, {"signature-invalid"}},
    {"signature-middle-byte", [](Input& in) { in.sig[in.sig.size() / 2] ^= 0x10; },
     {"signature-invalid"}},
    {"pcr-value", [](Input& in) { in.values[0].values[1].value[0] ^= 0x01; },
     {"pcr-digest-mismatch"}},
    {"pcr-value-swapped",
     [](Input& in) { std::swap(in.values[0].values[0].value, in.values[0].values[1].value); },
     {"pcr-digest-mismatch"}},
    {"nonce-byte", [](Input& in) { in.nonce[31] ^= 0x01; }, {"nonce-mismatch"}},
    {"nonce-shorter", [](Input& in) { in.nonce.pop_back(); }, {"nonce-mismatch"}},
    {"nonce-empty", [](Input& in) { in.nonce.clear(); }, {"nonce-mismatch"}},
    {"selection-subset",
     [](Input& in) {
       in.selection = sel("sha256:0,1");
       in.values = *selectPcrValues(in.values, in.selection);
     },
     {"pcr-selection-mismatch"}},
    {"selection-other-bank",
     [](Input& in) {
       in.selection = sel("sha1:0,1,2");
       in.values = {{HashAlg::kSha1, {{0, Bytes(20, 1)}, {1, Bytes(20, 2)}, {2, Bytes(20, 3)}}}};
     },
     {"pcr-selection-mismatch"}},
};

class TamperTest : public ::testing::TestWithParam<std::tuple<const char*, bool, TamperCase>> {};

TEST_P(TamperTest, RejectsWithItsOwnReason) {
  auto [prefix, use_pem, c] = GetParam();
  Input in = Input::from(Fixture::load(prefix), use_pem);
  c.tamper(in);
  auto verdict = in.run();
  ASSERT_TRUE(verdict.has_value()) << verdict.error().toString();
  EXPECT_EQ(reasonNames(*verdict), c.reasons) << verdict->summary();
  EXPECT_EQ(verdict->verified(), c.reasons.empty());
  EXPECT_EQ(verdict->quote() != nullptr, c.reasons.empty());
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left dirty";
}

std::string tamperName(const ::testing::TestParamInfo<TamperTest::ParamType>& p) {
  const auto& [prefix, use_pem, c] = p.param;
  std::string name = std::string(prefix) + (use_pem ? "_pem_" : "_tpm2b_") + c.name;
  for (char& ch : name) ch = ch == '-' ? '_' : ch;
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TamperTest,
                         ::testing::Combine(::testing::Values("rsa", "rsapss", "ecc"),
                                            ::testing::Bool(), ::testing::ValuesIn(kTamperCases)),
                         tamperName);

TEST(QuoteVerifier, VerifiedQuoteCarriesTheSignedFields) {
  Fixture f = Fixture::load("ecc");
  Input in = Input::from(f, true);
  auto verdict = in.run();
  ASSERT_TRUE(verdict && verdict->verified()) << (verdict ? verdict->summary() : "");
  const VerifiedQuote& q = *verdict->quote();
  TPMS_ATTEST a = testing::parseAttest(f.msg);
  EXPECT_EQ(q.clock(), a.clockInfo.clock);
  EXPECT_EQ(q.resetCount(), a.clockInfo.resetCount);
  EXPECT_EQ(q.restartCount(), a.clockInfo.restartCount);
  EXPECT_TRUE(q.safe());
  EXPECT_EQ(q.firmwareVersion(), a.firmwareVersion);
  EXPECT_GT(q.clock(), 0u);
  // qualifiedSigner is the AK's Qualified Name (Part 1 §16.6): the EK is a primary
  // of the endorsement hierarchy (QN = handle 0x4000000B), the AK its child.
  auto ek = parseTpm2bPublic(testing::readFixture("ecc.ek.pub"));
  auto ak = parseTpm2bPublic(f.ak_pub);
  ASSERT_TRUE(ek && ak);
  auto qualified = [](ByteView parent_qn, ByteView name) {
    Bytes cat(parent_qn.begin(), parent_qn.end());
    cat.insert(cat.end(), name.begin(), name.end());
    Bytes qn{0x00, 0x0b};
    Bytes h = sha256(cat);
    qn.insert(qn.end(), h.begin(), h.end());
    return qn;
  };
  Bytes ek_qn = qualified(Bytes{0x40, 0x00, 0x00, 0x0b}, objectName(*ek));
  EXPECT_EQ(toHex(q.qualifiedSigner()), toHex(qualified(ek_qn, objectName(*ak))));
  EXPECT_EQ(q.selection().toString(), "sha256:0,1,2");
  EXPECT_EQ(q.signatureScheme(), TPM2_ALG_ECDSA);
  EXPECT_EQ(q.signatureHash(), HashAlg::kSha256);
  auto digest = computePcrDigest(HashAlg::kSha256, in.selection, in.values);
  ASSERT_TRUE(digest);
  EXPECT_EQ(toHex(q.pcrDigest()), toHex(*digest));
}

TEST(QuoteVerifier, MultiBankQuoteHashesBanksInSelectionOrder) {
  Input in = Input::from(Fixture::load("ecc_multibank"), false);
  EXPECT_EQ(in.selection.toString(), "sha1:0,1+sha256:0,1,2,7");
  auto ok = in.run();
  ASSERT_TRUE(ok && ok->verified()) << (ok ? ok->summary() : ok.error().toString());
  // The same PCRs requested in the other bank order are a different selection.
  in.selection = sel("sha256:0,1,2,7+sha1:0,1");
  auto swapped = in.run();
  ASSERT_TRUE(swapped);
  EXPECT_EQ(reasonNames(*swapped), std::set<std::string>{"pcr-selection-mismatch"});
  // Dropping the sha1 bank from the request is a selection mismatch as well.
  in.selection = sel("sha256:0,1,2,7");
  in.values = *selectPcrValues(in.values, in.selection);
  auto dropped = in.run();
  ASSERT_TRUE(dropped);
  EXPECT_EQ(reasonNames(*dropped), std::set<std::string>{"pcr-selection-mismatch"});
}

TEST(QuoteVerifier, RealSha1QuoteIsADowngrade) {
  for (bool pem : {true, false}) {
    auto verdict = Input::from(Fixture::load("rsa_sha1"), pem).run();
    ASSERT_TRUE(verdict) << verdict.error().toString();
    EXPECT_EQ(reasonNames(*verdict), std::set<std::string>{"signature-hash-weak"});
  }
}

struct KeySwapCase {
  const char* quote;
  const char* ak;  // fixture file of the AK used to verify
  std::set<std::string> reasons;
};

TEST(QuoteVerifier, QuoteByAnotherKeyIsRejected) {
  const KeySwapCase cases[] = {
      {"rsa", "rsapss.ak.pem", {"signature-invalid"}},
      {"ecc", "ecc_multibank.ak.pem", {"signature-invalid"}},
      {"rsa", "ecc.ak.pem", {"signature-scheme-mismatch"}},
      {"ecc", "rsa.ak.pub", {"signature-scheme-mismatch"}},
      // The TPM2B_PUBLIC fixes the AK's scheme: an RSASSA key's quote must be RSASSA.
      {"rsapss", "rsa.ak.pub", {"signature-scheme-mismatch"}},
      {"rsa", "rsapss.ak.pub", {"signature-scheme-mismatch"}},
  };
  for (const auto& c : cases) {
    Input in = Input::from(Fixture::load(c.quote), true);
    in.ak = testing::readFixture(c.ak);
    auto verdict = in.run();
    ASSERT_TRUE(verdict) << verdict.error().toString();
    EXPECT_EQ(reasonNames(*verdict), c.reasons) << c.quote << " with " << c.ak;
  }
}

TEST(QuoteVerifier, EveryTruncationOrExtensionIsAnError) {
  for (const char* prefix : {"rsa", "ecc"}) {
    Input base = Input::from(Fixture::load(prefix), true);
    for (std::size_t n = 0; n < base.msg.size(); ++n) {
      Input in = base;
      in.msg.resize(n);
      auto r = in.run();
      ASSERT_FALSE(r.has_value()) << prefix << " message truncated to " << n;
      EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
    }
    for (std::size_t n = 0; n < base.sig.size(); ++n) {
      Input in = base;
      in.sig.resize(n);
      auto r = in.run();
      ASSERT_FALSE(r.has_value()) << prefix << " signature truncated to " << n;
      EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
    }
    Input longer = base;
    longer.msg.push_back(0);
    EXPECT_FALSE(longer.run().has_value());
    longer = base;
    longer.sig.push_back(0);
    EXPECT_FALSE(longer.run().has_value());
  }
}

struct ErrorCase {
  const char* name;
  std::function<void(Input&)> breakIt;
  ErrorCode code;
};

TEST(QuoteVerifier, InconsistentInputsAreErrorsNotVerdicts) {
  const ErrorCase cases[] = {
      {"missing PCR value", [](Input& in) { in.values[0].values.pop_back(); },
       ErrorCode::kMalformed},
      {"extra PCR value",
       [](Input& in) { in.values[0].values.push_back({9, Bytes(32, 0)}); }, ErrorCode::kMalformed},
      {"short PCR value", [](Input& in) { in.values[0].values[0].value.pop_back(); },
       ErrorCode::kMalformed},
      {"unknown attest type",  // TPMS_ATTEST.type selects the union arm: no arm, no parse
       [](Input& in) { in.msg[kTypeOffset] = 0x12; }, ErrorCode::kMalformed},
      {"extraData longer than the message", [](Input& in) { in.msg[kExtraDataOffset] = 0xff; },
       ErrorCode::kMalformed},
      {"empty selection",
       [](Input& in) {
         in.selection = PcrSelection{};
         in.values.clear();
       },
       ErrorCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    Input in = Input::from(Fixture::load("rsa"), true);
    c.breakIt(in);
    auto r = in.run();
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code(), c.code) << c.name << ": " << r.error().toString();
  }
}

TEST(QuoteVerifier, OneVerifierVerifiesManyQuotesAcrossOutcomes) {
  // Cached EVP_PKEY_CTX reuse must not carry state from one call to the next.
  Fixture f = Fixture::load("rsapss");
  auto verifier = testing::verifierFor(f.ak_pem);
  Bytes bad_sig = f.sig;
  bad_sig.back() ^= 1;
  for (int i = 0; i < 40; ++i) {
    bool good = i % 3 != 1;
    auto r = verifier.verify(f.msg, good ? f.sig : bad_sig,
                             {f.nonce, &f.pcrs.selection, f.pcrs.values});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->verified(), good) << "iteration " << i;
  }
  QuoteVerifier moved = std::move(verifier);
  auto r = moved.verify(f.msg, f.sig, {f.nonce, &f.pcrs.selection, f.pcrs.values});
  ASSERT_TRUE(r && r->verified());
}

TEST(QuoteVerifier, SuccessIsOnlyConstructibleByTheVerifier) {
  static_assert(!std::is_default_constructible_v<VerifiedQuote>);
  static_assert(!std::is_default_constructible_v<QuoteVerdict>);
  static_assert(!std::is_constructible_v<VerifiedQuote, const QuoteClock&, std::uint64_t, ByteView,
                                         ByteView, const PcrSelection&, std::uint16_t, HashAlg>);
  static_assert(!std::is_constructible_v<QuoteVerdict, VerifiedQuote>);
  static_assert(!std::is_constructible_v<QuoteVerdict, std::vector<Rejection>>);
  // A rejected verdict exposes no quote and at least one reason.
  Input in = Input::from(Fixture::load("rsa"), true);
  in.nonce[0] ^= 1;
  auto r = in.run();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->verified());
  EXPECT_EQ(r->quote(), nullptr);
  ASSERT_EQ(r->rejections().size(), 1u);
  EXPECT_TRUE(r->rejectedFor(RejectReason::kNonceMismatch));
  EXPECT_NE(r->summary().find(toHex(in.nonce)), std::string::npos) << r->summary();
}

}  // namespace
}  // namespace bulwark::attest
