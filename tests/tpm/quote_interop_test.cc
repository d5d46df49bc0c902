// Interop with a live swtpm: quotes made by tpm2-tools (`tpm2_quote`) pass Bulwark's
// QuoteVerifier and `bulwarkctl quote verify`; tampered variants are rejected with
// their own reason; a TPM reset shows in resetCount. Each AK is made fresh
// (tpm2_createek + tpm2_createak) for RSA-2048 (rsassa, rsapss) and ECC P-256.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "attest/core/bytes.h"
#include "attest/quote/ak_key.h"
#include "attest/quote/qualifying_data.h"
#include "attest/quote/quote_verifier.h"
#include "attest/quote/tpm2_tools_pcrs.h"
#include "tests/support/suite_resource.h"
#include "tests/support/swtpm.h"

namespace bulwark::attest {
namespace {

using bulwark::testing::CommandResult;
using bulwark::testing::Swtpm;

struct AkParams {
  const char* tag;
  const char* ek_alg;
  const char* ak_alg;
  const char* scheme;
};

const AkParams kAks[] = {
    {"rsa", "rsa", "rsa", "rsassa"},
    {"rsapss", "rsa", "rsa", "rsapss"},
    {"ecc", "ecc", "ecc", "ecdsa"},
};

// The files one tpm2_quote run leaves in the swtpm's scratch directory.
struct ToolsQuote {
  std::string tag;
  Bytes nonce;  // the qualifying data given to tpm2_quote -q
  Bytes ak_pem, ak_pub, msg, sig, pcr_file;
};

class QuoteInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { swtpm_.start(Swtpm::start()); }
  static void TearDownTestSuite() { swtpm_.stop(); }
  void SetUp() override {
    ASSERT_TRUE(swtpm_) << "swtpm did not start: " << swtpm_.error();
  }

  static std::string path(const std::string& name) { return swtpm_->dir() + "/" + name; }

