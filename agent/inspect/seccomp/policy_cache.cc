#include "agent/inspect/seccomp/policy_cache.h"

#include <algorithm>

#include "attest/core/digest.h"

namespace bulwark::agent {

EffectivePolicyCache::EffectivePolicyCache(const SyscallTable& table,
                                           std::vector<std::string> arch_names,
                                           ExploreLimits limits, std::size_t capacity)
    : table_(table),
      arch_names_(std::move(arch_names)),
      limits_(limits),
      capacity_(std::max<std::size_t>(capacity, 1)) {}

std::string EffectivePolicyCache::chainId(std::span<const BpfProgram> chain) {
  Hasher h(HashAlg::kSha256);
  for (const BpfProgram& p : chain) {
    const Bytes bytes = p.toBytes();
    const std::uint32_t n = static_cast<std::uint32_t>(bytes.size());
    const std::uint8_t len[4] = {static_cast<std::uint8_t>(n >> 24),
                                 static_cast<std::uint8_t>(n >> 16),
                                 static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    h.update(ByteView(len, 4));
    h.update(bytes);
  }
  return toHex(h.finish());
}

Result<std::shared_ptr<const EffectivePolicy>> EffectivePolicyCache::get(
    std::span<const BpfProgram> chain) {
  const std::string id = chainId(chain);
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) {
      ++hits_;
      lru_.remove(id);
      lru_.push_front(id);
      return it->second;
    }
    ++misses_;
  }
  // Evaluate outside the lock; a concurrent miss on the same chain computes twice.
  auto policy = computeEffectivePolicy(chain, table_, arch_names_, limits_);
  if (!policy) return std::unexpected(policy.error());
  auto shared = std::make_shared<const EffectivePolicy>(std::move(*policy));
  std::lock_guard lock(mu_);
  if (entries_.emplace(id, shared).second) {
    lru_.push_front(id);
    if (lru_.size() > capacity_) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
  }
  return shared;
}

std::size_t EffectivePolicyCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

std::size_t EffectivePolicyCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace bulwark::agent
