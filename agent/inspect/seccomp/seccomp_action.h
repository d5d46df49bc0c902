// Seccomp filter return values (linux/seccomp.h): decoding, libseccomp-style
// names, and the kernel's rule for combining the results of a filter chain.
#pragma once

#include <cstdint>
#include <string>

namespace bulwark::agent {

enum class SeccompActionKind {
  kKillProcess,
  kKillThread,
  kTrap,
  kErrno,
  kUserNotif,
  kTrace,
  kLog,
  kAllow,
  kUnknown,  // an action value the kernel does not define: it kills (see permits())
};

// What the kernel does with the syscall, for findings.
enum class SeccompDisposition {
  kDenied,     // never executed: killed, trapped or failed with an errno
  kDelegated,  // a tracer (TRACE) or a user-space supervisor (USER_NOTIF) decides
  kPermitted,  // executed (ALLOW, LOG)
};

// One 32-bit filter return value: SECCOMP_RET_ACTION_FULL in the top 16 bits,
// SECCOMP_RET_DATA in the low 16.
class SeccompAction {
 public:
  constexpr explicit SeccompAction(std::uint32_t raw) : raw_(raw) {}
  static SeccompAction allow();

  std::uint32_t raw() const { return raw_; }
  SeccompActionKind kind() const;
  std::uint16_t data() const { return static_cast<std::uint16_t>(raw_ & 0xffffu); }
  SeccompDisposition disposition() const;

  // libseccomp spelling: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(1), SCMP_ACT_TRACE(7),
  // SCMP_ACT_KILL_PROCESS, SCMP_ACT_NOTIFY, ... ERRNO shows the errno the kernel
  // actually returns (data capped at MAX_ERRNO 4095, kernel/seccomp.c).
  std::string name() const;

  // The kernel's ordering, ACTION_ONLY() in kernel/seccomp.c: the action bits
  // as a signed 32-bit value; lower is more restrictive (KILL_PROCESS <
  // KILL_THREAD < TRAP < ERRNO < USER_NOTIF < TRACE < LOG < ALLOW).
  std::int32_t precedence() const;

  friend bool operator==(SeccompAction, SeccompAction) = default;

 private:
  std::uint32_t raw_;
};

// seccomp_run_filters(): start from SECCOMP_RET_ALLOW and walk the chain from
// the most recently installed filter to the oldest, replacing the result only
// when a filter returns a strictly more restrictive action. So among equally
// restrictive results the newest filter's full value (its errno) wins.
// Call with `so_far` = allow() and then once per filter, newest first.
SeccompAction combineNewestFirst(SeccompAction so_far, SeccompAction next);

}  // namespace bulwark::agent
