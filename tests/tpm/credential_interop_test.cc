// Our software MakeCredential against a real TPM (swtpm) and tpm2-tools:
//  - tpm2_activatecredential recovers our secret for an RSA-2048 EK (L-1 template,
//    tpm2_createek), an ECC P-256 EK (L-2, tpm2_createek) and swtpm's own
//    persistent ECC P-384 EK (0x81010016, nameAlg SHA-384, AES-256);
//  - `tpm2_makecredential --tcti none` and we agree (both activate to the same
//    secret, tpm2-tools' file parses with our reader and has our blob sizes);
//  - a credential made for another AK's Name fails with TPM_RC_INTEGRITY.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "attest/credential/make_credential.h"
#include "attest/tpm_public/tpm_public.h"
#include "tests/support/swtpm.h"

namespace bulwark::attest {
namespace {

using bulwark::testing::Swtpm;

// How to reach one EK: how it is made (shell, in the case's directory) and how
// tpm2_activatecredential authorizes it.
struct EkSetup {
  const char* what;
  const char* dir;
  const char* create;     // leaves ek.pub (TPM2B_PUBLIC) and sets $EK for -C
  const char* ek_ref;     // value for tpm2_activatecredential -C
  bool policy_session;    // L templates: userWithAuth CLEAR, PolicySecret(endorsement)
  const char* ak_alg;     // tpm2_createak -G
  const char* ak_scheme;  // tpm2_createak -s
};

const EkSetup kEks[] = {
    {"RSA-2048 EK (tpm2_createek)", "rsa", "tpm2_createek -c ek.ctx -G rsa -u ek.pub", "ek.ctx",
     true, "rsa", "rsassa"},
    {"ECC P-256 EK (tpm2_createek)", "ecc256", "tpm2_createek -c ek.ctx -G ecc -u ek.pub",
     "ek.ctx", true, "ecc", "ecdsa"},
    // swtpm 0.7.1's persistent ECC EK: userWithAuth SET, so the empty password works.
    {"ECC P-384 EK (swtpm 0x81010016)", "ecc384", "tpm2_readpublic -c 0x81010016 -o ek.pub",
     "0x81010016", false, "ecc", "ecdsa"},
};

class CredentialInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tpm = Swtpm::start();
    ASSERT_TRUE(tpm.has_value()) << tpm.error().toString();
    tpm_ = std::move(*tpm);
    for (const auto& ek : kEks) {
      // Two AKs per EK: "ak" is the one we activate, "ak2" provides a foreign Name.
      std::string d = ek.dir;
      auto r = tpm_->run("mkdir -p " + d + " && cd " + d + " && " + ek.create +
                         " >/dev/null && tpm2_flushcontext -t && " + akCmd(ek, "ak") + " && " +
                         akCmd(ek, "ak2"));
      ASSERT_EQ(r.exit_code, 0) << ek.what << ": " << r.output;
    }
  }
  static void TearDownTestSuite() { tpm_.reset(); }

  static std::string akCmd(const EkSetup& ek, const std::string& ak) {
    std::string ek_ctx = std::string(ek.ek_ref);
    return "tpm2_createak -C " + ek_ctx + " -c " + ak + ".ctx -G " + ek.ak_alg +
           " -g sha256 -s " + ek.ak_scheme + " -u " + ak + ".pub -n " + ak +
           ".name >/dev/null && tpm2_flushcontext -t";
  }

  static std::string path(const EkSetup& ek, const std::string& file) {
    return tpm_->dir() + "/" + ek.dir + "/" + file;
  }
  static Bytes read(const EkSetup& ek, const std::string& file) {
    auto b = readFile(path(ek, file));
    EXPECT_TRUE(b.has_value()) << path(ek, file);
    return b.value_or(Bytes{});
  }
  static void write(const EkSetup& ek, const std::string& file, ByteView data) {
    ASSERT_TRUE(writeFileAtomic(path(ek, file), data).has_value()) << file;
  }
  static TpmPublic ekPublic(const EkSetup& ek) {
    auto pub = parseTpm2bPublic(read(ek, "ek.pub"));
    EXPECT_TRUE(pub.has_value()) << ek.what << ": " << pub.error().toString();
    return pub.value_or(TpmPublic{});
  }

  // tpm2_activatecredential with AK `ak` on credential file `cred`; flushes what it
  // loaded. Returns the command result; on success the secret is in `out`.
  static bulwark::testing::CommandResult activate(const EkSetup& ek, const std::string& ak,
                                                  const std::string& cred,
                                                  const std::string& out) {
    std::string auth;
    std::string cmd = std::string("cd ") + ek.dir + " && rm -f " + out + " && ";
    if (ek.policy_session) {
      cmd += "tpm2_startauthsession --policy-session -S session.ctx && "
             "tpm2_policysecret -S session.ctx -c e >/dev/null && ";
      auth = " -P session:session.ctx";
    }
    cmd += "tpm2_activatecredential -c " + ak + ".ctx -C " + ek.ek_ref + " -i " + cred + " -o " +
           out + auth + "; rc=$?; ";
    if (ek.policy_session) cmd += "tpm2_flushcontext session.ctx 2>/dev/null; ";
    cmd += "tpm2_flushcontext -t; exit $rc";
    return tpm_->run(cmd);
  }

