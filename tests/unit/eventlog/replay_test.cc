// Replays the 14 real firmware logs in tests/testdata/eventlogs and compares every
// PCR the upstream project expects (pcrs.json), bank by bank.
#include <gtest/gtest.h>

#include <string>

#include "attest/core/bytes.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"
#include "attest/eventlog/replay.h"
#include "tests/unit/eventlog/log_builder.h"
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

using testing::kSha1Sha256;
using testing::LogBuilder;
using testing::startupLocality;

Bytes extendFrom(HashAlg alg, Bytes v, std::initializer_list<std::string_view> data) {
  for (auto d : data) v = pcrExtend(alg, v, digest(alg, asBytes(d)));
  return v;
}

Replay replayOf(const Bytes& bytes) {
  auto log = parseEventLog(bytes);
  EXPECT_TRUE(log.has_value()) << log.error().toString();
  if (!log) return {};
  auto rep = replay(*log);
  EXPECT_TRUE(rep.has_value()) << rep.error().toString();
  return rep ? *rep : Replay{};
}

TEST(ReplaySemantics, InitialValues) {
  Replay r = replayOf(LogBuilder::agile(kSha1Sha256).bytes());
  ASSERT_EQ(r.banks.size(), 2u);
  for (const auto& [alg, bank] : r.banks) {
    ASSERT_EQ(bank.size(), kNumPcrs);
    for (std::uint32_t i = 0; i < kNumPcrs; ++i) {
      bool ones = i >= 17 && i <= 22;
      EXPECT_EQ(bank.at(i), Bytes(hashAlgSize(alg), ones ? 0xFF : 0x00)) << i;
    }
  }
  EXPECT_TRUE(r.extended_pcrs.empty());
}

TEST(ReplaySemantics, StartupLocalitySetsPcr0AndNoActionIsNotExtended) {
  Bytes log = LogBuilder::agile(kSha1Sha256)
                  .event(0, ev::kNoAction, startupLocality(3))
                  .event(0, ev::kSCrtmVersion, "v")
                  .event(0, ev::kNoAction, "never extended, whatever its digest")
                  .event(17, ev::kIpl, "drtm")
                  .bytes();
  Replay r = replayOf(log);
  EXPECT_EQ(r.startup_locality, 3);
  Bytes init(32, 0);
  init.back() = 3;
  EXPECT_EQ(r.banks.at(HashAlg::kSha256).at(0), extendFrom(HashAlg::kSha256, init, {"v"}));
  EXPECT_EQ(r.banks.at(HashAlg::kSha1).at(17), extendFrom(HashAlg::kSha1, Bytes(20, 0xFF), {"drtm"}));
  EXPECT_EQ(r.extended_pcrs, (std::vector<std::uint32_t>{0, 17}));
}

TEST(ReplaySemantics, StartupLocalityErrors) {
  struct Case {
    const char* name;
    Bytes log;
    const char* message;
  } cases[] = {
      {"after pcr0 extend",
       LogBuilder::agile(kSha1Sha256).event(0, ev::kSCrtmVersion, "v").event(0, ev::kNoAction, startupLocality(3)).bytes(),
       "after PCR 0"},
      {"twice",
       LogBuilder::agile(kSha1Sha256).event(0, ev::kNoAction, startupLocality(3)).event(0, ev::kNoAction, startupLocality(3)).bytes(),
       "second StartupLocality"},
      {"locality 5", LogBuilder::agile(kSha1Sha256).event(0, ev::kNoAction, startupLocality(5)).bytes(), "StartupLocality 5"},
  };
  for (const auto& c : cases) {
    auto log = parseEventLog(c.log);
    ASSERT_TRUE(log.has_value()) << c.name;
    auto r = replay(*log);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_NE(r.error().message().find(c.message), std::string::npos) << c.name << ": " << r.error().toString();
  }
}

TEST(ReplaySemantics, UnknownAlgorithmsParseAndAreSkipped) {
  // SM3_256 (0x0012) is sized by the Spec ID table; Bulwark cannot hash it.
  std::vector<AlgorithmSize> algs = {{0x0012, 32}, {0x000C, 48}, {0x000D, 64}};
  Replay r = replayOf(LogBuilder::agile(algs).event(4, ev::kEfiAction, "a").event(4, ev::kEfiAction, "b").bytes());
  EXPECT_EQ(r.skipped_alg_ids, (std::vector<std::uint16_t>{0x0012}));
  EXPECT_EQ(r.banks.at(HashAlg::kSha384).at(4), extendFrom(HashAlg::kSha384, Bytes(48, 0), {"a", "b"}));
  EXPECT_EQ(r.banks.at(HashAlg::kSha512).at(4), extendFrom(HashAlg::kSha512, Bytes(64, 0), {"a", "b"}));
}

TEST(ReplaySemantics, BankMissingFromARecordIsSkippedAndNeverMatches) {
  LogBuilder b = LogBuilder::agile(kSha1Sha256);
  b.event(4, ev::kEfiAction, "a");
  b.agileRecord(4, ev::kEfiAction, {{0x0004, digest(HashAlg::kSha1, asBytes("b"))}}, asBytes("b"));
  Replay r = replayOf(b.bytes());
  EXPECT_EQ(r.skipped_alg_ids, (std::vector<std::uint16_t>{0x000B}));
  EXPECT_FALSE(r.banks.contains(HashAlg::kSha256));
  PcrBanks quoted;
  quoted[HashAlg::kSha256][4] = Bytes(32, 0);
  auto mismatches = comparePcrs(r, quoted);
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_TRUE(mismatches[0].replayed.empty());
}

TEST(ReplaySemantics, LegacyLogReplaysSha1Only) {
  Replay r = replayOf(LogBuilder::legacy().event(0, ev::kSCrtmVersion, "v").event(7, ev::kSeparator, Bytes(4, 0)).bytes());
  ASSERT_EQ(r.banks.size(), 1u);
  EXPECT_EQ(r.banks.at(HashAlg::kSha1).at(0), extendFrom(HashAlg::kSha1, Bytes(20, 0), {"v"}));
}

}  // namespace
}  // namespace bulwark::attest::eventlog
