// bulwark-agent run — the attestation daemon (docs/agent.md "Daemon"): a cycle
// every verifier.interval and on change triggers, backoff while the verifier
// fails, sd_notify READY/WATCHDOG/STOPPING, clean exit on SIGTERM/SIGINT.
// Wiring only: agent/cycle/attest_daemon.h has the loop.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>

#include "agent/command.h"
#include "agent/cycle/agent_wiring.h"
#include "agent/cycle/attest_daemon.h"
#include "agent/cycle/cycle_stack.h"
#include "agent/cycle/settings_flags.h"

namespace bulwark::agent {
namespace {

struct RunFlags {
  SettingsOverrides overrides;
  int interval_seconds = 0;
};

// journald reads "<N>" priority prefixes on stderr (sd-daemon(3)); plain
// timestamps otherwise.
void logLine(std::string_view level, std::string_view text) {
  bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  std::string prefix = level == "error" ? "<3>" : level == "warning" ? "<4>" : "<6>";
  if (journal) {
    std::fprintf(stderr, "%s%.*s\n", prefix.c_str(), static_cast<int>(text.size()), text.data());
  } else {
    std::fprintf(stderr, "%s %.*s: %.*s\n", formatUnixMs(nowUnixMs()).c_str(),
                 static_cast<int>(level.size()), level.data(), static_cast<int>(text.size()),
                 text.data());
  }
  std::fflush(stderr);
}

sigset_t terminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// SIGTERM/SIGINT are blocked in every thread — so first, before any thread
// (hash pool, change watcher) exists — and taken by one sigwait()ing thread,
// which stops the daemon; no work happens in a signal handler.
void blockTerminationSignals() {
  sigset_t set = terminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class SignalThread {
 public:
  explicit SignalThread(AttestDaemon& daemon) : set_(terminationSignals()) {
    blockTerminationSignals();
    thread_ = std::thread([this, &daemon] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (!done_) logLine("info", sig == SIGTERM ? "SIGTERM received" : "SIGINT received");
      daemon.stop();
    });
  }
  ~SignalThread() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);  // wakes sigwait if still waiting
    thread_.join();
  }

 private:
  sigset_t set_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int failWith(const Error& error) {
  logLine("error", error.toString());
  return kExitError;
}

int runDaemon(const GlobalOptions& globals, const RunFlags& flags) {
  blockTerminationSignals();
  auto settings =
      resolveSettings(globals.config_path, globals.config_option->count() > 0, flags.overrides);
  if (!settings) return failWith(settings.error());
  if (flags.interval_seconds > 0) settings->interval = std::chrono::seconds(flags.interval_seconds);
  StateStore store(settings->state_dir);
  auto stack = buildCycleStack(*settings, store);
  if (!stack) return failWith(stack.error());
  for (const auto& note : (*stack)->notes) logLine("warning", note);
  CycleStack& s = **stack;
  SdNotifier notifier;
  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  AttestDaemon daemon(
      {.interval = settings->interval, .max_backoff = settings->max_backoff},
      [&] {
        auto outcome = s.cycle->runOnce();
        if (outcome) (void)markApproved(store);
        return outcome;
      },
      notifier, logLine, [&] { return uniform(rng); });
  SignalThread signals(daemon);
  // Measured files and container state changes attest at once (DESIGN §3 step 5).
  auto watching = s.measure->engine->startWatching(
      [&daemon](std::string_view reason) { daemon.requestAttestation(reason); });
  if (!watching) logLine("warning", "no change triggers: " + watching.error().toString());
  logLine("info", "node '" + s.node + "' attesting to " + settings->verifier_url);
  daemon.run();
  s.measure->engine->stopWatching();
  return kExitOk;
}

void registerRun(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Attestation daemon: attest every verifier.interval and when measurements change, "
      "back off while the verifier fails, exit cleanly on SIGTERM");
  cmd->add_option("--interval", flags->interval_seconds,
                  "Seconds between cycles (overrides config)")
      ->check(CLI::Range(1, 86400));
  addSettingsFlags(cmd, flags->overrides, /*with_node=*/false);
  cmd->callback([&globals, &exit_code, flags] { exit_code = runDaemon(globals, *flags); });
}

const RegisterCommand kRegisterRun{registerRun};

}  // namespace
}  // namespace bulwark::agent
