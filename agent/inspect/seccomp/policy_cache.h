// Memoised effective policies. Containers started from the same profile carry
// byte-identical filter chains, so a node with a hundred containers usually
// evaluates one or two distinct chains; the rest are lookups.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/effective_policy.h"

namespace bulwark::agent {

class EffectivePolicyCache {
 public:
  // `table` must outlive the cache. `arch_names` as computeEffectivePolicy().
  EffectivePolicyCache(const SyscallTable& table, std::vector<std::string> arch_names,
                       ExploreLimits limits = {}, std::size_t capacity = 32);

  // The chain's policy, evaluated on first use (errors are not cached).
  // Thread-safe; the returned policy is immutable and shared.
  [[nodiscard]] Result<std::shared_ptr<const EffectivePolicy>> get(
      std::span<const BpfProgram> chain);

  std::size_t hits() const;
  std::size_t misses() const;

  // SHA-256 over each filter's length and bytes, in installation order: the
  // chain's identity (also useful as evidence: which filter a container runs).
  static std::string chainId(std::span<const BpfProgram> chain);

 private:
  const SyscallTable& table_;
  std::vector<std::string> arch_names_;
  ExploreLimits limits_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // most recent first
  std::map<std::string, std::shared_ptr<const EffectivePolicy>> entries_;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

}  // namespace bulwark::agent
