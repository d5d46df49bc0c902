#include "agent/inspect/seccomp/seccomp_action.h"

#include <linux/seccomp.h>

#include <algorithm>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {
constexpr std::uint32_t kMaxErrno = 4095;  // MAX_ERRNO, include/linux/err.h
}

SeccompAction SeccompAction::allow() { return SeccompAction(SECCOMP_RET_ALLOW); }

SeccompActionKind SeccompAction::kind() const {
  switch (raw_ & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS:
      return SeccompActionKind::kKillProcess;
    case SECCOMP_RET_KILL_THREAD:
      return SeccompActionKind::kKillThread;
    case SECCOMP_RET_TRAP:
      return SeccompActionKind::kTrap;
    case SECCOMP_RET_ERRNO:
      return SeccompActionKind::kErrno;
    case SECCOMP_RET_USER_NOTIF:
      return SeccompActionKind::kUserNotif;
    case SECCOMP_RET_TRACE:
      return SeccompActionKind::kTrace;
    case SECCOMP_RET_LOG:
      return SeccompActionKind::kLog;
    case SECCOMP_RET_ALLOW:
      return SeccompActionKind::kAllow;
    default:
      return SeccompActionKind::kUnknown;
  }
}

SeccompDisposition SeccompAction::disposition() const {
  switch (kind()) {
    case SeccompActionKind::kAllow:
    case SeccompActionKind::kLog:
      return SeccompDisposition::kPermitted;
    case SeccompActionKind::kTrace:
    case SeccompActionKind::kUserNotif:
      return SeccompDisposition::kDelegated;
    default:
      // __seccomp_filter(): unknown actions fall into the kill case.
      return SeccompDisposition::kDenied;
  }
}

std::string SeccompAction::name() const {
  switch (kind()) {
    case SeccompActionKind::kKillProcess:
      return "SCMP_ACT_KILL_PROCESS";
    case SeccompActionKind::kKillThread:
      return "SCMP_ACT_KILL_THREAD";
    case SeccompActionKind::kTrap:
      return "SCMP_ACT_TRAP";
    case SeccompActionKind::kErrno:
      return strCat("SCMP_ACT_ERRNO(", std::min<std::uint32_t>(data(), kMaxErrno), ")");
    case SeccompActionKind::kUserNotif:
      return "SCMP_ACT_NOTIFY";
    case SeccompActionKind::kTrace:
      return strCat("SCMP_ACT_TRACE(", data(), ")");
    case SeccompActionKind::kLog:
      return "SCMP_ACT_LOG";
    case SeccompActionKind::kAllow:
      return "SCMP_ACT_ALLOW";
    case SeccompActionKind::kUnknown:
      break;
  }
  return strCat("SCMP_ACT_KILL_PROCESS(unknown action ", hexStr(raw_, 8), ")");
}

std::int32_t SeccompAction::precedence() const {
  return static_cast<std::int32_t>(raw_ & SECCOMP_RET_ACTION_FULL);
}

SeccompAction combineNewestFirst(SeccompAction so_far, SeccompAction next) {
  return next.precedence() < so_far.precedence() ? next : so_far;
}

}  // namespace bulwark::agent
