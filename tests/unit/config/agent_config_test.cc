// agent.yaml loader: every key validated, errors name the key and the problem.
#include "agent/config/agent_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace bulwark::agent {
namespace {

TEST(AgentConfig, EmptyDocumentGivesDefaults) {
  auto c = parseAgentConfig("");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->measure.pcr, 15u);
  EXPECT_EQ(c->measure.log, "/var/lib/bulwark/measure.log");
  EXPECT_EQ(c->state_dir, "/var/lib/bulwark");
  EXPECT_EQ(c->tpm.tcti, "");
  EXPECT_FALSE(c->debug);
  EXPECT_EQ(c->measure.debounce_ms, 500u);
}

TEST(AgentConfig, FullExampleParses) {
  auto c = parseAgentConfig(R"(
node: worker-1
state_dir: /srv/bulwark
debug: false
tpm: {tcti: "swtpm:host=127.0.0.1,port=2321", ek_type: ecc-p256, ak_type: rsa2048}
verifier:
  url: https://verifier.example:8443
  ca_file: /etc/bulwark/ca.pem
  timeout: 20s
  interval: 2m
  max_backoff: 1h
measure:
  pcr: 14
  log: /srv/bulwark/measure.log
  include: [/etc/containerd/config.toml, "/etc/kubernetes/*.conf", /opt/bin]
  runtime_binaries: [runc, "containerd-shim*"]
  docker_socket: ""
  containerd_socket: /run/containerd/containerd.sock
  oci_state_roots: [/run/runc]
  containerd_task_roots: []
  systemd: false
  debounce_ms: 250
  hash_threads: 4
inspect: {profile: restricted}
)");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->node, "worker-1");
  EXPECT_EQ(c->tpm.ek_type, "ecc-p256");
  EXPECT_EQ(c->verifier.timeout_s, 20u);
  EXPECT_EQ(c->verifier.interval_s, 120u);
  EXPECT_EQ(c->verifier.max_backoff_s, 3600u);
  EXPECT_EQ(c->measure.pcr, 14u);
  ASSERT_EQ(c->measure.include.size(), 3u);
  EXPECT_EQ(c->measure.include[1], "/etc/kubernetes/*.conf");
  EXPECT_EQ(c->measure.runtime_binaries.size(), 2u);
  EXPECT_EQ(c->measure.docker_socket, "");
  EXPECT_TRUE(c->measure.containerd_task_roots.empty());
  EXPECT_FALSE(c->measure.systemd);
  EXPECT_EQ(c->measure.debounce_ms, 250u);
  EXPECT_EQ(c->measure.hash_threads, 4u);
  EXPECT_EQ(c->inspect.profile, "restricted");
}

struct BadCase {
  const char* name;
  const char* yaml;
  const char* message;  // the error must contain this
};

class AgentConfigRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(AgentConfigRejects, NamesKeyAndProblem) {
  auto c = parseAgentConfig(GetParam().yaml);
  ASSERT_FALSE(c.has_value()) << GetParam().name;
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message().find(GetParam().message), std::string::npos)
      << "got: " << c.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, AgentConfigRejects,
    ::testing::Values(
        BadCase{"unknown_top", "nodes: a", "nodes: unknown key"},
        BadCase{"unknown_measure", "measure: {pcrs: 1}", "measure.pcrs: unknown key"},
        BadCase{"unknown_tpm", "tpm: {device: /dev/tpm0}", "tpm.device: unknown key"},
        BadCase{"pcr_range", "measure: {pcr: 24}", "measure.pcr: 24 is outside 0..23"},
        BadCase{"pcr_text", "measure: {pcr: fifteen}", "measure.pcr: 'fifteen' is not an unsigned"},
        BadCase{"pcr16", "measure: {pcr: 16}", "measure.pcr: PCR 16 is resettable"},
        BadCase{"pcr23", "measure: {pcr: 23}", "measure.pcr: PCR 23 is resettable"},
        BadCase{"log_relative", "measure: {log: measure.log}",
                "measure.log: 'measure.log' is not an absolute"},
        BadCase{"include_scalar", "measure: {include: /etc}", "measure.include: must be a list"},
        BadCase{"include_relative", "measure: {include: [/etc, etc/x]}",
                "measure.include[1]: 'etc/x'"},
        BadCase{"include_map", "measure: {include: [{a: b}]}",
                "measure.include[0]: must be a string"},
        BadCase{"binary_path", "measure: {runtime_binaries: [/usr/bin/runc]}",
                "measure.runtime_binaries[0]"},
        BadCase{"debounce", "measure: {debounce_ms: -1}", "measure.debounce_ms"},
        BadCase{"bool", "measure: {systemd: yes-please}",
                "measure.systemd: 'yes-please' is not true or false"},
        BadCase{"debug_bool", "debug: 1", "debug: '1' is not true or false"},
        BadCase{"ek_type", "tpm: {ek_type: dsa}", "tpm.ek_type: 'dsa' is not one of"},
        BadCase{"timeout", "verifier: {timeout: soon}",
                "verifier.timeout: 'soon' is not a duration"},
        BadCase{"interval_zero", "verifier: {interval: 0s}", "verifier.interval: 0 is outside"},
        BadCase{"section_scalar", "measure: 5", "measure: must be a mapping"},
        BadCase{"duplicate", "measure: {pcr: 1, pcr: 2}", "measure.pcr: given twice"},
        BadCase{"not_mapping", "- a\n- b", "must be a YAML mapping"},
        BadCase{"bad_yaml", "measure: {pcr: [1", "not valid YAML"}),
    [](const ::testing::TestParamInfo<BadCase>& p) { return std::string(p.param.name); });

TEST(AgentConfig, DebugAllowsResettablePcr) {
  auto c = parseAgentConfig("debug: true\nmeasure: {pcr: 16}\n");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->measure.pcr, 16u);
}

TEST(AgentConfig, LoadMissingFileDependsOnExplicit) {
  std::string path = "/nonexistent/bulwark/agent.yaml";
  auto implicit = loadAgentConfig(path, false);
  ASSERT_TRUE(implicit.has_value());
  EXPECT_EQ(implicit->measure.pcr, 15u);
  auto explicit_missing = loadAgentConfig(path, true);
  ASSERT_FALSE(explicit_missing.has_value());
  EXPECT_EQ(explicit_missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(explicit_missing.error().toString().find(path), std::string::npos);
}

TEST(AgentConfig, LoadNamesFileInError) {
  char tmpl[] = "/tmp/bulwark-config-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  { std::ofstream(tmpl) << "measure:\n  pcr: 99\n"; }
  auto c = loadAgentConfig(tmpl, true);
  ::unlink(tmpl);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().toString().find(tmpl), std::string::npos);
  EXPECT_NE(c.error().toString().find("measure.pcr"), std::string::npos);
}

TEST(AgentConfig, PackagedExampleIsValid) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "BULWARK_SOURCE_DIR must be set (ctest sets it)";
  auto c = loadAgentConfig(std::string(src) + "/packaging/agent.yaml", true);
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->measure.pcr, 15u);
}

}  // namespace
}  // namespace bulwark::agent
