// Loads the real firmware logs under tests/testdata/eventlogs (see its README).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/core/bytes.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/replay.h"

namespace bulwark::attest::eventlog::testing {

inline std::string testdataPath(const std::string& rel) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/testdata/" + rel;
}

inline Bytes loadLogBytes(const std::string& name) {
  auto bytes = readFile(testdataPath("eventlogs/" + name + "/eventlog.bin"));
  EXPECT_TRUE(bytes.has_value()) << name << ": " << (bytes ? "" : bytes.error().toString());
  return bytes ? *bytes : Bytes{};
}

inline EventLog loadLog(const std::string& name) {
  auto log = parseEventLog(loadLogBytes(name));
  EXPECT_TRUE(log.has_value()) << name << ": " << (log ? "" : log.error().toString());
  return log ? *log : EventLog{};
}

// pcrs.json: {bank: {pcr: hex}} as the upstream project expects the log to replay.
inline PcrBanks loadExpectedPcrs(const std::string& name) {
  std::ifstream in(testdataPath("eventlogs/" + name + "/pcrs.json"));
  EXPECT_TRUE(in.good()) << name;
  auto doc = nlohmann::json::parse(in, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << name;
  PcrBanks out;
  if (doc.is_discarded()) return out;
  for (const auto& [bank, pcrs] : doc.items()) {
    auto alg = hashAlgFromName(bank);
    EXPECT_TRUE(alg.has_value()) << bank;
    if (!alg) continue;
    for (const auto& [pcr, hex] : pcrs.items()) {
      auto value = fromHex(hex.get<std::string>());
      EXPECT_TRUE(value.has_value());
      if (value) out[*alg][static_cast<std::uint32_t>(std::stoul(pcr))] = *value;
    }
  }
  return out;
}

inline constexpr const char* kAllLogs[] = {
    "arch_linux_workstation", "confidential_gke_debug_251000_eventlog", "cos_101_amd_sev",
    "cos_85_amd_sev", "cos_93_amd_sev", "debian_10", "eventlogwithsp800155", "gdc_host",
    "glinux_alex", "rhel8_uefi", "ubuntu_1804_amd_sev", "ubuntu_2104_no_dbx",
    "ubuntu_2104_no_secure_boot", "ubuntu_2404_amd_sevsnp"};

}  // namespace bulwark::attest::eventlog::testing
