// The pipeline's verifier.yaml sections: defaults, every key, and errors that name the key.
#include "server/http/config.h"

#include <gtest/gtest.h>

#include "server/api/pipeline_config.h"

namespace bulwark::server {
namespace {

constexpr const char* kBase = R"(tls: {cert: /c.pem, key: /k.pem}
database: {sqlite: /v.db}
verifier_key: /ear.key
)";

TEST(PipelineConfig, DefaultsWithoutSections) {
  auto c = parsePipelineConfig(kBase);
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->selection().toString(), "sha256:15");
  EXPECT_FALSE(c->auto_approve);
  EXPECT_EQ(c->nonce_ttl.count(), 120);
  EXPECT_EQ(c->freshness_ttl.count(), 600);
  EXPECT_TRUE(c->agent_ca_cert.empty());
  ASSERT_TRUE(c->isolation_profiles.count("default"));
  EXPECT_EQ(c->isolation_profiles.at("default").fail_severity, "high");
}

TEST(PipelineConfig, EveryKey) {
  std::string yaml = std::string(kBase) + R"(freshness_ttl: 5m
agent_ca: {cert: /ca.pem, key: /ca.key, validity: 7d}
enrollment: {ek_ca: [/ek-roots/], ek_intermediates: /ek-int.pem, auto_approve: true, ttl: 2m, max_attempts: 5}
appraisal: {pcr_bank: sha384, measurement_pcr: 14, pcrs: [11], boot_pcrs: true, ima_pcr: true, nonce_ttl: 1m, ima_policy: /ima.json, boot_policy: /boot.json}
isolation_profiles:
  lab: {allow: [privileged, "seccomp-allows:*"], fail_severity: critical}
)";
  auto c = parsePipelineConfig(yaml);
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->selection().toString(), "sha384:0,1,2,3,4,5,6,7,8,9,10,11,14");
  EXPECT_EQ(c->ima_policy_file, "/ima.json");
  EXPECT_EQ(c->boot_policy_file, "/boot.json");
  EXPECT_EQ(c->agent_cert_validity.count(), 7 * 86400);
  EXPECT_EQ(c->ek_ca.trusted, std::vector<std::string>{"/ek-roots/"});
  EXPECT_EQ(c->ek_ca.intermediates, std::vector<std::string>{"/ek-int.pem"});
  EXPECT_TRUE(c->auto_approve);
  EXPECT_EQ(c->enrollment_ttl.count(), 120);
  EXPECT_EQ(c->max_attempts, 5);
  EXPECT_EQ(c->freshness_ttl.count(), 300);
  EXPECT_EQ(c->isolation_profiles.at("lab").allow.size(), 2u);
  // The HTTP layer accepts the same file and takes the agent CA as its client CA.
  auto http = parseVerifierConfig(yaml);
  ASSERT_TRUE(http.has_value()) << http.error().toString();
  EXPECT_EQ(http->agent_ca_file, "/ca.pem");
  EXPECT_EQ(http->server.client_ca_file, "/ca.pem");
}

TEST(PipelineConfig, ErrorsNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"appraisal: {pcr_bank: sha1}", "appraisal.pcr_bank"},
      {"appraisal: {measurement_pcr: 16}", "appraisal.measurement_pcr"},
      {"appraisal: {pcrs: [23]}", "appraisal.pcrs[0]"},
      {"appraisal: {pcrs: [24]}", "appraisal.pcrs[0]"},
      {"appraisal: {colour: blue}", "appraisal.colour"},
      {"appraisal: {nonce_ttl: 1s}", "appraisal.nonce_ttl"},
      {"enrollment: {auto_approve: yes-please}", "enrollment.auto_approve"},
      {"enrollment: {max_attempts: 0}", "enrollment.max_attempts"},
      {"agent_ca: {cert: /ca.pem}", "agent_ca.key"},
      {"agent_ca: {cert: /ca.pem, key: /ca.key}", "enrollment.ek_ca"},
      {"agent_ca: {cert: /a, key: /b, validity: 10s}\nenrollment: {ek_ca: /x}",
       "agent_ca.validity"},
      {"isolation_profiles: {lab: {fail_severity: dire}}", "isolation_profiles.lab.fail_severity"},
      {"isolation_profiles: {lab: {deny: [x]}}", "isolation_profiles.lab.deny"},
  };
  for (auto [section, key] : cases) {
    SCOPED_TRACE(section);
    auto c = parsePipelineConfig(std::string(kBase) + section + "\n");
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().message().find(key), std::string::npos) << c.error().toString();
  }
}

}  // namespace
}  // namespace bulwark::server
