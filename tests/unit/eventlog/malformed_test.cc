// Malformed, truncated and oversized logs: each case must fail with kMalformed (or
// kUnsupported) naming the offset, never crash or read past the buffer (the asan
// preset runs this table too).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "attest/eventlog/event_data.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"
#include "attest/eventlog/replay.h"
#include "tests/unit/eventlog/log_builder.h"
#include "tests/unit/eventlog/test_logs.h"

namespace bulwark::attest::eventlog {
namespace {

using namespace testing;  // NOLINT: builder helpers

Bytes goodAgile() {
  return LogBuilder::agile(kSha1Sha256).event(0, ev::kSCrtmVersion, "v1").event(7, ev::kSeparator, Bytes(4, 0)).bytes();
}

Bytes agileWithSpec(Bytes spec) {
  return LogBuilder::legacy().legacyRecord(0, ev::kNoAction, Bytes(20, 0), spec).bytes();
}

struct MalformedCase {
  const char* name;
  std::function<Bytes()> make;
  ErrorCode code;
  const char* message;  // substring the error must contain
  ParseLimits limits = {};
};

Bytes withRecord(const std::function<void(LogBuilder&)>& add) {
  LogBuilder b = LogBuilder::agile(kSha1Sha256);
  add(b);
  return b.bytes();
}

const std::vector<MalformedCase>& cases() {
  static const std::vector<MalformedCase> kCases = {
      {"empty", [] { return Bytes{}; }, ErrorCode::kMalformed, "empty"},
      {"one byte", [] { return Bytes{0}; }, ErrorCode::kMalformed, "truncated PCR index"},
      {"legacy header cut in digest", [] { return Bytes(20, 0); }, ErrorCode::kMalformed, "truncated SHA1 digest"},
      {"legacy data size past end", [] {
         Bytes b = LogBuilder::legacy().legacyRecord(0, ev::kSCrtmVersion, Bytes(20, 1), asBytes("abcd")).bytes();
         b.pop_back();
         return b;
       }, ErrorCode::kMalformed, "truncated event data"},
      {"data size 0xffffffff", [] {
         Bytes b = LogBuilder::legacy().legacyRecord(0, ev::kSCrtmVersion, Bytes(20, 1), {}).bytes();
         b[28] = b[29] = b[30] = b[31] = 0xFF;
         return b;
       }, ErrorCode::kMalformed, "exceeds limit"},
      {"pcr index 24", [] { return LogBuilder::legacy().legacyRecord(24, ev::kIpl, Bytes(20, 0), {}).bytes(); },
       ErrorCode::kMalformed, "out of range"},
      {"spec id with zero algorithms", [] { return agileWithSpec(specIdData({})); }, ErrorCode::kMalformed, "numberOfAlgorithms 0"},
      {"spec id with 17 algorithms", [] {
         std::vector<AlgorithmSize> algs;
         for (std::uint16_t i = 0; i < 17; ++i) algs.push_back({static_cast<std::uint16_t>(0x100 + i), 32});
         return agileWithSpec(specIdData(algs));
       }, ErrorCode::kMalformed, "numberOfAlgorithms 17"},
      {"sha256 declared 20 bytes", [] { return agileWithSpec(specIdData({{0x000B, 20}})); }, ErrorCode::kMalformed, "sha256 declared"},
      {"zero digest size", [] { return agileWithSpec(specIdData({{0x0012, 0}})); }, ErrorCode::kMalformed, "digest size 0"},
      {"duplicate spec algorithm", [] { return agileWithSpec(specIdData({{4, 20}, {4, 20}})); }, ErrorCode::kMalformed, "duplicate algorithm"},
      {"spec version 1", [] { return agileWithSpec(specIdData(kSha1Sha256, 1)); }, ErrorCode::kUnsupported, "Spec ID version"},
      {"spec id cut in table", [] {
         Bytes s = specIdData(kSha1Sha256);
         s.resize(s.size() - 3);
         return agileWithSpec(s);
       }, ErrorCode::kMalformed, "truncated"},
      {"vendor info past end", [] {
         Bytes s = specIdData(kSha1Sha256);
         s.back() = 5;
         return agileWithSpec(s);
       }, ErrorCode::kMalformed, "truncated vendorInfo"},
      {"spec id with non-zero digest", [] {
         return LogBuilder::legacy().legacyRecord(0, ev::kNoAction, Bytes(20, 1), specIdData(kSha1Sha256)).bytes();
       }, ErrorCode::kMalformed, "non-zero digest"},
      {"digest count over table", [] {
         return withRecord([](LogBuilder& b) { b.agileRecord(0, ev::kIpl, {{4, Bytes(20)}, {11, Bytes(32)}, {12, Bytes(48)}}, {}); });
       }, ErrorCode::kMalformed, "digest count 3"},
      {"digest alg not in table", [] {
         return withRecord([](LogBuilder& b) { b.agileRecord(0, ev::kIpl, {{12, Bytes(48)}}, {}); });
       }, ErrorCode::kMalformed, "not in the Spec ID event"},
      {"duplicate digest alg", [] {
         return withRecord([](LogBuilder& b) { b.agileRecord(0, ev::kIpl, {{4, Bytes(20)}, {4, Bytes(20)}}, {}); });
       }, ErrorCode::kMalformed, "duplicate digest algorithm"},
      {"digest cut", [] {
         Bytes b = withRecord([](LogBuilder& l) { l.raw(Bytes{0, 0, 0, 0, 13, 0, 0, 0, 1, 0, 0, 0, 11, 0}).raw(Bytes(10, 7)); });
         return b;
       }, ErrorCode::kMalformed, "truncated digest"},
      {"record cut in header", [] {
         Bytes b = goodAgile();
         b.resize(b.size() - 4 - 4 - 32 - 2 - 20 - 2 - 4);
         return b;
       }, ErrorCode::kMalformed, "truncated"},
      {"trailing garbage", [] {
         Bytes b = goodAgile();
         b.push_back(0x42);
         return b;
       }, ErrorCode::kMalformed, "truncated"},
      {"too many events", [] {
         LogBuilder b = LogBuilder::agile(kSha1Sha256);
         for (int i = 0; i < 5; ++i) b.event(1, ev::kIpl, "x");
         return b.bytes();
       }, ErrorCode::kMalformed, "more than 4 events", ParseLimits{16u << 20, 4, 1u << 20, 16}},
      {"log over size cap", [] { return goodAgile(); }, ErrorCode::kMalformed, "exceeds limit",
       ParseLimits{64, 65536, 1u << 20, 16}},
      {"event over data cap", [] {
         return LogBuilder::agile(kSha1Sha256).event(8, ev::kIpl, std::string(100, 'a')).bytes();
       }, ErrorCode::kMalformed, "event data size 100 exceeds limit 99", ParseLimits{16u << 20, 65536, 99, 16}},
  };
  return kCases;
}

TEST(MalformedLogs, EachCaseFailsWithOffset) {
  for (const auto& c : cases()) {
    Bytes input = c.make();
    auto log = parseEventLog(input, c.limits);
    ASSERT_FALSE(log.has_value()) << c.name;
    EXPECT_EQ(log.error().code(), c.code) << c.name << ": " << log.error().toString();
    EXPECT_NE(log.error().message().find(c.message), std::string::npos) << c.name << ": " << log.error().toString();
    EXPECT_NE(log.error().context().find("offset 0x"), std::string::npos) << c.name << ": " << log.error().toString();
  }
}

TEST(MalformedLogs, TrailingZeroPaddingIsAccepted) {
  Bytes b = goodAgile();
  std::size_t events_size = b.size();
  b.resize(b.size() + 37, 0);
  auto log = parseEventLog(b);
  ASSERT_TRUE(log.has_value()) << log.error().toString();
  EXPECT_EQ(log->events.size(), 3u);
  EXPECT_EQ(log->trailing_zero_bytes, b.size() - events_size);
}

// Every prefix of a real log either parses (cut on a record boundary) or fails
// cleanly; every successful prefix also replays and decodes.
TEST(MalformedLogs, EveryPrefixOfRealLogsIsHandled) {
  for (const char* name : {"arch_linux_workstation", "debian_10"}) {
    Bytes full = loadLogBytes(name);
    std::size_t ok = 0;
    for (std::size_t n = 0; n <= full.size(); ++n) {
      Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      auto log = parseEventLog(prefix);
      if (!log) {
        EXPECT_EQ(log.error().code(), ErrorCode::kMalformed) << name << " prefix " << n;
        continue;
      }
      ++ok;
      EXPECT_TRUE(replay(*log).has_value());
      for (const auto& e : log->events) (void)decodeEventData(e);
    }
    EXPECT_GT(ok, 10u) << name;
    EXPECT_LT(ok, full.size() / 50) << name;
  }
}

struct DataCase {
  const char* name;
  std::uint32_t type;
  Bytes data;
};

// Typed decoders on hostile event data: errors, never over-reads.
TEST(MalformedEventData, DecodersRejectInconsistentLengths) {
  Bytes huge_name(16, 0);
  putU64(huge_name, 0x8000000000000001ull);  // UnicodeNameLength * 2 overflows
  putU64(huge_name, 0);
  Bytes data_past_end(16, 0);
  putU64(data_past_end, 0);
  putU64(data_past_end, 1000);
  Bytes image(24, 0);
  putU64(image, 0xFFFFFFFFFFFFFFFFull);
  Bytes tagged;
  putU32(tagged, 1);
  putU32(tagged, 50);
  Bytes gpt;
  putStr(gpt, "EFI PART");
  gpt.resize(92, 0);
  gpt[84] = 0x80;  // SizeOfPartitionEntry 128
  putU64(gpt, 1ull << 40);
  Bytes handoff;
  putU64(handoff, 1ull << 60);
  Bytes sep(3, 0);
  Bytes locality = startupLocality(0);
  locality.push_back(0);
  Bytes sp800;
  putStr(sp800, "SP800-155 Event3");
  putU32(sp800, 1);
  sp800.resize(sp800.size() + 16, 0);
  sp800.push_back(200);
  const DataCase cases[] = {
      {"variable name overflow", ev::kEfiVariableDriverConfig, huge_name},
      {"variable data past end", ev::kEfiVariableBoot, data_past_end},
      {"variable cut in guid", ev::kEfiVariableAuthority, Bytes(10, 0)},
      {"image device path past end", ev::kEfiBootServicesApplication, image},
      {"tagged data past end", ev::kEventTag, tagged},
      {"gpt partition count huge", ev::kEfiGptEvent, gpt},
      {"gpt without signature", ev::kEfiGptEvent, Bytes(100, 0)},
      {"handoff count huge", ev::kEfiHandoffTables, handoff},
      {"blob2 description past end", ev::kEfiPlatformFirmwareBlob2, Bytes{50, 1, 2}},
      {"separator of 3 bytes", ev::kSeparator, sep},
      {"startup locality of 18 bytes", ev::kNoAction, locality},
      {"sp800-155 string past end", ev::kNoAction, sp800},
  };
  for (const auto& c : cases) {
    Event e;
    e.type = c.type;
    e.data = c.data;
    auto d = decodeEventData(e);
    ASSERT_FALSE(d.has_value()) << c.name;
    EXPECT_EQ(d.error().code(), ErrorCode::kMalformed) << c.name;
  }
  // Device paths with broken node lengths render what they can.
  EXPECT_EQ(devicePathToText(Bytes{4, 4, 2, 0}), "<malformed device path>");
  EXPECT_EQ(devicePathToText(Bytes{4, 4, 0xFF, 0xFF, 0, 0}), "<malformed device path>");
  EXPECT_EQ(devicePathToText(Bytes{0x7F, 0xFF, 4, 0}), "");
}

}  // namespace
}  // namespace bulwark::attest::eventlog
