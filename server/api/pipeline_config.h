// Verifier configuration sections of the appraisal pipeline, read from the same
// verifier.yaml as server/http's settings (docs/verifier.md "Configuration"):
//
//   agent_ca:            {cert, key, validity}      agent client-certificate CA
//   enrollment:          {ek_ca, ek_intermediates, auto_approve, ttl, max_attempts}
//   appraisal:           {pcr_bank, measurement_pcr, pcrs, boot_pcrs, ima_pcr,
//                         nonce_ttl, ima_policy}
//   isolation_profiles:  {<group>: {allow: [...], fail_severity}}
//   freshness_ttl        (shared with server/http)
//
// Other top-level keys belong to server/http and are not looked at here. Errors name
// the key ("appraisal.pcr_bank: ..."), like server/http/config.h.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "attest/ekcert/ca_store_loader.h"
#include "attest/quote/pcr_selection.h"
#include "server/appraisal/policy.h"

namespace bulwark::server {

struct PipelineConfig {
  // agent_ca (mapping form). Empty cert: no enrollment endpoint (agents cannot get
  // certificates), the rest of the verifier still works.
  std::string agent_ca_cert;
  std::string agent_ca_key;
  std::chrono::seconds agent_cert_validity{30 * 86400};

  attest::CaStoreConfig ek_ca;
  bool auto_approve = false;
  std::chrono::seconds enrollment_ttl{300};
  int max_attempts = 3;

  HashAlg pcr_bank = HashAlg::kSha256;
  std::uint32_t measurement_pcr = 15;
  std::vector<std::uint32_t> extra_pcrs;
  bool boot_pcrs = false;  // also quote PCRs 0-9 (firmware log)
  bool ima_pcr = false;    // also quote PCR 10 (IMA list)
  std::chrono::seconds nonce_ttl{120};
  std::string ima_policy_file;
  std::string boot_policy_file;  // JSON, docs/boot-policy.md; needs boot_pcrs

  std::map<std::string, IsolationProfile> isolation_profiles;  // always has "default"
  std::chrono::seconds freshness_ttl{600};

  // One bank: measurement PCR, extra PCRs, 0-9 with boot_pcrs, 10 with ima_pcr.
  attest::PcrSelection selection() const;
};

[[nodiscard]] Result<PipelineConfig> parsePipelineConfig(std::string_view yaml);
[[nodiscard]] Result<PipelineConfig> loadPipelineConfig(const std::string& path);

}  // namespace bulwark::server
