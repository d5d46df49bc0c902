// The daemon loop with a scripted cycle and a recording notifier: timer,
// triggers (coalesced, ignored while backing off), backoff growth and reset,
// READY once, watchdog pings, prompt stop. Real time, short intervals.
#include "agent/cycle/attest_daemon.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

namespace bulwark::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class RecordingNotifier final : public Notifier {
 public:
  std::atomic<int> ready_calls{0}, watchdog_calls{0}, stopping_calls{0};
  std::chrono::microseconds interval{0};
  void ready() override { ++ready_calls; }
  void watchdog() override { ++watchdog_calls; }
  void status(std::string_view) override {}
  void stopping() override { ++stopping_calls; }
  std::chrono::microseconds watchdogInterval() const override { return interval; }
};

// Cycle results from a script (then affirming), with call times.
class ScriptedCycle {
 public:
  std::deque<bool> fail_script;        // true = this cycle fails (verifier unreachable)
  std::deque<int> incremental_script;  // CycleOutcome.incremental_logs per success
  int incremental = 0;                 // the last one stays
  std::vector<Clock::time_point> calls;
  std::mutex mu;
  std::atomic<int> busy_ms{0};  // how long each cycle takes
  Result<CycleOutcome> operator()() {
    {
      std::lock_guard lock(mu);
      calls.push_back(Clock::now());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(busy_ms.load()));
    std::lock_guard lock(mu);
    bool fail_now = !fail_script.empty() && fail_script.front();
    if (!fail_script.empty()) fail_script.pop_front();
    if (fail_now) return fail(ErrorCode::kUnavailable, "connection refused", "connect");
    CycleOutcome o;
    if (!incremental_script.empty()) {
      incremental = incremental_script.front();
      incremental_script.pop_front();
    }
    o.incremental_logs = incremental;
    o.affirming = true;
    o.result.set_status(bulwark::v1::STATUS_AFFIRMING);
    return o;
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return calls.size();
  }
};

struct Harness {
  ScriptedCycle cycle;
  RecordingNotifier notifier;
  std::vector<std::string> logs;
  std::mutex log_mu;
  std::unique_ptr<AttestDaemon> daemon;
  std::thread thread;
  std::atomic<int> cycles_run{-1};

