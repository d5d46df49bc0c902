// VerdictCache: the in-memory VerdictSnapshot relying-party handlers answer from, so a
// 5,000-node scheduler request never queries the store per node (docs/scheduling.md
// "Snapshot freshness").
//
// Bound: an answer is never based on a snapshot older than `max_age` (default 1 s) on the
// injected clock: older → the request reloads inline (single-flight: concurrent requests
// wait for the one load). A snapshot older than `refresh_after` (default 250 ms) is
// still served while a background thread reloads it, so under steady traffic a new
// verdict reaches the scheduler within refresh_after + one load. The background thread
// runs only when a request asked for a refresh (an idle verifier does not poll the store),
// at nice 10 so that on a busy host requests are served before reloads.
// Freshness of verdicts is never cached: decide() compares deadlines with the request
// time. When the store cannot be read past max_age, current() fails and callers refuse
// every node (fail closed); after a failed load the next attempt waits refresh_after (the
// failure is answered meanwhile), so a dead database is not hammered by every request.
//
// Thread-safe. The loader (Store::fleet) must stay valid until the cache is destroyed;
// the destructor stops and joins the background thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "attest/core/error.h"
#include "server/sched/verdict_snapshot.h"

namespace bulwark::server::sched {

struct VerdictCacheOptions {
  Millis refresh_after = 250;  // serve, but reload in the background, past this age
  Millis max_age = 1000;       // never serve past this age: reload inline
  bool background = true;      // false: reload inline past refresh_after (tests, tools)
};

class VerdictCache {
 public:
  using Loader = std::function<Result<std::vector<FleetEntry>>()>;
  using Clock = std::function<Millis()>;

  VerdictCache(Loader loader, Clock now, VerdictCacheOptions options = {});
  ~VerdictCache();
  VerdictCache(const VerdictCache&) = delete;
  VerdictCache& operator=(const VerdictCache&) = delete;

  // A snapshot no older than max_age at now(); the loader's error when none can be had.
  [[nodiscard]] Result<std::shared_ptr<const VerdictSnapshot>> current();

  // Loads now regardless of age (single-flight). For tests and after known changes.
  [[nodiscard]] Result<std::shared_ptr<const VerdictSnapshot>> reload();

  // Completed loads, for tests and metrics.
  std::uint64_t loads() const { return loads_.load(); }

 private:
  Result<std::shared_ptr<const VerdictSnapshot>> loadLocked();
  // loadLocked() unless the last load failed less than refresh_after ago. Holds load_mu_.
  Result<std::shared_ptr<const VerdictSnapshot>> loadOrBackOff();
  bool young(const VerdictSnapshot& s, Millis now, Millis limit) const;
  void kick();
  void refresher(std::stop_token stop);

  Loader loader_;
  Clock now_;
  VerdictCacheOptions options_;
  std::atomic<std::shared_ptr<const VerdictSnapshot>> snapshot_;
  std::atomic<std::uint64_t> loads_{0};
  std::mutex load_mu_;                               // single-flight loads
  std::optional<std::pair<Millis, Error>> failure_;  // last failed load; guarded by load_mu_
  std::mutex kick_mu_;
  std::condition_variable_any kick_cv_;
  bool kicked_ = false;  // guarded by kick_mu_
  std::jthread thread_;  // started by the first kick()
};

}  // namespace bulwark::server::sched
