#include "agent/cycle/agent_wiring.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "agent/transport/beast_https_client.h"
#include "agent/transport/http_verifier_client.h"

namespace bulwark::agent {

Result<AgentSettings> resolveSettings(const std::string& config_path, bool config_explicit,
                                      const SettingsOverrides& o) {
  auto s = loadAgentSettings(config_path, config_explicit);
  if (!s) return s;
  if (!o.verifier_url.empty()) s->verifier_url = o.verifier_url;
  if (!o.ca_file.empty()) s->verifier_ca_file = o.ca_file;
  if (!o.tcti.empty()) s->tcti = o.tcti;
  if (!o.node.empty()) s->node = o.node;
  if (!o.state_dir.empty()) s->state_dir = o.state_dir;
  if (s->node.empty()) {
    auto host = defaultNodeName();
    if (!host) return std::unexpected(host.error());
    s->node = *host;
  }
  if (auto r = validateNodeName(s->node); !r) return std::unexpected(r.error());
  if (s->verifier_url.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "no verifier URL: set verifier.url in " + config_path + " or pass --verifier");
  }
  // Canonical form, so "https://v:443/" and "https://v" are the same verifier to the
  // enrollment state, and a typo fails here, before the TPM is touched.
  auto url = parseVerifierUrl(s->verifier_url);
  if (!url) return std::unexpected(url.error());
  s->verifier_url = url->toString();
  if (s->verifier_ca_file.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "no CA file for the verifier's certificate: set verifier.ca_file in " +
                    config_path + " or pass --ca-file");
  }
  return s;
}

Result<std::unique_ptr<VerifierClient>> makeVerifierClient(const AgentSettings& settings,
                                                           const StateStore& store, bool mtls) {
  auto url = parseVerifierUrl(settings.verifier_url);
  if (!url) return std::unexpected(url.error());
  HttpsClientOptions options;
  options.url = *url;
  options.ca_file = settings.verifier_ca_file;
  options.timeout = settings.timeout;
  auto anonymous = BeastHttpsClient::create(options);
  if (!anonymous) return std::unexpected(anonymous.error());
  std::unique_ptr<HttpClient> authenticated;
  if (mtls) {
    std::error_code ec;
    if (!std::filesystem::exists(store.clientCertPath(), ec)) {
      return fail(ErrorCode::kNotFound, "no client certificate: run `bulwark-agent enroll` first",
                  store.clientCertPath());
    }
    options.client_cert_file = store.clientCertPath();
    options.client_key_file = store.clientKeyPath();
    auto client = BeastHttpsClient::create(options);
    if (!client) return std::unexpected(client.error());
    authenticated = std::move(*client);
  }
  return std::unique_ptr<VerifierClient>(
      new HttpVerifierClient(std::move(*anonymous), std::move(authenticated)));
}

Result<std::unique_ptr<attest::EsysTpm>> openTpm(const AgentSettings& settings) {
  // tpm2-tss logs failures to stderr itself; our Error already carries the decoded
  // TSS2_RC, so keep the agent's output to one line per problem (unless the operator
  // asked for TSS2_LOG).
  ::setenv("TSS2_LOG", "all+NONE", /*overwrite=*/0);
  attest::EsysTpmOptions options;
  options.tcti = settings.tcti;
  auto tpm = attest::EsysTpm::open(options);
  if (!tpm) return std::unexpected(tpm.error().within("tpm.tcti '" + settings.tcti + "'"));
  return tpm;
}

std::int64_t nowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string formatUnixMs(std::int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
  return out;
}

Result<std::string> enrolledNode(const StateStore& store) {
  auto state = store.loadEnrollment();
  if (!state) return std::unexpected(state.error());
  if (state->phase != EnrollPhase::kEnrolled && state->phase != EnrollPhase::kAwaitingApproval) {
    return fail(ErrorCode::kNotFound,
                "enrollment is not finished (" + std::string(enrollPhaseName(state->phase)) +
                    "): run `bulwark-agent enroll`",
                store.enrollmentPath());
  }
  return state->node;
}

Result<void> markApproved(const StateStore& store) {
  auto state = store.loadEnrollment();
  if (!state) return std::unexpected(state.error());
  if (state->phase != EnrollPhase::kAwaitingApproval) return {};
  state->phase = EnrollPhase::kEnrolled;
  return store.saveEnrollment(*state);
}

}  // namespace bulwark::agent
