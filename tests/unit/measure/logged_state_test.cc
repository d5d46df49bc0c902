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

}  // namespace
}  // namespace bulwark::agent
