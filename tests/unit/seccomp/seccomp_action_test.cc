#include "agent/inspect/seccomp/seccomp_action.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>

#include <string>

namespace bulwark::agent {
namespace {

struct Named {
  std::uint32_t raw;
  const char* name;
  SeccompActionKind kind;
  SeccompDisposition disposition;
};

class ActionNames : public ::testing::TestWithParam<Named> {};

TEST_P(ActionNames, MatchLibseccompSpelling) {
  const SeccompAction a(GetParam().raw);
  EXPECT_EQ(a.name(), GetParam().name);
  EXPECT_EQ(a.kind(), GetParam().kind);
  EXPECT_EQ(a.disposition(), GetParam().disposition);
}

INSTANTIATE_TEST_SUITE_P(
    All, ActionNames,
    ::testing::Values(Named{SECCOMP_RET_ALLOW, "SCMP_ACT_ALLOW", SeccompActionKind::kAllow,
                            SeccompDisposition::kPermitted},
                      Named{SECCOMP_RET_LOG, "SCMP_ACT_LOG", SeccompActionKind::kLog,
                            SeccompDisposition::kPermitted},
                      Named{SECCOMP_RET_TRACE | 7, "SCMP_ACT_TRACE(7)", SeccompActionKind::kTrace,
                            SeccompDisposition::kDelegated},
                      Named{SECCOMP_RET_USER_NOTIF, "SCMP_ACT_NOTIFY",
                            SeccompActionKind::kUserNotif, SeccompDisposition::kDelegated},
                      Named{SECCOMP_RET_ERRNO | 1, "SCMP_ACT_ERRNO(1)", SeccompActionKind::kErrno,
                            SeccompDisposition::kDenied},
                      Named{SECCOMP_RET_ERRNO | 38, "SCMP_ACT_ERRNO(38)", SeccompActionKind::kErrno,
                            SeccompDisposition::kDenied},
                      // The kernel caps the errno at MAX_ERRNO.
                      Named{SECCOMP_RET_ERRNO | 0xffff, "SCMP_ACT_ERRNO(4095)",
                            SeccompActionKind::kErrno, SeccompDisposition::kDenied},
                      Named{SECCOMP_RET_TRAP, "SCMP_ACT_TRAP", SeccompActionKind::kTrap,
                            SeccompDisposition::kDenied},
                      Named{SECCOMP_RET_KILL_THREAD, "SCMP_ACT_KILL_THREAD",
                            SeccompActionKind::kKillThread, SeccompDisposition::kDenied},
                      Named{SECCOMP_RET_KILL_PROCESS, "SCMP_ACT_KILL_PROCESS",
                            SeccompActionKind::kKillProcess, SeccompDisposition::kDenied},
                      Named{0x00010000, "SCMP_ACT_KILL_PROCESS(unknown action 0x00010000)",
                            SeccompActionKind::kUnknown, SeccompDisposition::kDenied}));

TEST(SeccompAction, PrecedenceOrderIsTheKernels) {
  const std::uint32_t order[] = {
      SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO,
      SECCOMP_RET_USER_NOTIF,   SECCOMP_RET_TRACE,       SECCOMP_RET_LOG,  SECCOMP_RET_ALLOW};
  for (std::size_t i = 0; i + 1 < std::size(order); ++i) {
    EXPECT_LT(SeccompAction(order[i]).precedence(), SeccompAction(order[i + 1]).precedence()) << i;
  }
  // Data bits do not take part in precedence.
  EXPECT_EQ(SeccompAction(SECCOMP_RET_ERRNO | 1).precedence(),
            SeccompAction(SECCOMP_RET_ERRNO | 999).precedence());
}

TEST(SeccompAction, CombineKeepsEarlierOnTies) {
  const SeccompAction newer(SECCOMP_RET_ERRNO | 5);
  const SeccompAction older(SECCOMP_RET_ERRNO | 6);
  EXPECT_EQ(combineNewestFirst(combineNewestFirst(SeccompAction::allow(), newer), older), newer);
  EXPECT_EQ(combineNewestFirst(newer, SeccompAction(SECCOMP_RET_TRAP)).raw(), SECCOMP_RET_TRAP);
}

}  // namespace
}  // namespace bulwark::agent
