// Replays the 14 real firmware logs in tests/testdata/eventlogs and compares every
// PCR the upstream project expects (pcrs.json), bank by bank.
#include <gtest/gtest.h>

#include <string>

#include "attest/core/bytes.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"
#include "attest/eventlog/replay.h"
#include "tests/unit/eventlog/test_logs.h"

namespace bulwark::attest::eventlog {
namespace {

struct LogCase {
  const char* name;
  LogFormat format;
  std::uint8_t locality;
};

class RealLogReplay : public ::testing::TestWithParam<LogCase> {};

TEST_P(RealLogReplay, EveryExpectedPcrMatches) {
  const LogCase& c = GetParam();
  auto log = parseEventLog(testing::loadLogBytes(c.name));
  ASSERT_TRUE(log.has_value()) << log.error().toString();
  EXPECT_EQ(log->format, c.format);
  auto rep = replay(*log);
  ASSERT_TRUE(rep.has_value()) << rep.error().toString();
  EXPECT_EQ(rep->startup_locality, c.locality);

  PcrBanks quoted = testing::loadExpectedPcrs(c.name);
  std::size_t count = 0;
  for (const auto& [alg, pcrs] : quoted) count += pcrs.size();
  EXPECT_GE(count, 8u);
  auto mismatches = comparePcrs(*rep, quoted);
  for (const auto& m : mismatches) ADD_FAILURE() << c.name << ": " << m.toString();
  EXPECT_TRUE(mismatches.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, RealLogReplay,
    ::testing::Values(LogCase{"arch_linux_workstation", LogFormat::kCryptoAgile, 0},
                      LogCase{"confidential_gke_debug_251000_eventlog", LogFormat::kCryptoAgile, 0},
                      LogCase{"cos_101_amd_sev", LogFormat::kCryptoAgile, 0},
                      LogCase{"cos_85_amd_sev", LogFormat::kCryptoAgile, 0},
                      LogCase{"cos_93_amd_sev", LogFormat::kCryptoAgile, 0},
                      LogCase{"debian_10", LogFormat::kSha1Legacy, 0},
                      LogCase{"eventlogwithsp800155", LogFormat::kCryptoAgile, 0},
                      LogCase{"gdc_host", LogFormat::kCryptoAgile, 3},
                      LogCase{"glinux_alex", LogFormat::kCryptoAgile, 3},
                      LogCase{"rhel8_uefi", LogFormat::kCryptoAgile, 0},
                      LogCase{"ubuntu_1804_amd_sev", LogFormat::kCryptoAgile, 0},
                      LogCase{"ubuntu_2104_no_dbx", LogFormat::kCryptoAgile, 0},
                      LogCase{"ubuntu_2104_no_secure_boot", LogFormat::kCryptoAgile, 0},
                      LogCase{"ubuntu_2404_amd_sevsnp", LogFormat::kCryptoAgile, 0}),
    [](const ::testing::TestParamInfo<LogCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace bulwark::attest::eventlog