  void start(DaemonOptions options) {
    daemon = std::make_unique<AttestDaemon>(
        options, [this] { return cycle(); }, notifier,
        [this](std::string_view, std::string_view line) {
          std::lock_guard lock(log_mu);
          logs.emplace_back(line);
        },
        [] { return 0.0; });  // jitter at its minimum: half the ceiling
    thread = std::thread([this] { cycles_run = daemon->run(); });
  }
  bool waitFor(std::size_t cycles, std::chrono::milliseconds within) {
    auto end = Clock::now() + within;
    while (Clock::now() < end) {
      if (cycle.count() >= cycles) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  bool logged(std::string_view text) {
    std::lock_guard lock(log_mu);
    for (const auto& l : logs) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::vector<std::string> linesWith(std::string_view text) {
    std::lock_guard lock(log_mu);
    std::vector<std::string> out;
    for (const auto& l : logs) {
      if (l.find(text) != std::string::npos) out.push_back(l);
    }
    return out;
  }
  ~Harness() {
    if (daemon) daemon->stop();
    if (thread.joinable()) thread.join();
  }
};

TEST(AttestDaemon, RunsOnTheTimerAndStopsPromptly) {
  Harness h;
  h.start({.interval = 50ms});
  ASSERT_TRUE(h.waitFor(3, 2s));
  auto stop_at = Clock::now();
  h.daemon->stop();
  h.thread.join();
  EXPECT_LT(Clock::now() - stop_at, 500ms);
  EXPECT_GE(h.cycles_run.load(), 3);
  EXPECT_EQ(h.notifier.ready_calls.load(), 1);
  EXPECT_EQ(h.notifier.stopping_calls.load(), 1);
  EXPECT_GE(h.notifier.watchdog_calls.load(), 3);
  std::lock_guard lock(h.cycle.mu);
  for (std::size_t i = 1; i < h.cycle.calls.size(); ++i) {
    EXPECT_GE(h.cycle.calls[i] - h.cycle.calls[i - 1], 45ms);
  }
}

TEST(AttestDaemon, ATriggerAttestsAtOnceAndTriggersCoalesce) {
  Harness h;
  h.start({.interval = 60s});
  ASSERT_TRUE(h.waitFor(1, 2s));
  h.cycle.busy_ms = 300;  // from now on a cycle takes a while
  auto before = Clock::now();
  h.daemon->requestAttestation("/usr/bin/runc changed");
  ASSERT_TRUE(h.waitFor(2, 2s)) << "a trigger must not wait for the 60 s timer";
  EXPECT_LT(Clock::now() - before, 1s);
  // Five changes while cycle 2 runs: one more cycle covers them all.
  for (int i = 0; i < 5; ++i) h.daemon->requestAttestation("/etc/os-release changed");
  ASSERT_TRUE(h.waitFor(3, 2s));
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(h.cycle.count(), 3u) << "triggers during a cycle coalesce into one more cycle";
  EXPECT_TRUE(h.logged("runc changed"));
}

TEST(AttestDaemon, BacksOffWhileFailingAndRecovers) {
  Harness h;
  h.cycle.fail_script = {true, true, true, false};
  // base 40 ms, jitter 0 → waits of 20, 40, 80 ms (half the doubling ceiling).
  h.start({.interval = 60s, .backoff_base = 40ms, .max_backoff = 1s});
  ASSERT_TRUE(h.waitFor(4, 3s));
  {
    std::lock_guard lock(h.cycle.mu);
    auto gap = [&](int i) { return h.cycle.calls[i] - h.cycle.calls[i - 1]; };
    EXPECT_GE(gap(1), 18ms);
    EXPECT_GE(gap(2), 38ms);
    EXPECT_GE(gap(3), 78ms);
    EXPECT_LT(gap(3), 1s);
  }
  EXPECT_TRUE(h.logged("verifier unreachable"));
  EXPECT_TRUE(h.logged("verifier reachable again"));
  EXPECT_EQ(h.notifier.ready_calls.load(), 1) << "READY after the first attempt, even a failed one";
}

// Incremental vs whole logs is a state: one line when it changes, none while it holds.
TEST(AttestDaemon, SaysWhenLogsStartAndStopTravellingIncrementally) {
  Harness h;
  h.cycle.incremental_script = {0, 1, 1, 1, 0, 0, 1};
  h.start({.interval = 5ms, .backoff_base = 5ms, .max_backoff = 10ms});
  ASSERT_TRUE(h.waitFor(8, 3s));
  h.daemon->stop();
  h.thread.join();
  std::vector<std::string> changes = h.linesWith("sending ");
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0], "sending logs incrementally (1 from the verifier's copy)");
  EXPECT_EQ(changes[1], "sending whole logs");
  EXPECT_EQ(changes[2], changes[0]);
}

TEST(AttestDaemon, TriggersWaitForTheBackoffWhileTheVerifierFails) {
  Harness h;
  h.cycle.fail_script = {true};
  h.start({.interval = 60s, .backoff_base = 600ms, .max_backoff = 1s});
  ASSERT_TRUE(h.waitFor(1, 2s));
  h.daemon->requestAttestation("file changed");
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(h.cycle.count(), 1u) << "a failing verifier is not hammered by triggers";
  ASSERT_TRUE(h.waitFor(2, 2s)) << "the backoff expires (300..600 ms) and the cycle runs";
}

TEST(AttestDaemon, FeedsTheWatchdogWhileWaiting) {
  Harness h;
  h.notifier.interval = 40ms;  // ping every 20 ms
  h.start({.interval = 60s});
  ASSERT_TRUE(h.waitFor(1, 2s));
  std::this_thread::sleep_for(300ms);
  EXPECT_GE(h.notifier.watchdog_calls.load(), 8);
  EXPECT_EQ(h.cycle.count(), 1u);
}

// sd_notify blocks when the notify socket is full; stop() and triggers must not
// wait for it (they share the daemon's lock).
class BlockingNotifier final : public Notifier {
 public:
  std::atomic<bool> release{false};
  std::atomic<int> blocked{0};
  void ready() override {}
  // The first ping follows the cycle; the next ones come from the wait loop,
  // which is where the lock is.
  void watchdog() override {
    if (++calls == 1) return;
    ++blocked;
    while (!release) std::this_thread::sleep_for(1ms);
  }
  std::atomic<int> calls{0};
  void status(std::string_view) override {}
  void stopping() override {}
  std::chrono::microseconds watchdogInterval() const override { return 20ms; }
};

TEST(AttestDaemon, ABlockedWatchdogDoesNotBlockStopOrTriggers) {
  ScriptedCycle cycle;
  BlockingNotifier notifier;
  notifier.release = false;
  AttestDaemon daemon(
      {.interval = 60s}, [&] { return cycle(); }, notifier,
      [](std::string_view, std::string_view) {}, [] { return 0.0; });
  std::thread runner([&] { daemon.run(); });
  auto until = Clock::now() + 2s;
  while (notifier.blocked == 0 && Clock::now() < until) std::this_thread::sleep_for(1ms);
  ASSERT_GT(notifier.blocked.load(), 0);
  std::atomic<bool> returned{false};
  std::thread stopper([&] {
    daemon.requestAttestation("x");
    daemon.stop();
    returned = true;
  });
  until = Clock::now() + 500ms;
  while (!returned && Clock::now() < until) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(returned) << "stop()/requestAttestation() waited for a blocked sd_notify";
  notifier.release = true;
  stopper.join();
  runner.join();
}

TEST(Backoff, DoublesCapsJittersAndResets) {
  double u = 0.0;
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), [&] { return u; });
  EXPECT_EQ(b.next(), 50ms);   // ceiling 100
  EXPECT_EQ(b.next(), 100ms);  // 200
  EXPECT_EQ(b.next(), 200ms);  // 400
  EXPECT_EQ(b.next(), 400ms);  // 800
  EXPECT_EQ(b.next(), 500ms);  // capped at 1000
  u = 0.999;
  EXPECT_EQ(b.next(), 999ms);
  EXPECT_EQ(b.failures(), 6);
  b.reset();
  u = 0.5;
  EXPECT_EQ(b.next(), 75ms);
  for (int i = 0; i < 100; ++i) EXPECT_LE(b.next(), 1000ms) << "no overflow after many failures";
}

}  // namespace
}  // namespace bulwark::agent
