// verifier.yaml validation: every error names the offending key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/http/config.h"

namespace bulwark::server {
namespace {

constexpr std::string_view kHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

std::string minimal() {
  return "tls: {cert: /c.pem, key: /k.pem}\n"
         "database: {sqlite: /var/lib/bulwark/v.db}\n"
         "verifier_key: /var/lib/bulwark/key.pem\n";
}

TEST(VerifierConfig, MinimalUsesDefaults) {
  auto c = parseVerifierConfig(minimal());
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->server.address, "0.0.0.0");
  EXPECT_EQ(c->server.port, 8443);
  EXPECT_EQ(c->server.min_tls, TlsVersion::kTls13);
  EXPECT_TRUE(c->server.client_ca_file.empty());
  EXPECT_EQ(c->server.max_body_bytes, 1u << 20);
  EXPECT_EQ(c->freshness_ttl, std::chrono::seconds(600));
  EXPECT_FALSE(c->database.isPostgres());
}

TEST(VerifierConfig, FullExampleParses) {
  std::string yaml = std::string(R"(
listen: {address: "::1", port: 0}
tls: {cert: /c.pem, key: /k.pem, client_ca: /ca.pem, min_version: "1.2"}
agent_ca: /agent-ca.pem
threads: 8
limits: {max_body_bytes: 4096, max_header_bytes: 2048}
timeouts: {handshake: 5s, header: 1m, body: 30, write: 2m, shutdown_grace: 0s}
tokens:
  - {name: sched, role: scheduler, sha256: )") + std::string(kHash) + R"(}
client_certs:
  - name: laptop
    role: admin
    sha256: "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08"
database: {postgres: "host=db dbname=bulwark"}
verifier_key: /key.pem
freshness_ttl: 15m
)";
  auto c = parseVerifierConfig(yaml);
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->server.address, "::1");
  EXPECT_EQ(c->server.port, 0);
  EXPECT_EQ(c->server.min_tls, TlsVersion::kTls12);
  EXPECT_EQ(c->server.threads, 8u);
  EXPECT_EQ(c->server.header_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c->server.body_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c->server.shutdown_grace, std::chrono::seconds(0));
  ASSERT_EQ(c->access.tokens.size(), 1u);
  EXPECT_EQ(c->access.tokens[0].role, Role::kScheduler);
  EXPECT_EQ(c->access.tokens[0].sha256.size(), 32u);
  ASSERT_EQ(c->access.client_certs.size(), 1u);
  EXPECT_EQ(c->access.client_certs[0].sha256, kHash);  // colons removed, lower-cased
  EXPECT_TRUE(c->database.isPostgres());
  EXPECT_EQ(c->freshness_ttl, std::chrono::minutes(15));
}

