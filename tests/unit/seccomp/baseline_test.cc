// The baseline profile file, its schema, and the validating loader.
#include "agent/inspect/seccomp/baseline.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "agent/inspect/seccomp/libseccomp_syscall_table.h"
#include "tests/unit/seccomp/libseccomp_fixture.h"

namespace bulwark::agent {
namespace {

const LibseccompSyscallTable& table() {
  static const LibseccompSyscallTable t;
  return t;
}

std::string baselinePath() {
  return seccomp_test::sourceDir() + "/profiles/seccomp/baseline-deny.json";
}

nlohmann::json readJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str(), nullptr, false);
}

TEST(Baseline, ShippedProfileLoadsAndListsTheRequiredSyscalls) {
  auto b = loadSeccompBaseline(baselinePath(), table());
  ASSERT_TRUE(b.has_value()) << b.error().toString();
  EXPECT_EQ(b->name, "baseline-deny");
  EXPECT_FALSE(b->refs.empty());
  std::set<std::string> names;
  for (const auto& e : b->deny) names.insert(e.syscall);
  for (const char* required : {"kexec_load",
                               "kexec_file_load",
                               "init_module",
                               "finit_module",
                               "delete_module",
                               "bpf",
                               "mount",
                               "umount2",
                               "pivot_root",
                               "swapon",
                               "swapoff",
                               "reboot",
                               "keyctl",
                               "add_key",
                               "request_key",
                               "userfaultfd",
                               "open_by_handle_at",
                               "perf_event_open",
                               "unshare",
                               "setns",
                               "ptrace"}) {
    EXPECT_TRUE(names.count(required)) << required;
  }
}

TEST(Baseline, SchemaDescribesWhatTheLoaderAccepts) {
  const auto schema =
      readJson(seccomp_test::sourceDir() + "/profiles/schema/seccomp-baseline.schema.json");
  ASSERT_FALSE(schema.is_discarded());
  std::set<std::string> top, entry;
  for (const auto& [k, v] : schema["properties"].items()) top.insert(k);
  for (const auto& [k, v] : schema["properties"]["deny"]["items"]["properties"].items()) {
    entry.insert(k);
  }
  EXPECT_EQ(top, (std::set<std::string>{"$schema", "kind", "version", "name", "description", "refs",
                                        "deny"}));
  EXPECT_EQ(entry, (std::set<std::string>{"syscall", "severity", "reason"}));
  EXPECT_EQ(schema["additionalProperties"], false);
  EXPECT_EQ(schema["properties"]["deny"]["items"]["additionalProperties"], false);
  EXPECT_EQ(schema["properties"]["kind"]["const"], std::string(kSeccompBaselineKind));
  EXPECT_EQ(schema["properties"]["version"]["const"], kSeccompBaselineVersion);
  EXPECT_EQ(schema["properties"]["deny"]["items"]["properties"]["severity"]["enum"],
            nlohmann::json({"low", "medium", "high", "critical"}));
  // Every key the schema requires is required by the loader too.
  auto doc = readJson(baselinePath());
  for (const auto& key : schema["required"]) {
    auto copy = doc;
    copy.erase(key.get<std::string>());
    EXPECT_FALSE(parseSeccompBaseline(copy.dump(), table()).has_value()) << key;
  }
  for (const auto& key : schema["properties"]["deny"]["items"]["required"]) {
    auto copy = doc;
    copy["deny"][0].erase(key.get<std::string>());
    EXPECT_FALSE(parseSeccompBaseline(copy.dump(), table()).has_value()) << key;
  }
}

struct Bad {
  const char* name;
  const char* json;
  const char* message;
};

class RejectsBadBaseline : public ::testing::TestWithParam<Bad> {};

TEST_P(RejectsBadBaseline, WithTheOffendingPath) {
  auto r = parseSeccompBaseline(GetParam().json, table());
  ASSERT_FALSE(r.has_value()) << GetParam().name;
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos)
      << r.error().toString();
}

#define HEAD R"("kind": "bulwark.seccomp.baseline", "version": 1, "name": "t")"
#define ENTRY(s) R"({"syscall": ")" s R"(", "severity": "high", "reason": "r"})"

INSTANTIATE_TEST_SUITE_P(
    Loader, RejectsBadBaseline,
    ::testing::Values(
        Bad{"not_json", "{", "not valid JSON"}, Bad{"array", "[]", "must be a JSON object"},
        Bad{"unknown_top_key", "{" HEAD R"(, "deny": [)" ENTRY("mount") R"(], "extra": 1})",
            "unknown key 'extra'"},
        Bad{"wrong_kind",
            R"({"kind": "x", "version": 1, "name": "t", "deny": [)" ENTRY("mount") "]}", "$.kind"},
        Bad{"wrong_version",
            R"({"kind": "bulwark.seccomp.baseline", "version": 2, "name": "t", "deny": [)" ENTRY(
                "mount") "]}",
            "$.version"},
        Bad{"missing_name",
            R"({"kind": "bulwark.seccomp.baseline", "version": 1, "deny": [)" ENTRY("mount") "]}",
            "missing key 'name'"},
        Bad{"missing_deny", "{" HEAD "}", "missing key 'deny'"},
        Bad{"empty_deny", "{" HEAD R"(, "deny": []})", "non-empty array"},
        Bad{"unknown_syscall", "{" HEAD R"(, "deny": [)" ENTRY("not_a_syscall") "]}",
            "'not_a_syscall' is not a syscall"},
        Bad{"duplicate", "{" HEAD R"(, "deny": [)" ENTRY("mount") "," ENTRY("mount") "]}",
            "$.deny[1].syscall: 'mount' is listed twice"},
        Bad{"unknown_entry_key",
            "{" HEAD
            R"(, "deny": [{"syscall": "mount", "severity": "high", "reason": "r", "arch": "x"}]})",
            "$.deny[0]: unknown key 'arch'"},
        Bad{"bad_severity",
            "{" HEAD R"(, "deny": [{"syscall": "mount", "severity": "huge", "reason": "r"}]})",
            "$.deny[0].severity"},
        Bad{"syscall_not_string",
            "{" HEAD R"(, "deny": [{"syscall": 165, "severity": "high", "reason": "r"}]})",
            "$.deny[0].syscall: must be a non-empty string"},
        Bad{"refs_not_strings", "{" HEAD R"(, "refs": [1], "deny": [)" ENTRY("mount") "]}",
            "$.refs[0]"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Baseline, MissingFileIsAnIoErrorNotAParseResult) {
  auto r = loadSeccompBaseline("/nonexistent/baseline.json", table());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace bulwark::agent
