#include "server/sched/verdict_cache.h"

#include <sys/resource.h>
#include <unistd.h>

namespace bulwark::server::sched {

namespace {
constexpr int kRefresherNice = 10;
}  // namespace

VerdictCache::VerdictCache(Loader loader, Clock now, VerdictCacheOptions options)
    : loader_(std::move(loader)), now_(std::move(now)), options_(options) {}

VerdictCache::~VerdictCache() {
  if (thread_.joinable()) {
    thread_.request_stop();
    kick_cv_.notify_all();
    thread_.join();
  }
}

bool VerdictCache::young(const VerdictSnapshot& s, Millis now, Millis limit) const {
  // A clock that went backwards makes every snapshot suspect: reload.
  return now >= s.loadedAt() && now - s.loadedAt() <= limit;
}

Result<std::shared_ptr<const VerdictSnapshot>> VerdictCache::loadLocked() {
  std::shared_ptr<const VerdictSnapshot> previous = snapshot_.load();
  Millis started = now_();  // the snapshot is at least as new as this
  Result<std::vector<FleetEntry>> fleet;
  try {
    fleet = loader_();
  } catch (const std::exception& e) {  // bad_alloc from a huge fleet: a failed load
    return fail(ErrorCode::kInternal, std::string("verdict snapshot: ") + e.what());
  }
  if (!fleet) return std::unexpected(fleet.error());
  auto snap = VerdictSnapshot::build(*fleet, started, previous.get());
  snapshot_.store(snap);
  loads_.fetch_add(1);
  return snap;
}

Result<std::shared_ptr<const VerdictSnapshot>> VerdictCache::loadOrBackOff() {
  Millis now = now_();
  if (failure_ && now >= failure_->first && now - failure_->first < options_.refresh_after) {
    return std::unexpected(failure_->second);
  }
  auto r = loadLocked();
  if (r) {
    failure_.reset();
  } else {
    failure_.emplace(now, r.error());
  }
  return r;
}

Result<std::shared_ptr<const VerdictSnapshot>> VerdictCache::reload() {
  std::lock_guard lock(load_mu_);
  return loadLocked();
}

Result<std::shared_ptr<const VerdictSnapshot>> VerdictCache::current() {
  Millis now = now_();
  std::shared_ptr<const VerdictSnapshot> snap = snapshot_.load();
  if (snap && young(*snap, now, options_.refresh_after)) return snap;
  if (snap && options_.background && young(*snap, now, options_.max_age)) {
    kick();
    return snap;
  }
  std::lock_guard lock(load_mu_);
  // Another request may have loaded while we waited for the lock.
  snap = snapshot_.load();
  if (snap && young(*snap, now_(), options_.refresh_after)) return snap;
  return loadOrBackOff();
}

void VerdictCache::kick() {
  std::lock_guard lock(kick_mu_);
  kicked_ = true;
  if (!thread_.joinable()) {
    thread_ = std::jthread([this](std::stop_token stop) { refresher(stop); });
  }
  kick_cv_.notify_one();
}

void VerdictCache::refresher(std::stop_token stop) {
  // Reloading is maintenance: on a busy verifier the request threads go first (Linux
  // threads have their own nice value). Starving it is harmless: past max_age the
  // requests reload inline. Best effort; an error leaves the default priority.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kRefresherNice);
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(kick_mu_);
      if (!kick_cv_.wait(lock, stop, [this] { return kicked_; })) return;
      kicked_ = false;
    }
    std::lock_guard lock(load_mu_);
    auto snap = snapshot_.load();
    if (snap && young(*snap, now_(), options_.refresh_after)) continue;
    // A failed load keeps the old snapshot; current() stops serving it at max_age.
    (void)loadOrBackOff();
  }
}

}  // namespace bulwark::server::sched