TEST(VerifierConfig, ErrorsNameTheKey) {
  const std::string base = minimal();
  struct Case {
    std::string yaml;
    std::string key;  // expected prefix of the message
  };
  const std::string tok = "tokens: [{name: a, role: admin, sha256: " + std::string(kHash) + "}]\n";
  const Case kCases[] = {
      {base + "listne: {port: 1}\n", "listne: unknown key"},
      {base + "listen: {port: 70000}\n", "listen.port:"},
      {base + "listen: {port: abc}\n", "listen.port:"},
      {base + "listen: {address: example.com}\n", "listen.address:"},
      {base + "listen: [1]\n", "listen: must be a mapping"},
      {"tls: {cert: /c.pem}\ndatabase: {sqlite: /d}\nverifier_key: /k\n", "tls.key: is required"},
      {"database: {sqlite: /d}\nverifier_key: /k\n", "tls: is required"},
      {"tls: {cert: /c, key: /k, min_version: \"1.1\"}\ndatabase: {sqlite: /d}\nverifier_key: /k\n",
       "tls.min_version:"},
      {"tls: {cert: /c, key: /k, ciphers: x}\ndatabase: {sqlite: /d}\nverifier_key: /k\n",
       "tls.ciphers: unknown key"},
      {base + "threads: 0\n", "threads:"},
      {base + "threads: 1.5\n", "threads:"},
      {base + "limits: {max_body_bytes: 10}\n", "limits.max_body_bytes:"},
      {base + "limits: {max_body: 10}\n", "limits.max_body: unknown key"},
      {base + "timeouts: {header: 10x}\n", "timeouts.header:"},
      {base + "timeouts: {write: 0s}\n", "timeouts.write:"},
      {base + "timeouts: {idle: 5s}\n", "timeouts.idle: unknown key"},
      {base + "freshness_ttl: 1s\n", "freshness_ttl:"},
      {base + "tokens: {name: a}\n", "tokens: must be a list"},
      {base + "tokens: [{name: a, role: root, sha256: " + std::string(kHash) + "}]\n", "tokens[0].role:"},
      {base + "tokens: [{name: a, role: admin, sha256: abc}]\n", "tokens[0].sha256:"},
      {base + "tokens: [{name: a, role: admin}]\n", "tokens[0].sha256: is required"},
      {base + "tokens: [{name: a, role: agent, sha256: " + std::string(kHash) + "}]\n", "tokens[0].role:"},
      {base + "tokens: [{name: a, role: admin, sha256: " + std::string(kHash) + ", token: x}]\n",
       "tokens[0].token: unknown key"},
      {base + "tokens: [{name: a, role: admin, sha256: " + std::string(kHash) +
           "}, {name: a, role: auditor, sha256: " + std::string(64, 'e') + "}]\n",
       "tokens[1].name: duplicate"},
      {base + "client_certs: [{name: a, role: admin, sha256: " + std::string(kHash) + "}]\n",
       "tls.client_ca: is required"},
      {base + "agent_ca: /ca.pem\n", "tls.client_ca: is required"},
      {"tls: {cert: /c, key: /k}\ndatabase: {sqlite: /d, postgres: x}\nverifier_key: /k\n",
       "database: set exactly one"},
      {"tls: {cert: /c, key: /k}\ndatabase: {}\nverifier_key: /k\n", "database: set exactly one"},
      {"tls: {cert: /c, key: /k}\nverifier_key: /k\n", "database: is required"},
      {"tls: {cert: /c, key: /k}\ndatabase: {sqlite: /d}\n", "verifier_key: is required"},
      {"- just\n- a list\n", "configuration: must be a mapping"},
      {"tls: {cert: /c\n", "YAML syntax error at line"},
      {tok + base + "verifier_key: /again\n", "verifier_key: duplicate key"},
      {"tls: {cert: /c, key: /k, cert: /d}\ndatabase: {sqlite: /d}\nverifier_key: /k\n",
       "tls.cert: duplicate key"},
  };
  for (const Case& c : kCases) {
    auto r = parseVerifierConfig(c.yaml);
    ASSERT_FALSE(r.has_value()) << "accepted:\n" << c.yaml;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(r.error().message().starts_with(c.key))
        << "expected '" << c.key << "', got '" << r.error().message() << "'";
  }
}

TEST(VerifierConfig, DurationsAndFiles) {
  EXPECT_EQ(parseDuration("90").value(), std::chrono::seconds(90));
  EXPECT_EQ(parseDuration("2h").value(), std::chrono::hours(2));
  EXPECT_EQ(parseDuration("1d").value(), std::chrono::hours(24));
  for (const char* bad : {"", "s", "-1s", "1.5m", "1w", " 5s", "5 s"}) {
    EXPECT_FALSE(parseDuration(bad).has_value()) << bad;
  }
  auto missing = loadVerifierConfig("/nonexistent/verifier.yaml");
  ASSERT_FALSE(missing.has_value());
  auto path = std::filesystem::temp_directory_path() / ("bulwark-cfg-" + std::to_string(::getpid()));
  std::ofstream(path) << "threads: 0\n" << minimal();
  auto bad = loadVerifierConfig(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().toString().find(path.string()), std::string::npos);
  EXPECT_NE(bad.error().toString().find("threads:"), std::string::npos);
}

TEST(VerifierConfig, PackagedExampleIsValid) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "BULWARK_SOURCE_DIR not set (run through ctest)";
  auto c = loadVerifierConfig(std::string(src) + "/packaging/verifier.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->server.min_tls, TlsVersion::kTls13);
  EXPECT_EQ(c->access.tokens.size(), 2u);
  EXPECT_EQ(c->access.client_certs.size(), 1u);
  EXPECT_FALSE(c->agent_ca_file.empty());
  EXPECT_FALSE(c->database.isPostgres());
}

}  // namespace
}  // namespace bulwark::server
