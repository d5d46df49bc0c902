// Fuzz target: untrusted /proc text (processes inside containers control comm
// names and mount paths) through every inspect parser, plus the pure checks
// that consume the parsed mounts. First byte selects the parser, so one corpus
// covers status, mountinfo, cgroup, stat and cgroup limit files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/inspect/mounts.h"
#include "agent/inspect/proc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bulwark::agent;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)parseProcStatus(text);
      break;
    case 1:
      if (auto m = parseMountInfo(text)) {
        (void)rootMount(*m);
        (void)sensitiveMounts(*m, *m);  // the same text as host view exercises every match
        for (const MountInfoEntry& e : *m) (void)hostPathOf(e, *m);
      }
      break;
    case 2:
      if (auto c = parseProcCgroup(text)) {
        const auto host = parseMountInfo(
            "30 26 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
            "31 30 0:28 /a /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n");
        (void)cgroupLocation(*c, *host, "pids");
        (void)cgroupLocation(*c, *host, "memory");
      }
      break;
    case 3:
      (void)parseProcStat(text);
      break;
    default:
      (void)parseCgroupLimit(text);
      (void)unescapeMountPath(text);
      break;
  }
  return 0;
}
