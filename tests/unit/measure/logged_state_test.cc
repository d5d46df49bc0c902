// What a cycle logs: images once per digest, runtime processes once per
// (executable, digest), other kinds whenever their digest changes; rebuilt from a log.
#include "agent/measure/logged_state.h"

#include <gtest/gtest.h>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_record.h"

namespace bulwark::agent {
namespace {

Bytes d(std::uint8_t b) { return Bytes(32, b); }
Measurement m(std::string_view kind, std::string subject, std::uint8_t b, bool extend = true) {
  return Measurement{std::string(kind), std::move(subject), d(b), {}, extend};
}

struct Step {
  const char* name;
  std::vector<Measurement> current;
  std::vector<std::string> expect_subjects;  // of pending(), in order
};

TEST(LoggedState, PendingFollowsKindSemantics) {
  std::vector<Step> steps = {
      {"first cycle logs everything extendable",
       {m(kKindHostFile, "/etc/a", 1), m(kKindImage, "sha256:img1", 7),
        m(kKindOciBundle, "runc:c1", 9, false), m(kKindRuntimeProcess, "/usr/bin/runc", 3)},
       {"/etc/a", "sha256:img1", "/usr/bin/runc"}},
      {"nothing changed", {m(kKindHostFile, "/etc/a", 1), m(kKindImage, "sha256:img1", 7)}, {}},
      {"file changed", {m(kKindHostFile, "/etc/a", 2)}, {"/etc/a"}},
      {"file changed back is logged again", {m(kKindHostFile, "/etc/a", 1)}, {"/etc/a"}},
      {"same image under another subject is not new", {m(kKindImage, "busybox:latest", 7)}, {}},
      {"image stopped and started again is not new", {m(kKindImage, "sha256:img1", 7)}, {}},
      {"process of a known executable is not new",
       {m(kKindRuntimeProcess, "/usr/bin/runc", 3)},
       {}},
      {"new executable digest is new",
       {m(kKindRuntimeProcess, "/usr/bin/runc", 4)},
       {"/usr/bin/runc"}},
      {"old digest again (set semantics)", {m(kKindRuntimeProcess, "/usr/bin/runc", 3)}, {}},
      {"duplicates within a cycle count once",
       {m(kKindImage, "sha256:img2", 8), m(kKindImage, "other-ref", 8)},
       {"sha256:img2"}},
  };
  LoggedState state;
  for (const auto& step : steps) {
    auto pending = state.pending(step.current);
    std::vector<std::string> got;
    for (const auto& p : pending) got.push_back(p.subject);
    EXPECT_EQ(got, step.expect_subjects) << step.name;
    for (const auto& p : pending) state.record(p.kind, p.subject, p.sha256);
  }
}

TEST(LoggedState, RebuiltFromLogBatchRecords) {
  std::vector<attest::BatchEntry> entries = {{"host-file", "/etc/a", d(1)},
                                             {"image", "sha256:img", d(7)}};
  auto content = attest::makeBatchContent(entries);
  auto canon = attest::canonicalContent(content);
  ASSERT_TRUE(canon.has_value());
  std::vector<HashAlg> banks{HashAlg::kSha256};
  auto digests = attest::bulwarkDigests(content, banks);
  ASSERT_TRUE(digests.has_value());
  std::string text = attest::formatCelRecord(15, *digests, "bulwark", *canon);
  // A record for another PCR does not count for this one.
  text += attest::formatCelRecord(14, *digests, "bulwark", *canon);
  auto log = attest::parseCel(asBytes(text));
  ASSERT_TRUE(log.has_value()) << log.error().toString();

  LoggedState s = LoggedState::fromLog(*log, 15);
  EXPECT_FALSE(s.isNew(m(kKindHostFile, "/etc/a", 1)));
  EXPECT_TRUE(s.isNew(m(kKindHostFile, "/etc/a", 2)));
  EXPECT_FALSE(s.isNew(m(kKindImage, "another-ref", 7)));
  LoggedState other = LoggedState::fromLog(*log, 13);
  EXPECT_TRUE(other.isNew(m(kKindHostFile, "/etc/a", 1)));
}

// Parts count only through the batch record that lists them: committed parts are
// logged, orphaned parts (a crashed cycle) are not, so they are logged again.
TEST(LoggedState, RebuiltFromCommittedPartsNotOrphans) {
  std::vector<attest::BatchEntry> orphaned, committed;
  for (int i = 0; i < 12; ++i) {
    orphaned.push_back({"host-file", "/etc/orphan" + std::to_string(i), d(1)});
    committed.push_back({"host-file", "/etc/committed" + std::to_string(i), d(2)});
  }
  auto orphan_records = attest::makeBatchRecords(orphaned, 600);
  auto records = attest::makeBatchRecords(committed, 600);
  ASSERT_TRUE(orphan_records.has_value() && records.has_value());
  ASSERT_GE(records->size(), 2u);
  std::vector<HashAlg> banks{HashAlg::kSha256};
  auto format = [&](const nlohmann::json& c) {
    bool extends = c.at("event") == "batch";
    return attest::formatCelRecord(
        15, extends ? attest::bulwarkDigests(c, banks).value() : std::vector<attest::CelDigest>{},
        "bulwark", attest::canonicalContent(c).value());
  };
  std::string text;
  for (std::size_t i = 0; i + 1 < orphan_records->size(); ++i) text += format((*orphan_records)[i]);
  text += format(attest::makeRecoveryContent(0, true));
  for (const auto& c : *records) text += format(c);
  auto log = attest::parseCel(asBytes(text));
  ASSERT_TRUE(log.has_value()) << log.error().toString();
  LoggedState s = LoggedState::fromLog(*log, 15);
  for (int i = 0; i < 12; ++i) {
    EXPECT_FALSE(s.isNew(m(kKindHostFile, "/etc/committed" + std::to_string(i), 2))) << i;
  }
  // The orphaned parts held /etc/orphan0.. (the batch that would list them is lost).
  EXPECT_TRUE(s.isNew(m(kKindHostFile, "/etc/orphan0", 1)));
}

}  // namespace
}  // namespace bulwark::agent
