// The appraisal pipeline assembled for bulwark-verifier's main(): the Store, the EK CA
// store, the agent CA, the Appraiser and the EnrollmentService, and the /v1 handlers
// for server/http's route table. main() stays wiring only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "attest/ekcert/ca_store.h"
#include "attest/tpm_public/tpm_public.h"
#include "server/api/pipeline_config.h"
#include "server/api/routes.h"
#include "server/http/config.h"

namespace bulwark::server {

// Creates the agent CA key (0600) and certificate on first start, so the TLS layer can
// load the certificate as a client CA. No-op when agent_ca is not in mapping form.
[[nodiscard]] Result<void> prepareAgentCa(const PipelineConfig& config);

class VerifierApp {
 public:
  // Opens the database (migrating it), loads the EK CAs, the agent CA and the IMA
  // policy. `ear_key` is shared (reference-counted), not copied.
  [[nodiscard]] static Result<std::unique_ptr<VerifierApp>> create(const PipelineConfig& config,
                                                                   const DatabaseConfig& database,
                                                                   EVP_PKEY* ear_key);
  ~VerifierApp();

  std::map<std::string, Handler> handlers() const;
  Store& store() { return *store_; }
  Appraiser& appraiser() { return *appraiser_; }

 private:
  VerifierApp() = default;
  std::shared_ptr<EVP_PKEY> ear_key_;  // the Appraiser's EAR key, also signs report bundles
  std::unique_ptr<Store> store_;
  std::unique_ptr<attest::CaStore> ek_cas_;
  std::unique_ptr<AgentCa> agent_ca_;
  std::unique_ptr<Appraiser> appraiser_;
  std::unique_ptr<EnrollmentService> enrollment_;
};

}  // namespace bulwark::server
