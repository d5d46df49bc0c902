#include "agent/inspect/seccomp/policy_cache.h"

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <vector>

#include "agent/inspect/seccomp/libseccomp_syscall_table.h"

namespace bulwark::agent {
namespace {

BpfProgram returning(std::uint32_t v) {
  return *BpfProgram::fromInstructions({{BPF_RET | BPF_K, 0, 0, v}});
}

TEST(PolicyCache, IdenticalChainsEvaluateOnce) {
  static const LibseccompSyscallTable table;
  EffectivePolicyCache cache(table, {"x86_64"}, {}, 2);
  const std::vector<BpfProgram> allow{returning(SECCOMP_RET_ALLOW)};
  const std::vector<BpfProgram> deny{returning(SECCOMP_RET_ERRNO | 1)};
  auto a = cache.get(allow);
  auto b = cache.get(std::vector<BpfProgram>{returning(SECCOMP_RET_ALLOW)});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
  auto d = cache.get(deny);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)->find("x86_64")->default_action, "SCMP_ACT_ERRNO(1)");
  EXPECT_EQ((*a)->find("x86_64")->default_action, "SCMP_ACT_ALLOW");
  // Chains differ by order and by count, not only by bytes.
  const std::vector<BpfProgram> ad{allow[0], deny[0]};
  const std::vector<BpfProgram> da{deny[0], allow[0]};
  EXPECT_NE(EffectivePolicyCache::chainId(ad), EffectivePolicyCache::chainId(da));
  EXPECT_NE(EffectivePolicyCache::chainId(allow), EffectivePolicyCache::chainId(ad));
  EXPECT_EQ(EffectivePolicyCache::chainId(allow).size(), 64u);
  // Capacity 2: a third chain evicts the least recently used (allow).
  ASSERT_TRUE(cache.get(ad));
  ASSERT_TRUE(cache.get(allow));
  EXPECT_EQ(cache.misses(), 4u);
}

TEST(PolicyCache, ErrorsAreReturnedNotCached) {
  static const LibseccompSyscallTable table;
  EffectivePolicyCache cache(table, {"no-such-arch"});
  const std::vector<BpfProgram> allow{returning(SECCOMP_RET_ALLOW)};
  EXPECT_FALSE(cache.get(allow).has_value());
  EXPECT_FALSE(cache.get(allow).has_value());
  EXPECT_EQ(cache.misses(), 2u);
}

}  // namespace
}  // namespace bulwark::agent
