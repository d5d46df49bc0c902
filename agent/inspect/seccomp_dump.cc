#include "agent/inspect/seccomp_dump.h"

#include <linux/filter.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

using Clock = std::chrono::steady_clock;

long ptraceCall(__ptrace_request request, pid_t pid, unsigned long addr, void* data) {
  return ptrace(request, pid, addr, data);
}

std::unexpected<Error> errnoError(int err, pid_t pid, const char* op) {
  const std::string ctx = strCat(op, " pid ", pid);
  if (err == ESRCH) return fail(ErrorCode::kNotFound, "process exited during inspection", ctx);
  if (err == EPERM || err == EACCES) {
    return fail(ErrorCode::kPermission,
                strCat(std::strerror(err),
                       " (needs CAP_SYS_ADMIN and CAP_SYS_PTRACE, and a caller "
                       "not itself confined by seccomp)"),
                ctx);
  }
  if (err == EINVAL) {
    return fail(ErrorCode::kUnsupported, "the process is not in seccomp filter mode", ctx);
  }
  if (err == EMEDIUMTYPE) {
    return fail(ErrorCode::kUnsupported, "the filter is not a classic BPF program", ctx);
  }
  return fail(ErrorCode::kIo, std::strerror(err), ctx);
}

// Waits for the tracee's ptrace stop. Returns the signal to re-inject on
// detach (0 for the PTRACE_INTERRUPT event stop), or an error when it exited.
Result<int> waitForStop(pid_t pid) {
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, __WALL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errnoError(errno, pid, "waitpid");
    break;
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    return fail(ErrorCode::kNotFound, "process exited during inspection", strCat("pid ", pid));
  }
  if (!WIFSTOPPED(status)) return fail(ErrorCode::kInternal, "unexpected wait status", "waitpid");
  const int event = status >> 16;
  // PTRACE_EVENT_STOP: our interrupt or a group stop; a plain stop is a
  // signal-delivery stop whose signal must be delivered on detach.
  if (event == PTRACE_EVENT_STOP) return 0;
  return event == 0 ? WSTOPSIG(status) : 0;
}

// Copies filter `index`; nullopt at ENOENT (past the last filter).
Result<std::optional<Bytes>> getFilter(pid_t pid, unsigned long index) {
  const long count = ptraceCall(PTRACE_SECCOMP_GET_FILTER, pid, index, nullptr);
  if (count < 0) {
    if (errno == ENOENT) return std::optional<Bytes>();
    return errnoError(errno, pid, "PTRACE_SECCOMP_GET_FILTER");
  }
  if (count == 0 || count > 4096) {
    return fail(ErrorCode::kMalformed, strCat("filter ", index, " has ", count, " instructions"),
                "PTRACE_SECCOMP_GET_FILTER");
  }
  std::vector<sock_filter> insns(static_cast<std::size_t>(count));
  const long got = ptraceCall(PTRACE_SECCOMP_GET_FILTER, pid, index, insns.data());
  if (got < 0) return errnoError(errno, pid, "PTRACE_SECCOMP_GET_FILTER");
  if (got != count) {
    return fail(ErrorCode::kIo, "filter changed size between calls", "PTRACE_SECCOMP_GET_FILTER");
  }
  Bytes bytes(insns.size() * sizeof(sock_filter));
  std::memcpy(bytes.data(), insns.data(), bytes.size());
  return std::optional<Bytes>(std::move(bytes));
}

Result<std::vector<Bytes>> dumpAll(pid_t pid) {
  std::vector<Bytes> filters;
  for (unsigned long index = 0;; ++index) {
    auto f = getFilter(pid, index);
    if (!f) return std::unexpected(f.error());
    if (!*f) break;
    filters.push_back(std::move(**f));
    if (filters.size() > 4096) {
      return fail(ErrorCode::kMalformed, "more filters than the kernel allows", "seccomp chain");
    }
  }
  return filters;
}

}  // namespace

Result<DumpedFilters> PtraceSeccompDumper::dump(pid_t pid) {
  if (pid <= 0) return fail(ErrorCode::kInvalidArgument, "bad pid", "seccomp dump");
  if (ptraceCall(PTRACE_SEIZE, pid, 0, nullptr) != 0) return errnoError(errno, pid, "PTRACE_SEIZE");
  // From here the tracee is ours: every return below goes through detach.
  if (ptraceCall(PTRACE_INTERRUPT, pid, 0, nullptr) != 0) {
    const int err = errno;
    ptraceCall(PTRACE_DETACH, pid, 0, nullptr);
    return errnoError(err, pid, "PTRACE_INTERRUPT");
  }
  auto signal = waitForStop(pid);
  if (!signal) {
    // Exited: the kernel already released the trace. Anything else: try to detach.
    ptraceCall(PTRACE_DETACH, pid, 0, nullptr);
    return std::unexpected(signal.error());
  }
  const auto stopped_at = Clock::now();
  auto filters = dumpAll(pid);
  const long rc = ptraceCall(PTRACE_DETACH, pid, 0,
                             reinterpret_cast<void*>(static_cast<std::intptr_t>(*signal)));
  const int detach_err = errno;
  DumpedFilters out;
  out.stopped = Clock::now() - stopped_at;
  if (!filters) return std::unexpected(filters.error());
  if (rc != 0 && detach_err != ESRCH) return errnoError(detach_err, pid, "PTRACE_DETACH");
  out.filters = std::move(*filters);
  return out;
}

}  // namespace bulwark::agent