  static Bytes secretFor(const TpmPublic& ek, char tag) {
    Bytes s(hashAlgSize(ek.name_alg));
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(tag + i);
    return s;
  }

  static std::unique_ptr<Swtpm> tpm_;
};

std::unique_ptr<Swtpm> CredentialInterop::tpm_;

TEST_F(CredentialInterop, AkNameMatchesTpm2Tools) {
  for (const auto& ek : kEks) {
    auto ak = parseTpm2bPublic(read(ek, "ak.pub"));
    ASSERT_TRUE(ak.has_value()) << ek.what;
    EXPECT_EQ(toHex(objectName(*ak)), toHex(read(ek, "ak.name"))) << ek.what;
  }
}

TEST_F(CredentialInterop, TpmActivatesOurCredential) {
  for (const auto& ek : kEks) {
    TpmPublic pub = ekPublic(ek);
    Bytes secret = secretFor(pub, 'A');
    auto cred = makeCredential(pub, read(ek, "ak.name"), secret);
    ASSERT_TRUE(cred.has_value()) << ek.what << ": " << cred.error().toString();
    write(ek, "ours.cred", toTpm2ToolsCredentialFile(*cred));
    auto r = activate(ek, "ak", "ours.cred", "ours.out");
    ASSERT_EQ(r.exit_code, 0) << ek.what << ": " << r.output;
    EXPECT_EQ(toHex(read(ek, "ours.out")), toHex(secret)) << ek.what;
  }
}

TEST_F(CredentialInterop, Tpm2MakecredentialAndOursAgree) {
  for (const auto& ek : kEks) {
    TpmPublic pub = ekPublic(ek);
    Bytes secret = secretFor(pub, 'k');
    write(ek, "secret.bin", secret);
    auto made = tpm_->run(std::string("cd ") + ek.dir +
                          " && tpm2_makecredential --tcti none -u ek.pub -s secret.bin -n "
                          "$(xxd -p -c 256 ak.name) -o tools.cred");
    ASSERT_EQ(made.exit_code, 0) << ek.what << ": " << made.output;
    auto tools = parseTpm2ToolsCredentialFile(read(ek, "tools.cred"));
    ASSERT_TRUE(tools.has_value()) << ek.what << ": " << tools.error().toString();
    auto ours = makeCredential(pub, read(ek, "ak.name"), secret);
    ASSERT_TRUE(ours.has_value()) << ek.what << ": " << ours.error().toString();
    // Random seeds differ, the layout may not.
    EXPECT_EQ(tools->id_object.size(), ours->id_object.size()) << ek.what;
    EXPECT_EQ(tools->encrypted_secret.size(), ours->encrypted_secret.size()) << ek.what;
    write(ek, "ours.cred", toTpm2ToolsCredentialFile(*ours));

    auto a = activate(ek, "ak", "tools.cred", "tools.out");
    ASSERT_EQ(a.exit_code, 0) << ek.what << ": " << a.output;
    auto b = activate(ek, "ak", "ours.cred", "ours.out");
    ASSERT_EQ(b.exit_code, 0) << ek.what << ": " << b.output;
    EXPECT_EQ(toHex(read(ek, "tools.out")), toHex(secret)) << ek.what;
    EXPECT_EQ(toHex(read(ek, "ours.out")), toHex(read(ek, "tools.out"))) << ek.what;
  }
}

TEST_F(CredentialInterop, CredentialForAnotherAkFailsIntegrity) {
  for (const auto& ek : kEks) {
    TpmPublic pub = ekPublic(ek);
    auto cred = makeCredential(pub, read(ek, "ak2.name"), secretFor(pub, 'x'));
    ASSERT_TRUE(cred.has_value()) << ek.what;
    write(ek, "foreign.cred", toTpm2ToolsCredentialFile(*cred));
    auto r = activate(ek, "ak", "foreign.cred", "foreign.out");
    EXPECT_NE(r.exit_code, 0) << ek.what;
    EXPECT_NE(r.output.find("integrity check failed"), std::string::npos) << ek.what << r.output;
    EXPECT_FALSE(readFile(path(ek, "foreign.out")).has_value()) << ek.what;
    // Control: the same credential does activate with the AK it was made for.
    auto ok = activate(ek, "ak2", "foreign.cred", "foreign.out");
    EXPECT_EQ(ok.exit_code, 0) << ek.what << ": " << ok.output;
  }
}

TEST_F(CredentialInterop, CredentialForAnotherEkFails) {
  // An RSA-EK credential handed to the P-256 EK: the TPM cannot recover the seed.
  const EkSetup& rsa = kEks[0];
  const EkSetup& ecc = kEks[1];
  auto cred = makeCredential(ekPublic(rsa), read(ecc, "ak.name"), secretFor(ekPublic(rsa), 'r'));
  ASSERT_TRUE(cred.has_value());
  write(ecc, "rsa-for-ecc.cred", toTpm2ToolsCredentialFile(*cred));
  auto r = activate(ecc, "ak", "rsa-for-ecc.cred", "x.out");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_FALSE(readFile(path(ecc, "x.out")).has_value());
}

}  // namespace
}  // namespace bulwark::attest
