// LogCursors (pure): which cursors are held, when a log ships from one, and that
// the remembered prefix hash decides exactly like hashing the whole prefix. Also
// which measurements the report keeps (report_builder.h reportsMeasurement).
#include "agent/cycle/log_cursors.h"

#include <gtest/gtest.h>

#include "agent/cycle/report_builder.h"
#include "attest/core/digest.h"

namespace bulwark::agent {
namespace {

constexpr const char* kSource = "/var/lib/bulwark/measure.log";
const LogFileIdentity kFile{8, 1234};

std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }

bulwark::v1::LogCursor cursorOver(const std::string& held, std::string source = kSource) {
  bulwark::v1::LogCursor c;
  c.set_source(std::move(source));
  c.set_offset(held.size());
  c.set_entries(static_cast<std::uint64_t>(std::count(held.begin(), held.end(), '\n')));
  c.set_prefix_sha256(str(sha256(asBytes(held))));
  return c;
}

bulwark::v1::EventLog wholeLog(const std::string& content, std::string source = kSource) {
  bulwark::v1::EventLog log;
  log.set_format(bulwark::v1::EventLog::CEL_JSON);
  log.set_source(std::move(source));
  log.set_content(content);
  return log;
}

void hold(LogCursors& cursors, std::vector<bulwark::v1::LogCursor> list) {
  google::protobuf::RepeatedPtrField<bulwark::v1::LogCursor> field;
  for (auto& c : list) *field.Add() = std::move(c);
  cursors.replace(field);
}

TEST(LogCursors, OnlyWellFormedCursorsAreHeldAndOnlyTheLastAnswers) {
  LogCursors cursors;
  bulwark::v1::LogCursor short_digest = cursorOver("a\n");
  short_digest.set_prefix_sha256("abc");
  bulwark::v1::LogCursor no_source = cursorOver("a\n", "");
  hold(cursors, {cursorOver("a\n"), cursorOver("b\n", "/other.log"), short_digest, no_source});
  EXPECT_EQ(cursors.size(), 2u);
  ASSERT_NE(cursors.find("/other.log"), nullptr);
  hold(cursors, {cursorOver("b\n", "/other.log")});
  EXPECT_EQ(cursors.find(kSource), nullptr) << "an answer replaces every cursor";
  hold(cursors, {});
  EXPECT_EQ(cursors.size(), 0u);
  hold(cursors, {cursorOver("a\n")});
  cursors.clear();
  EXPECT_EQ(cursors.size(), 0u);
}

// One held cursor over "r0\nr1\n" (6 bytes, 2 records), then the file as read now.
TEST(LogCursors, ShipsFromTheCursorOnlyWhileTheFileStartsWithTheCopy) {
  const std::string held = "r0\nr1\n";
  struct Case {
    const char* name;
    bulwark::v1::EventLog log;
    bool incremental;
    std::string content;  // expected content shipped
  };
  bulwark::v1::EventLog from_offset = wholeLog(held + "r2\n");
  from_offset.set_offset(3);
  const Case cases[] = {
      {"grown", wholeLog(held + "r2\nr3\n"), true, "r2\nr3\n"},
      {"unchanged", wholeLog(held), true, ""},
      {"other log", wholeLog(held + "r2\n", "/run/log/systemd/tpm2-measure.log"), false,
       held + "r2\n"},
      {"shorter", wholeLog("r0\n"), false, "r0\n"},
      {"empty", wholeLog(""), false, ""},
      {"first record rewritten", wholeLog("R0\nr1\nr2\n"), false, "R0\nr1\nr2\n"},
      {"last byte of the prefix differs", wholeLog("r0\nr1 r2\n"), false, "r0\nr1 r2\n"},
      {"already cut", from_offset, false, held + "r2\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LogCursors cursors;
    hold(cursors, {cursorOver(held)});
    ShippedLog out = cursors.ship(c.log, kFile);
    EXPECT_EQ(out.incremental, c.incremental);
    EXPECT_EQ(out.log.content(), c.content);
    EXPECT_EQ(out.log.source(), c.log.source());
    EXPECT_EQ(out.log.format(), bulwark::v1::EventLog::CEL_JSON);
    EXPECT_EQ(out.log.offset(), c.incremental ? held.size() : c.log.offset());
    EXPECT_EQ(out.log.entries_before(), c.incremental ? 2u : 0u);
    bool own_log = c.log.source() == kSource;
    EXPECT_EQ(out.note.empty(), c.incremental || !own_log) << out.note;
    EXPECT_EQ(cursors.size(), c.incremental || !own_log ? 1u : 0u)
        << "a cursor that does not fit is dropped";
  }
}

// The remembered state (same file, prefix grown) must decide exactly as a fresh
// full hash would, for the whole life of a log that grows and sometimes changes.
TEST(LogCursors, TheRememberedPrefixDecidesLikeAFullHash) {
  LogCursors remembered;
  std::string file;
  std::string copy;  // what the verifier holds
  for (int step = 0; step < 200; ++step) {
    std::string record = "{\"recnum\":" + std::to_string(step) + ",\"pad\":\"" +
                         std::string(static_cast<std::size_t>(step * 37 % 900), 'x') + "\"}\n";
    file += record;
    if (step % 50 == 49) file[file.size() - record.size() - 5] ^= 1;  // an in-place edit
    LogCursors fresh;
    if (!copy.empty()) {
      hold(remembered, {cursorOver(copy)});
      hold(fresh, {cursorOver(copy)});
    }
    ShippedLog a = remembered.ship(wholeLog(file), kFile);
    ShippedLog b = fresh.ship(wholeLog(file), std::nullopt);
    ASSERT_EQ(a.incremental, b.incremental) << "step " << step;
    ASSERT_EQ(a.log.SerializeAsString(), b.log.SerializeAsString()) << "step " << step;
    ASSERT_EQ(a.incremental, !copy.empty() && file.starts_with(copy)) << "step " << step;
    copy = file;  // the verifier took it all
  }
}

// The remembered prefix state is a Hasher (attest/core/digest.h): it forks and peeks.
TEST(PrefixHash, ForksAndPeeksWithoutDisturbingTheState) {
  auto text = [](std::string_view s) { return asBytes(s); };
  Hasher h(HashAlg::kSha256);
  h.update(text("abc"));
  Hasher fork = h;
  fork.update(text("def"));
  EXPECT_EQ(h.peek(), sha256(asBytes(std::string_view("abc"))));
  EXPECT_EQ(h.peek(), sha256(asBytes(std::string_view("abc")))) << "peek twice";
  EXPECT_EQ(fork.peek(), sha256(asBytes(std::string_view("abcdef"))));
  h = fork;
  h.update(text("g"));
  EXPECT_EQ(h.peek(), sha256(asBytes(std::string_view("abcdefg"))));
}

bulwark::v1::Measurement m(const std::string& kind, std::map<std::string, std::string> attrs) {
  bulwark::v1::Measurement out;
  out.set_kind(kind);
  out.set_subject("/x");
  out.set_sha256(std::string(32, 'a'));
  for (auto& [k, v] : attrs) (*out.mutable_attributes())[k] = v;
  return out;
}

// kind and attributes in a stable order (protobuf map serialization order is not).
std::string key(const bulwark::v1::Measurement& m) {
  std::map<std::string, std::string> sorted(m.attributes().begin(), m.attributes().end());
  std::string out = m.kind() + " " + m.subject();
  for (const auto& [k, v] : sorted) out += " " + k + "=" + v;
  return out;
}

TEST(ReportBuilder, MeasurementsCarryOnlyWhatTheLogCannotSay) {
  struct Case {
    bulwark::v1::Measurement measurement;
    bool reported;
  };
  const Case cases[] = {
      {m("host-file", {}), false},
      {m("kernel", {}), false},
      {m("cmdline", {}), false},
      {m("module", {}), false},
      {m("runtime-binary", {}), false},
      {m("image", {}), true},
      {m("image", {{"refs", "docker.io/library/nginx:1.25"}}), true},
      {m("runtime-process", {}), true},
      {m("runtime-process", {{"pids", "42"}, {"mismatch", "on-disk-differs"}}), true},
      {m("host-file", {{"subject_encoding", "percent"}}), true},
      {m("runtime-binary", {{"unit", "containerd.service"}}), true},
  };
  Collected collected;
  std::vector<std::string> expected;
  for (const Case& c : cases) {
    EXPECT_EQ(reportsMeasurement(c.measurement), c.reported) << c.measurement.DebugString();
    collected.measurements.push_back(c.measurement);
    if (c.reported) expected.push_back(key(c.measurement));
  }
  ReportInputs inputs;
  inputs.node = "n";
  inputs.nonce = {1};
  auto bytes = buildReport(inputs, collected, {wholeLog("r0\n")});
  ASSERT_TRUE(bytes.has_value()) << bytes.error().toString();
  bulwark::v1::Report report;
  ASSERT_TRUE(report.ParseFromString(*bytes));
  std::vector<std::string> got;
  for (const auto& r : report.measurements()) got.push_back(key(r));
  EXPECT_EQ(got, expected);
  ASSERT_EQ(report.logs_size(), 1) << "logs come from the shipped list";
  EXPECT_EQ(report.logs(0).content(), "r0\n");
}

}  // namespace
}  // namespace bulwark::agent
