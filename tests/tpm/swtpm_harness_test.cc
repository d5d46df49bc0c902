// The harness itself, against tpm2-tools: the TPM answers, EK certificates chain
// to the private CA, and the state dir disappears afterwards.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/swtpm.h"

namespace bulwark::testing {
namespace {

TEST(SwtpmHarness, ManufacturesStartsAndCleansUp) {
  std::string dir;
  {
    auto tpm = Swtpm::start();
    ASSERT_TRUE(tpm.has_value()) << tpm.error().toString();
    dir = (*tpm)->dir();
    auto caps = (*tpm)->run("tpm2_getcap properties-fixed");
    ASSERT_EQ(caps.exit_code, 0) << caps.output;
    EXPECT_NE(caps.output.find("TPM2_PT_MANUFACTURER"), std::string::npos);

    // RSA EK certificate from NV 0x01c00002, verified against the private CA chain.
    auto nv = (*tpm)->run("tpm2_nvread 0x01c00002 -o ek_rsa.der && "
                          "openssl x509 -inform der -in ek_rsa.der -out ek_rsa.pem && "
                          "openssl verify -partial_chain -CAfile " + (*tpm)->rootCaPem() +
                          " -untrusted " + (*tpm)->issuerCaPem() + " ek_rsa.pem");
    ASSERT_EQ(nv.exit_code, 0) << nv.output;
    EXPECT_NE(nv.output.find("ek_rsa.pem: OK"), std::string::npos) << nv.output;

    auto pcrs = (*tpm)->run("tpm2_pcrread sha256:0");
    ASSERT_EQ(pcrs.exit_code, 0) << pcrs.output;

    ASSERT_TRUE((*tpm)->restart().has_value());
    auto after = (*tpm)->run("tpm2_getcap properties-variable");
    ASSERT_EQ(after.exit_code, 0) << after.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace bulwark::testing