  static CommandResult run(const std::string& cmd) {
    CommandResult r = swtpm_->run(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    return r;
  }

  static Bytes read(const std::string& name) {
    auto b = readFile(path(name));
    EXPECT_TRUE(b.has_value()) << name;
    return b ? *b : Bytes{};
  }

  static void write(const std::string& name, ByteView data) {
    ASSERT_TRUE(writeFileAtomic(path(name), data, 0644).has_value()) << name;
  }

  // Fresh AK under the default EK, then tpm2_quote with Bulwark's qualifying data
  // for a random nonce and report.
  static ToolsQuote quote(const AkParams& p, const std::string& pcr_list) {
    std::mt19937_64 rng(std::random_device{}());
    Bytes nonce(32), report(200);
    for (auto& b : nonce) b = static_cast<std::uint8_t>(rng());
    for (auto& b : report) b = static_cast<std::uint8_t>(rng());
    ToolsQuote q{p.tag, qualifyingData(nonce, report), {}, {}, {}, {}, {}};
    std::string t = p.tag;
    run("tpm2_flushcontext -t && tpm2_flushcontext -s && "
        "tpm2_createek -c ek.ctx -G " + std::string(p.ek_alg) + " -u " + t + ".ek.pub && "
        "tpm2_flushcontext -t && tpm2_flushcontext -s && "
        "tpm2_createak -C ek.ctx -c " + t + ".ak.ctx -G " + p.ak_alg + " -g sha256 -s " +
        p.scheme + " -u " + t + ".ak.pub -n " + t + ".ak.name && "
        "tpm2_flushcontext -t && tpm2_flushcontext -s && "
        "tpm2_readpublic -c " + t + ".ak.ctx -f pem -o " + t + ".ak.pem && "
        "tpm2_quote -c " + t + ".ak.ctx -l " + pcr_list + " -q " + toHex(q.nonce) + " -m " + t +
        ".msg -s " + t + ".sig -o " + t + ".pcrs -g sha256 --scheme " + p.scheme +
        " && tpm2_flushcontext -t");
    q.ak_pem = read(t + ".ak.pem");
    q.ak_pub = read(t + ".ak.pub");
    q.msg = read(t + ".msg");
    q.sig = read(t + ".sig");
    q.pcr_file = read(t + ".pcrs");
    return q;
  }

  static Result<QuoteVerdict> verify(const ToolsQuote& q, ByteView ak) {
    auto pcrs = parseTpm2ToolsPcrs(q.pcr_file);
    if (!pcrs) return std::unexpected(pcrs.error());
    auto key = AkKey::load(ak);
    if (!key) return std::unexpected(key.error());
    auto verifier = QuoteVerifier::create(*key);
    if (!verifier) return std::unexpected(verifier.error());
    return verifier->verify(q.msg, q.sig, {q.nonce, &pcrs->selection, pcrs->values});
  }

  static std::string bulwarkctl() {
    const char* bin = std::getenv("BULWARK_BINARY_DIR");
    return std::string(bin ? bin : ".") + "/bin/bulwarkctl";
  }

  // Runs bulwarkctl on files in the scratch dir; `extra` appends options.
  static CommandResult ctl(const std::string& tag, const std::string& nonce_hex,
                           const std::string& extra = "", const std::string& msg = "") {
    return swtpm_->run(bulwarkctl() + " quote verify --ak-pub " + tag + ".ak.pem --message " +
                       (msg.empty() ? tag + ".msg" : msg) + " --signature " + tag +
                       ".sig --pcrs " + tag + ".pcrs --nonce " + nonce_hex + " " + extra);
  }

  static inline bulwark::testing::SuiteResource<Swtpm> swtpm_;
};


TEST_F(QuoteInterop, ToolsQuotesVerifyInProcess) {
  run("echo interop > ev && tpm2_pcrevent 0 ev && tpm2_pcrevent 7 ev");
  for (const AkParams& p : kAks) {
    for (const char* list : {"sha256:0,1,2,7", "sha1:0,7+sha256:0,1,2,3,4,5,6,7"}) {
      ToolsQuote q = quote(p, list);
      for (const Bytes* ak : {&q.ak_pem, &q.ak_pub}) {
        auto verdict = verify(q, *ak);
        ASSERT_TRUE(verdict) << p.tag << " " << list << ": " << verdict.error().toString();
        ASSERT_TRUE(verdict->verified()) << p.tag << " " << list << ": " << verdict->summary();
        EXPECT_EQ(verdict->quote()->selection().toString(), list);
      }
    }
  }
}

TEST_F(QuoteInterop, ClockInfoMatchesTpm2Readclock) {
  ToolsQuote q = quote(kAks[2], "sha256:0");
  auto verdict = verify(q, q.ak_pub);
  ASSERT_TRUE(verdict && verdict->verified());
  CommandResult clock = run("tpm2_readclock");
  const VerifiedQuote& v = *verdict->quote();
  EXPECT_NE(clock.output.find("reset_count: " + std::to_string(v.resetCount())),
            std::string::npos)
      << clock.output;
  EXPECT_NE(clock.output.find("restart_count: " + std::to_string(v.restartCount())),
            std::string::npos)
      << clock.output;
  EXPECT_TRUE(v.safe());
  EXPECT_GT(v.clock(), 0u);
}

TEST_F(QuoteInterop, TpmResetShowsInResetCount) {
  ToolsQuote before = quote(kAks[0], "sha256:0");
  auto v1 = verify(before, before.ak_pub);
  ASSERT_TRUE(v1 && v1->verified());
  ASSERT_TRUE(swtpm_->restart().has_value());
  ToolsQuote after = quote(kAks[0], "sha256:0");
  auto v2 = verify(after, after.ak_pub);
  ASSERT_TRUE(v2 && v2->verified()) << (v2 ? v2->summary() : v2.error().toString());
  EXPECT_EQ(v2->quote()->resetCount(), v1->quote()->resetCount() + 1);
  // The AK made before the reset is another key: its quote's signature does not
  // verify with the new AK.
  auto cross = verify(before, after.ak_pub);
  ASSERT_TRUE(cross);
  EXPECT_TRUE(cross->rejectedFor(RejectReason::kSignatureInvalid)) << cross->summary();
}

TEST_F(QuoteInterop, StalePcrValuesAreADigestMismatch) {
  ToolsQuote q = quote(kAks[2], "sha256:0,7");
  Bytes old_pcrs = q.pcr_file;
  run("echo later > ev2 && tpm2_pcrevent 7 ev2");
  ToolsQuote fresh = quote(kAks[2], "sha256:0,7");
  fresh.pcr_file = old_pcrs;  // values read before the extend
  auto verdict = verify(fresh, fresh.ak_pub);
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->rejections().size(), 1u) << verdict->summary();
  EXPECT_TRUE(verdict->rejectedFor(RejectReason::kPcrDigestMismatch)) << verdict->summary();
}

TEST_F(QuoteInterop, BulwarkctlAcceptsToolsOutputAndNamesEachFailure) {
  ASSERT_TRUE(std::filesystem::exists(bulwarkctl()))
      << bulwarkctl() << " missing: build the bulwarkctl target before the tpm suite";
  for (const AkParams& p : kAks) {
    ToolsQuote q = quote(p, "sha256:0,1,2");
    std::string t = p.tag;
    std::string nonce = toHex(q.nonce);
    Bytes bad_msg = q.msg;
    bad_msg[bad_msg.size() / 2] ^= 0x01;
    write(t + ".tampered.msg", bad_msg);
    write(t + ".truncated.msg", ByteView(q.msg).first(q.msg.size() - 1));

    struct Run {
      std::string what;
      CommandResult result;
      int exit_code;
      std::string expect;
    };
    Bytes bad_nonce = q.nonce;
    bad_nonce[0] ^= 0xff;
    Run runs[] = {
        {"valid", ctl(t, nonce), 0, "OK quote verified"},
        {"valid, explicit --pcr-list", ctl(t, nonce, "--pcr-list sha256:0,1,2"), 0, "resetCount="},
        {"valid, TPM2B_PUBLIC AK",
         swtpm_->run(bulwarkctl() + " quote verify --ak-pub " + t + ".ak.pub --message " + t +
                     ".msg --signature " + t + ".sig --pcrs " + t + ".pcrs --nonce " + nonce),
         0, "OK"},
        {"tampered message", ctl(t, nonce, "", t + ".tampered.msg"), 1,
         "REJECTED signature-invalid"},
        {"wrong nonce", ctl(t, toHex(bad_nonce)), 1, "REJECTED nonce-mismatch"},
        {"other selection", ctl(t, nonce, "--pcr-list sha256:0,1"), 1,
         "REJECTED pcr-selection-mismatch"},
        {"truncated message", ctl(t, nonce, "", t + ".truncated.msg"), 2, "ERROR malformed"},
        {"PCR not in file", ctl(t, nonce, "--pcr-list sha256:0,1,2,3"), 2, "ERROR"},
        {"bad nonce hex", ctl(t, "xyz"), 2, "ERROR"},
    };
    for (const Run& r : runs) {
      EXPECT_EQ(r.result.exit_code, r.exit_code) << t << " " << r.what << ": " << r.result.output;
      EXPECT_NE(r.result.output.find(r.expect), std::string::npos)
          << t << " " << r.what << ": " << r.result.output;
      // One line of output, whatever the outcome.
      EXPECT_EQ(std::count(r.result.output.begin(), r.result.output.end(), '\n'), 1)
          << t << " " << r.what << ": " << r.result.output;
    }
  }
}

TEST_F(QuoteInterop, BulwarkctlRejectsTamperedPcrFile) {
  ToolsQuote q = quote(kAks[0], "sha256:0,1,2");
  auto pcrs = parseTpm2ToolsPcrs(q.pcr_file);
  ASSERT_TRUE(pcrs);
  pcrs->values[0].values[2].value[5] ^= 0x20;
  auto file = serializeTpm2ToolsPcrs(pcrs->selection, pcrs->values);
  ASSERT_TRUE(file);
  write("rsa.pcrs", *file);
  CommandResult r = ctl("rsa", toHex(q.nonce));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("REJECTED pcr-digest-mismatch"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bulwark::attest
