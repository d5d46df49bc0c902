#include "agent/cycle/backoff.h"

#include <algorithm>

namespace bulwark::agent {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
                 std::function<double()> uniform)
    : base_(std::max(base, std::chrono::milliseconds(1))),
      max_(std::max(max, base_)),
      uniform_(std::move(uniform)) {}

std::chrono::milliseconds Backoff::next() {
  // base * 2^failures without overflow: stop doubling once past max.
  std::chrono::milliseconds ceiling = base_;
  for (int i = 0; i < failures_ && ceiling < max_; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max_);
  ++failures_;
  double u = std::clamp(uniform_(), 0.0, 1.0);
  auto half = ceiling.count() / 2;
  return std::chrono::milliseconds(
      half + static_cast<std::int64_t>(u * static_cast<double>(ceiling.count() - half)));
}

}  // namespace bulwark::agent
