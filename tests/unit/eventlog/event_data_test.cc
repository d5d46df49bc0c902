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
    }
  }
}

template <typename T>
T decodedAs(const EventLog& log, std::size_t index) {
  EXPECT_LT(index, log.events.size());
  if (index >= log.events.size()) return T{};
  auto d = decodeEventData(log.events[index]);
  EXPECT_TRUE(d.has_value());
  EXPECT_TRUE(d && std::holds_alternative<T>(*d)) << "event " << index << " " << (d ? describe(*d) : "");
  return d && std::holds_alternative<T>(*d) ? std::get<T>(*d) : T{};
}

TEST(RealLogDecode, Sp800155Event3) {
  EventLog log = load("eventlogwithsp800155");
  auto sp = decodedAs<Sp800155Event>(log, 1);
  EXPECT_EQ(sp.signature, "SP800-155 Event3");
  EXPECT_EQ(sp.platform_manufacturer_id, 11129u);  // Google's IANA PEN
  EXPECT_EQ(sp.platform_manufacturer, "Google, Inc.");
  EXPECT_EQ(sp.platform_model, "Google Compute Engine");
  EXPECT_EQ(sp.firmware_version, "2.7");
  EXPECT_EQ(sp.rim_locator_type, 3u);
  EXPECT_EQ(sp.rim_locator.size(), 40u);
  auto spec = decodedAs<SpecIdEvent>(log, 0);
  ASSERT_EQ(spec.algorithms.size(), 3u);
  EXPECT_EQ(spec.algorithms[2].alg_id, 0x000C);
  EXPECT_EQ(spec.algorithms[2].digest_size, 48);
}

TEST(RealLogDecode, StructuresOfKnownRecords) {
  EventLog gdc = load("gdc_host");
  EXPECT_EQ(decodedAs<StartupLocalityEvent>(gdc, 1).locality, 3);
  EXPECT_EQ(decodedAs<TextData>(gdc, 3).text, "2.3.5");
  auto blob = decodedAs<FirmwareBlob>(gdc, 4);
  EXPECT_EQ(blob.base, 0xffdc0000u);
  EXPECT_EQ(blob.length, 0x230000u);
  auto tag = decodedAs<TaggedEvent>(gdc, 156);
  EXPECT_EQ(tag.id, 0x8F3B22ECu);
  EXPECT_EQ(decodeText(tag.data).text, "Linux initrd");

  EventLog arch = load("arch_linux_workstation");
  auto sb = decodedAs<UefiVariableData>(arch, 3);
  EXPECT_EQ(sb.vendor, kEfiGlobalVariableGuid);
  EXPECT_EQ(sb.name, "SecureBoot");
  EXPECT_TRUE(sb.data.empty());
  EXPECT_EQ(decodedAs<UefiVariableData>(arch, 7).vendor.toString(), "d719b2cb-3d3a-4596-a3bc-dad00e67656f");
  auto gpt = decodedAs<GptEvent>(arch, 17);
  EXPECT_EQ(gpt.disk_guid.toString(), "f9f4bb69-5418-46bb-9501-2d615a3edc79");
  EXPECT_EQ(gpt.partitions.size(), 3u);
  auto app = decodedAs<UefiImageLoad>(arch, 22);
  EXPECT_EQ(app.length, 96725u);
  EXPECT_TRUE(app.device_path_text.ends_with("/HD(1,GPT,1a504613-19b5-4b44-a83d-d926d40daa1c)/\\EFI\\SYSTEMD\\SYSTEMD-BOOTX64.EFI"))
      << app.device_path_text;
  EXPECT_TRUE(decodedAs<TextData>(arch, 24).utf16);
  EXPECT_FALSE(decodedAs<SeparatorData>(arch, 8).isError());
}

}  // namespace
}  // namespace bulwark::attest::eventlog
