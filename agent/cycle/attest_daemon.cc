#include "agent/cycle/attest_daemon.h"

#include "agent/transport/verifier_error.h"

namespace bulwark::agent {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string seconds(milliseconds d) {
  return std::to_string(d.count() / 1000) + "." + std::to_string((d.count() % 1000) / 100) + "s";
}
}  // namespace

AttestDaemon::AttestDaemon(DaemonOptions options, CycleFn cycle, Notifier& notifier, LogFn log,
                           std::function<double()> uniform)
    : options_(options),
      cycle_(std::move(cycle)),
      notifier_(notifier),
      log_(std::move(log)),
      backoff_(options.backoff_base, options.max_backoff, std::move(uniform)) {}

void AttestDaemon::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

void AttestDaemon::requestAttestation(std::string_view reason) {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
    trigger_reason_ = std::string(reason);
  }
  cv_.notify_all();
}

void AttestDaemon::waitUntil(Clock::time_point deadline, bool allow_trigger) {
  auto ping = notifier_.watchdogInterval() / 2;
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopped_) return;
    if (allow_trigger && triggered_) {
      log_("info", "change detected (" + trigger_reason_ + "): attesting now");
      break;
    }
    Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    Clock::time_point wake = deadline;
    if (ping.count() > 0) wake = std::min(wake, now + ping);
    cv_.wait_until(lock, wake);
    if (ping.count() > 0) {
      // sd_notify may block (a full notify socket); never while holding the lock
      // that stop() and requestAttestation() need.
      lock.unlock();
      notifier_.watchdog();
      lock.lock();
    }
  }
  // This cycle covers every change seen so far.
  triggered_ = false;
}

milliseconds AttestDaemon::afterCycle(const Result<CycleOutcome>& outcome) {
  if (!outcome) {
    milliseconds delay = backoff_.next();
    std::string what = isNonceError(outcome.error()) || verifierErrorCode(outcome.error())
                           ? "verifier refused the evidence: "
                           : "attestation failed: ";
    if (outcome.error().code() == ErrorCode::kUnavailable) what = "verifier unreachable: ";
    log_(failing_ ? "warning" : "error", what + outcome.error().toString() + " (retry " +
                                             std::to_string(backoff_.failures()) + " in " +
                                             seconds(delay) + ")");
    notifier_.status("attestation failing: " + outcome.error().toString());
    failing_ = true;
    return delay;
  }
  if (failing_) log_("info", "verifier reachable again");
  failing_ = false;
  backoff_.reset();
  std::string status = statusName(outcome->result.status());
  for (const std::string& note : outcome->notes) log_("warning", note);
  if (status != last_status_ || !outcome->affirming) {
    std::string line = "verdict " + status;
    for (const auto& r : outcome->result.reasons()) line += "; " + r.code() + ": " + r.detail();
    log_(outcome->affirming ? "info" : "warning", line);
  }
  last_status_ = status;
  // Whether logs travel from the verifier's copies (docs/api.md "Incremental logs") is a
  // state too: one line when it starts and when the agent falls back to whole logs.
  bool incremental = outcome->incremental_logs > 0;
  if (incremental != incremental_) {
    log_("info", incremental
                     ? "sending logs incrementally (" + std::to_string(outcome->incremental_logs) +
                           " from the verifier's copy)"
                     : "sending whole logs");
    incremental_ = incremental;
  }
  notifier_.status("last verdict: " + status);
  return options_.interval;
}

int AttestDaemon::run() {
  int cycles = 0;
  bool announced = false;
  log_("info", "attesting every " + seconds(options_.interval));
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopped_) break;
    }
    Result<CycleOutcome> outcome = cycle_();
    ++cycles;
    milliseconds delay = afterCycle(outcome);
    if (!announced) {
      notifier_.ready();  // up and looping, whatever the first verdict
      announced = true;
    }
    notifier_.watchdog();
    waitUntil(Clock::now() + delay, /*allow_trigger=*/!failing_);
  }
  notifier_.stopping();
  log_("info", "stopping after " + std::to_string(cycles) + " cycle(s)");
  return cycles;
}

}  // namespace bulwark::agent
