// Retry delays after verifier errors: exponential from `base`, capped at `max`,
// with "equal jitter" (half fixed, half random) so a fleet that lost its
// verifier at the same moment does not come back in lockstep. Pure: the random
// source is injected.
#pragma once

#include <chrono>
#include <functional>

namespace bulwark::agent {

class Backoff {
 public:
  // `uniform` returns values in [0, 1).
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
          std::function<double()> uniform);

  // The delay before the next attempt after one more failure.
  std::chrono::milliseconds next();
  // After a success: the next failure starts from `base` again.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::function<double()> uniform_;
  int failures_ = 0;
};

}  // namespace bulwark::agent
