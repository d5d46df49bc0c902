// bulwark-agent enroll — enroll this node's TPM with the verifier (docs/agent.md
// "Enrollment"). Wiring only: agent/enroll/ has the state machine.
#include <cstdio>
#include <memory>

#include "agent/command.h"
#include "agent/cycle/agent_wiring.h"
#include "agent/cycle/settings_flags.h"
#include "agent/enroll/enroller.h"
#include "agent/enroll/host_facts.h"
#include "agent/enroll/tpm_agent_identity.h"

namespace bulwark::agent {
namespace {

struct EnrollFlags {
  SettingsOverrides overrides;
  std::string ek_type;
  std::string ak_type;
  bool force = false;
};

void line(std::string_view text) {
  std::fprintf(stdout, "%.*s\n", static_cast<int>(text.size()), text.data());
  std::fflush(stdout);
}

int failWith(const Error& error) {
  std::fprintf(stderr, "error: %s\nnext: %s\n", error.toString().c_str(),
               enrollNextStepHint(error).c_str());
  return kExitError;
}

int runEnroll(const GlobalOptions& globals, const EnrollFlags& flags) {
  auto settings =
      resolveSettings(globals.config_path, globals.config_option->count() > 0, flags.overrides);
  if (!settings) return failWith(settings.error());
  StateStore store(settings->state_dir);
  line("enrolling node '" + settings->node + "' with " + settings->verifier_url + " (state in " +
       store.dir() + ")");
  auto tpm = openTpm(*settings);
  if (!tpm) return failWith(tpm.error());
  auto verifier = makeVerifierClient(*settings, store, /*mtls=*/false);
  if (!verifier) return failWith(verifier.error());
  TpmAgentIdentity identity(**tpm, store.akBlobPath());
  EnrollOptions options{.node = settings->node,
                        .verifier_url = settings->verifier_url,
                        .ek_type = flags.ek_type.empty() ? settings->ek_type : flags.ek_type,
                        .ak_type = flags.ak_type.empty() ? settings->ak_type : flags.ak_type,
                        .force = flags.force};
  Enroller enroller(options, {.store = &store,
                              .identity = &identity,
                              .verifier = verifier->get(),
                              .host_facts = [] { return collectHostFacts(); },
                              .now_unix_ms = nowUnixMs,
                              .progress = line});
  auto state = enroller.run();
  if (!state) return failWith(state.error());
  std::string selection = state->pcr.bank + ":";
  for (std::size_t i = 0; i < state->pcr.indices.size(); ++i) {
    selection += (i ? "," : "") + std::to_string(state->pcr.indices[i]);
  }
  if (state->phase == EnrollPhase::kAwaitingApproval) {
    line("enrolled, awaiting approval: an admin runs `bulwarkctl approve " + state->node +
         "`; attestation is refused until then");
  } else {
    line("enrolled as '" + state->node + "' (verifier state " + state->verifier_state +
         ", quoting " + selection + ")");
  }
  line("next: bulwark-agent attest --once   (or start the daemon: bulwark-agent run)");
  return kExitOk;
}

void registerEnroll(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
  auto flags = std::make_shared<EnrollFlags>();
  CLI::App* cmd = app.add_subcommand(
      "enroll",
      "Enroll this node's TPM with the verifier (EK certificate, AK credential "
      "activation, mTLS client certificate). Resumable: re-run after any failure.");
  addSettingsFlags(cmd, flags->overrides);
  cmd->add_option("--ek-type", flags->ek_type, "EK: auto, rsa2048, ecc-p256, ecc-p384")
      ->check(CLI::IsMember({"auto", "rsa2048", "ecc-p256", "ecc-p384"}));
  cmd->add_option("--ak-type", flags->ak_type, "AK: auto, rsa2048, ecc-p256")
      ->check(CLI::IsMember({"auto", "rsa2048", "ecc-p256"}));
  cmd->add_flag("--force", flags->force, "Forget any previous enrollment and start over (new AK)");
  cmd->callback([&globals, &exit_code, flags] { exit_code = runEnroll(globals, *flags); });
}

const RegisterCommand kRegisterEnroll{registerEnroll};

}  // namespace
}  // namespace bulwark::agent
