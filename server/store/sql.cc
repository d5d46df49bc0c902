#include "server/store/sql.h"

#include <chrono>

namespace bulwark::server {

bool SqlRow::isNull(std::size_t i) const {
  return i >= values_.size() || std::holds_alternative<std::monostate>(values_[i]);
}

std::int64_t SqlRow::integer(std::size_t i) const {
  if (i >= values_.size()) return 0;
  const auto* v = std::get_if<std::int64_t>(&values_[i]);
  return v != nullptr ? *v : 0;
}

std::optional<std::int64_t> SqlRow::optInteger(std::size_t i) const {
  if (i >= values_.size()) return std::nullopt;
  const auto* v = std::get_if<std::int64_t>(&values_[i]);
  return v != nullptr ? std::optional<std::int64_t>(*v) : std::nullopt;
}

std::string SqlRow::text(std::size_t i) const {
  if (i >= values_.size()) return {};
  const auto* v = std::get_if<std::string>(&values_[i]);
  return v != nullptr ? *v : std::string();
}

Bytes SqlRow::blob(std::size_t i) const {
  if (i >= values_.size()) return {};
  const auto* v = std::get_if<Bytes>(&values_[i]);
  return v != nullptr ? *v : Bytes();
}

ConnectionPool::ConnectionPool(ConnectionFactory factory, std::size_t max_size, int wait_timeout_ms)
    : factory_(std::move(factory)),
      max_size_(max_size == 0 ? 1 : max_size),
      wait_timeout_ms_(wait_timeout_ms) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->release(std::move(conn_));
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  std::unique_lock lock(mutex_);
  auto ready = [this] { return !idle_.empty() || open_ < max_size_; };
  if (!available_.wait_for(lock, std::chrono::milliseconds(wait_timeout_ms_), ready)) {
    return fail(ErrorCode::kUnavailable,
                "all " + std::to_string(max_size_) + " database connections busy", "store");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;  // reserve the slot, then connect without holding the lock
  lock.unlock();
  auto conn = factory_();
  if (!conn) {
    lock.lock();
    --open_;
    available_.notify_one();
    return std::unexpected(conn.error());
  }
  return Lease(this, std::move(*conn));
}

void ConnectionPool::release(std::unique_ptr<SqlConnection> conn) {
  bool keep = conn->healthy();
  if (!keep) conn.reset();  // close outside the lock
  std::lock_guard lock(mutex_);
  if (keep) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  available_.notify_one();
}

}  // namespace bulwark::server
