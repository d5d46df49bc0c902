// bulwark-verifier: wiring only. Configuration, key, routes and server come
// from server/http and attest/ear; this file connects them and runs until
// SIGTERM/SIGINT (graceful shutdown).
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attest/ear/jwk.h"
#include "attest/ear/verifier_key.h"
#include "server/api/verifier_app.h"
#include "server/http/config.h"
#include "server/http/log.h"
#include "server/http/server.h"
#include "server/http/store_probe.h"
#include "server/http/tls_context.h"
#include "server/http/verifier_routes.h"

namespace {
constexpr int kExitOk = 0;
constexpr int kExitConfig = 2;
constexpr int kExitRuntime = 1;

int fatal(int code, const std::string& what, const bulwark::Error& error) {
  std::fprintf(stderr, "bulwark-verifier: %s: %s\n", what.c_str(), error.toString().c_str());
  return code;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace bulwark;
  CLI::App app{"Bulwark verifier: enrolls nodes, appraises evidence, signs EAR results"};
  std::string config_path = "/etc/bulwark/verifier.yaml";
  bool check_only = false;
  app.add_option("--config", config_path, "configuration file (YAML)")->capture_default_str();
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  CLI11_PARSE(app, argc, argv);

  auto config = server::loadVerifierConfig(config_path);
  if (!config) return fatal(kExitConfig, "configuration", config.error());
  // Appraisal pipeline sections of the same file (server/api/pipeline_config.h); the
  // agent CA must exist before its fingerprint and the TLS client CA are loaded.
  auto pipeline_config = server::loadPipelineConfig(config_path);
  if (!pipeline_config) return fatal(kExitConfig, "configuration", pipeline_config.error());
  if (!check_only) {
    if (auto ca = server::prepareAgentCa(*pipeline_config); !ca) return fatal(kExitConfig, "agent_ca", ca.error());
  }
  if (!config->agent_ca_file.empty()) {
    auto fp = server::certificateFileSha256(config->agent_ca_file);
    if (!fp) return fatal(kExitConfig, "agent_ca", fp.error());
    config->access.agent_ca_sha256 = *fp;
  }
  if (check_only) {
    std::printf("bulwark-verifier: %s is valid\n", config_path.c_str());
    return kExitOk;
  }

  auto key = attest::loadOrCreateVerifierKey(config->verifier_key_file);
  if (!key) return fatal(kExitRuntime, "verifier key", key.error());
  auto jwk = attest::publicJwk(key->key.get());
  if (!jwk) return fatal(kExitRuntime, "verifier key", jwk.error());
  server::logEvent(server::LogLevel::kInfo, key->created ? "created verifier key" : "loaded verifier key",
                   {{"path", config->verifier_key_file}, {"kid", (*jwk)["kid"]}});

  auto pipeline = server::VerifierApp::create(*pipeline_config, config->database, key->key.get());
  if (!pipeline) return fatal(kExitRuntime, "appraisal pipeline", pipeline.error());

  auto metrics = std::make_shared<server::Metrics>();
  metrics->addSource([&appraiser = (*pipeline)->appraiser()] { return appraiser.metricsText(); });
  server::Router router{server::Authenticator(config->access)};
  auto routes = server::addVerifierRoutes(
      router, {server::cachedProbe(server::makeStoreProbe(config->database), std::chrono::seconds(2)),
               metrics, attest::jwks({*jwk}), (*pipeline)->handlers()});
  if (!routes) return fatal(kExitRuntime, "routes", routes.error());

  auto srv = server::HttpsServer::create(config->server, std::move(router), metrics);
  if (!srv) return fatal(kExitConfig, "tls", srv.error());
  if (auto started = (*srv)->start(); !started) return fatal(kExitRuntime, "listen", started.error());
  (*srv)->runUntilSignal();
  return kExitOk;
}
