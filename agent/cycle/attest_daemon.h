// `bulwark-agent run`: attestation cycles every `interval`, at once when
// something measured changed (AttestTrigger, called by the measurement engine),
// with jittered exponential backoff while the verifier fails, until stop()
// (SIGTERM). Tells the service manager READY after the first cycle attempt and
// pings its watchdog while the loop lives (notifier.h). Every state change is
// one log line: attesting, verdict, verifier unreachable, reachable again, logs
// sent incrementally / whole again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "agent/cycle/attestation_cycle.h"
#include "agent/cycle/backoff.h"
#include "agent/cycle/notifier.h"

namespace bulwark::agent {

// What the measurement engine calls when a measured file or container changed.
// Thread-safe; requests made while a cycle runs coalesce into one more cycle.
class AttestTrigger {
 public:
  virtual ~AttestTrigger() = default;
  virtual void requestAttestation(std::string_view reason) = 0;
};

struct DaemonOptions {
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds max_backoff{300000};
};

class AttestDaemon final : public AttestTrigger {
 public:
  using CycleFn = std::function<Result<CycleOutcome>()>;
  // level: "info" | "warning" | "error".
  using LogFn = std::function<void(std::string_view level, std::string_view line)>;

  AttestDaemon(DaemonOptions options, CycleFn cycle, Notifier& notifier, LogFn log,
               std::function<double()> uniform);

  // Runs until stop(); returns the number of cycles run.
  int run();
  // Thread-safe; run() returns after the cycle in progress, if any.
  void stop();
  void requestAttestation(std::string_view reason) override;

 private:
  // Sleeps until `deadline`, stop(), or a trigger when `allow_trigger`; keeps
  // the watchdog fed meanwhile.
  void waitUntil(std::chrono::steady_clock::time_point deadline, bool allow_trigger);
  // Logs and returns the delay before the next cycle.
  std::chrono::milliseconds afterCycle(const Result<CycleOutcome>& outcome);

  DaemonOptions options_;
  CycleFn cycle_;
  Notifier& notifier_;
  LogFn log_;
  Backoff backoff_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  bool triggered_ = false;
  std::string trigger_reason_;
  bool failing_ = false;
  std::string last_status_;
  bool incremental_ = false;  // the last report carried a log from a cursor
};

}  // namespace bulwark::agent
