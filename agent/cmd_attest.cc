// bulwark-agent attest --once — one attestation cycle: prints the verdict and
// its reasons; exit 0 when affirming, 3 when the verifier appraised the
// evidence and did not affirm it, 1 when no verdict could be obtained
// (docs/agent.md "Attestation"). Wiring only: agent/cycle/ has the cycle.
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <memory>

#include "agent/command.h"
#include "agent/cycle/agent_wiring.h"
#include "agent/cycle/cycle_stack.h"
#include "agent/cycle/settings_flags.h"
#include "agent/transport/verifier_error.h"

namespace bulwark::agent {
namespace {

struct AttestFlags {
  SettingsOverrides overrides;
  bool once = false;
  bool json = false;
};

std::string attestHint(const Error& error) {
  auto code = verifierErrorCode(error).value_or("");
  if (code == "node-awaiting-approval") {
    return "an admin approves the node (bulwarkctl approve NODE)";
  }
  if (code == "node-unknown" || code == "client-certificate-superseded") {
    return "re-enroll: bulwark-agent enroll --force";
  }
  if (code == "node-revoked") {
    return "the node was revoked; an admin must delete it before it re-enrolls";
  }
  if (!code.empty()) return "the verifier refused the request; see its detail above";
  if (error.context().find("tcti") != std::string::npos) {
    return "cannot reach the TPM: check tpm.tcti / --tpm";
  }
  if (error.code() == ErrorCode::kNotFound) return "enroll first: bulwark-agent enroll";
  if (error.code() == ErrorCode::kTpm) {
    return "check the TPM; after a TPM clear: bulwark-agent enroll --force";
  }
  if (error.code() == ErrorCode::kUnavailable) {
    return "check the network, verifier.url and verifier.ca_file, then retry";
  }
  return "fix the problem above and retry";
}

int failWith(const Error& error) {
  std::fprintf(stderr, "error: %s\nnext: %s\n", error.toString().c_str(),
               attestHint(error).c_str());
  return kExitError;
}

void printOutcome(const CycleOutcome& o, bool json) {
  for (const auto& note : o.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  if (json) {
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(o.result, &text, options);
    std::fputs(text.c_str(), stdout);
    return;
  }
  const auto& r = o.result;
  std::printf("verdict: %s\n", statusName(r.status()).c_str());
  std::printf("node: %s  appraised: %s  fresh until: %s  report: %zu bytes  round trips: %d\n",
              r.node().c_str(), formatUnixMs(r.appraised_unix_ms()).c_str(),
              formatUnixMs(r.fresh_until_unix_ms()).c_str(), o.report_bytes, o.round_trips);
  if (r.reasons().empty()) std::printf("reasons: none\n");
  for (const auto& reason : r.reasons()) {
    std::printf("reason: %s [%s] %s\n", reason.code().c_str(), reason.claim().c_str(),
                reason.detail().c_str());
  }
}

int runAttest(const GlobalOptions& globals, const AttestFlags& flags) {
  auto settings =
      resolveSettings(globals.config_path, globals.config_option->count() > 0, flags.overrides);
  if (!settings) return failWith(settings.error());
  StateStore store(settings->state_dir);
  auto stack = buildCycleStack(*settings, store);
  if (!stack) return failWith(stack.error());
  for (const auto& note : (*stack)->notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  auto outcome = (*stack)->cycle->runOnce();
  if (!outcome) return failWith(outcome.error());
  if (auto r = markApproved(store); !r)
    std::fprintf(stderr, "note: %s\n", r.error().toString().c_str());
  printOutcome(*outcome, flags.json);
  return outcome->affirming ? kExitOk : kExitViolations;
}

void registerAttest(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
  auto flags = std::make_shared<AttestFlags>();
  CLI::App* cmd =
      app.add_subcommand("attest",
                         "Run one attestation cycle and print the verdict (exit 0 affirming, 3 not "
                         "affirming, 1 error). The daemon is `bulwark-agent run`.");
  cmd->add_flag("--once", flags->once, "One cycle, then exit")->required();
  cmd->add_flag("--json", flags->json, "Print the result summary as JSON");
  addSettingsFlags(cmd, flags->overrides);
  cmd->callback([&globals, &exit_code, flags] { exit_code = runAttest(globals, *flags); });
}

const RegisterCommand kRegisterAttest{registerAttest};

}  // namespace
}  // namespace bulwark::agent
