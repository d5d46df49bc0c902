#include "server/api/verifier_app.h"

#include <openssl/evp.h>

#include <chrono>

#include "attest/ekcert/ca_store_loader.h"
#include "attest/eventlog/boot_policy.h"
#include "attest/ima/ima_policy.h"
#include "server/http/log.h"
#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"

namespace bulwark::server {

namespace {
Millis wallClock() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Store>> openStore(const DatabaseConfig& db) {
  if (db.isPostgres()) {
    auto s = PostgresStore::open(db.postgres_conninfo);
    if (!s) return std::unexpected(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }
  auto s = SqliteStore::open(db.sqlite_path);
  if (!s) return std::unexpected(s.error());
  return std::unique_ptr<Store>(std::move(*s));
}

Result<std::optional<attest::ima::ImaPolicy>> loadImaPolicy(const std::string& path) {
  if (path.empty()) return std::nullopt;
  auto bytes = readFile(path, 64u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  auto p = attest::ima::parseImaPolicyJson(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!p) return std::unexpected(p.error().within(path));
  return *p;
}
Result<std::shared_ptr<const attest::eventlog::CompiledBootPolicy>> loadBootPolicy(const std::string& path) {
  if (path.empty()) return nullptr;
  auto bytes = readFile(path, 16u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  auto p = attest::eventlog::parseBootPolicyJson(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!p) return std::unexpected(p.error().within(path));
  auto compiled = attest::eventlog::compileBootPolicy(std::move(*p));
  if (!compiled) return std::unexpected(compiled.error().within(path));
  return std::make_shared<const attest::eventlog::CompiledBootPolicy>(std::move(*compiled));
}
}  // namespace

Result<void> prepareAgentCa(const PipelineConfig& config) {
  if (config.agent_ca_cert.empty()) return {};
  auto ca = AgentCa::loadOrCreate(config.agent_ca_cert, config.agent_ca_key, wallClock());
  if (!ca) return std::unexpected(ca.error());
  if (ca->created()) {
    logEvent(LogLevel::kInfo, "created agent CA",
             {{"cert", config.agent_ca_cert}, {"key", config.agent_ca_key}});
  }
  return {};
}

VerifierApp::~VerifierApp() = default;

Result<std::unique_ptr<VerifierApp>> VerifierApp::create(const PipelineConfig& config,
                                                         const DatabaseConfig& database,
                                                         EVP_PKEY* ear_key) {
  std::unique_ptr<VerifierApp> app(new VerifierApp());
  auto store = openStore(database);
  if (!store) return std::unexpected(store.error().within("database"));
  app->store_ = std::move(*store);
  auto ima = loadImaPolicy(config.ima_policy_file);
  if (!ima) return std::unexpected(ima.error());

  AppraiserOptions opts;
  opts.selection = config.selection();
  opts.measurement_pcr = config.measurement_pcr;
  opts.nonce_ttl = config.nonce_ttl;
  opts.freshness_ttl = config.freshness_ttl;
  opts.profiles = config.isolation_profiles;
  opts.ima_policy = std::move(*ima);
  auto boot = loadBootPolicy(config.boot_policy_file);
  if (!boot) return std::unexpected(boot.error());
  opts.boot_policy = std::move(*boot);
  EVP_PKEY_up_ref(ear_key);
  std::shared_ptr<EVP_PKEY> key(ear_key, EVP_PKEY_free);
  app->ear_key_ = key;
  app->appraiser_ = std::make_unique<Appraiser>(*app->store_, std::move(key), std::move(opts),
                                                wallClock, attest::defaultRng());

  if (!config.agent_ca_cert.empty()) {
    auto cas = attest::loadCaStore(config.ek_ca);
    if (!cas) return std::unexpected(cas.error().within("enrollment.ek_ca"));
    app->ek_cas_ = std::make_unique<attest::CaStore>(std::move(*cas));
    auto ca = AgentCa::loadOrCreate(config.agent_ca_cert, config.agent_ca_key, wallClock());
    if (!ca) return std::unexpected(ca.error());
    app->agent_ca_ = std::make_unique<AgentCa>(std::move(*ca));
    EnrollmentOptions eo{config.auto_approve, config.enrollment_ttl, config.max_attempts,
                         config.agent_cert_validity};
    app->enrollment_ =
        std::make_unique<EnrollmentService>(*app->store_, *app->ek_cas_, *app->agent_ca_,
                                            *app->appraiser_, eo, wallClock, attest::defaultRng());
  }
  logEvent(LogLevel::kInfo, "appraisal pipeline ready",
           {{"pcrs", config.selection().toString()},
            {"measurement_pcr", config.measurement_pcr},
            {"enrollment", app->enrollment_ != nullptr},
            {"auto_approve", config.auto_approve},
            {"engine", database.isPostgres() ? "postgresql" : "sqlite"}});
  return app;
}

std::map<std::string, Handler> VerifierApp::handlers() const {
  return makeApiHandlers({store_.get(), appraiser_.get(), enrollment_.get(), wallClock, ear_key_});
}

}  // namespace bulwark::server
