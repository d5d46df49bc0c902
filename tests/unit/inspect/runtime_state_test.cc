#include "agent/inspect/runtime_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/inspect/docker_engine.h"
#include "agent/inspect/inspector.h"
#include "tests/unit/inspect/inspect_test_util.h"

namespace bulwark::agent {
namespace {

using inspect_test::testData;
namespace fs = std::filesystem;

TEST(RuntimeState, CapturedRuncStateJson) {
  auto ref = parseRuntimeState(testData("runc-state.json"));
  ASSERT_TRUE(ref) << ref.error().toString();
  EXPECT_EQ(ref->id, "t1");
  EXPECT_EQ(ref->pid, 18774);
  EXPECT_EQ(ref->start_time, 455945u);  // = starttime in runc-stat.txt
  EXPECT_EQ(ref->bundle, "/tmp/bundle");
}

TEST(RuntimeState, CrunStatus) {
  auto ref = parseRuntimeState(
      R"({"pid":4242,"process-start-time":0,"cgroup-path":"/x","rootfs":"/b/rootfs",)"
      R"("systemd-cgroup":false,"bundle":"/b","created":"2024-01-01T00:00:00Z","owner":"root"})");
  ASSERT_TRUE(ref) << ref.error().toString();
  EXPECT_EQ(ref->pid, 4242);
  EXPECT_EQ(ref->bundle, "/b");
  EXPECT_EQ(ref->start_time, 0u);
}

TEST(RuntimeState, RejectsMalformed) {
  for (const char* bad : {"", "[]", "{}", R"({"init_process_pid":0})", R"({"init_process_pid":-5})",
                          R"({"init_process_pid":"12"})", R"({"pid":99999999999})", "{\"pid\":1"}) {
    auto r = parseRuntimeState(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << bad;
  }
}

TEST(RuntimeState, ImageFromAnnotations) {
  EXPECT_EQ(
      imageFromOciConfig(R"({"annotations":{"io.kubernetes.cri.image-name":"nginx:1"}})").value(),
      "nginx:1");
  EXPECT_EQ(imageFromOciConfig(R"({"annotations":{"other":"x"}})").value(), "");
  EXPECT_EQ(imageFromOciConfig(R"({"ociVersion":"1.0.2"})").value(), "");
  EXPECT_FALSE(imageFromOciConfig("nope"));
}

TEST(StateDirRuntime, ListsEntriesAndSkipsBadOnes) {
  const fs::path root = fs::temp_directory_path() / ("bulwark-state-" + std::to_string(::getpid()));
  fs::create_directories(root / "good");
  fs::create_directories(root / "bad");
  fs::create_directories(root / "empty");
  std::ofstream(root / "good" / "state.json") << testData("runc-state.json");
  std::ofstream(root / "bad" / "state.json") << "{not json";
  StateDirRuntime rt(root.string(), "runc", "ns/");
  auto list = rt.list();
  ASSERT_TRUE(list) << list.error().toString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "ns/t1");
  EXPECT_EQ((*list)[0].runtime, "runc");
  ASSERT_EQ(rt.problems().size(), 1u);
  EXPECT_NE(rt.problems()[0].find("bad/state.json"), std::string::npos);
  fs::remove_all(root);
  StateDirRuntime missing("/nonexistent/bulwark", "runc");
  auto none = missing.list();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(DockerEngine, ParsesContainerListAndInspect) {
  auto list = parseDockerContainerList(
      R"([{"Id":"4f1c2d3e4f5a6b7c8d9e","Names":["/web"],"Image":"nginx:1.25","State":"running",)"
      R"("ImageID":"sha256:5124aa8315d967b1fcac82229e4a879c57ca8a6d075fd9b708d27f53abf2fa9c"},)"
      R"({"Id":"aa11bb22cc33dd44","Names":[],"Image":"busybox","ImageID":"sha256:0123"}])");
  ASSERT_TRUE(list) << list.error().toString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "web");
  EXPECT_EQ((*list)[0].image, "nginx:1.25");
  EXPECT_EQ((*list)[0].runtime, "docker");
  EXPECT_EQ((*list)[0].image_digest,
            "sha256:5124aa8315d967b1fcac82229e4a879c57ca8a6d075fd9b708d27f53abf2fa9c");
  EXPECT_EQ((*list)[1].name, "aa11bb22cc33");
  EXPECT_EQ((*list)[1].image_digest, "");  // not a digest: not passed on as one
  for (const char* bad : {"{}", "[1]", R"([{"Names":["/x"]}])", R"([{"Id":""}])", "["}) {
    EXPECT_FALSE(parseDockerContainerList(bad)) << bad;
  }
  EXPECT_EQ(parseDockerInspectPid(R"({"State":{"Pid":1234,"Running":true}})").value(), 1234);
  EXPECT_EQ(parseDockerInspectPid(R"({"State":{"Pid":0}})").value(), 0);
  for (const char* bad :
       {"{}", R"({"State":{}})", R"({"State":{"Pid":-1}})", R"({"State":{"Pid":"1"}})"}) {
    EXPECT_FALSE(parseDockerInspectPid(bad)) << bad;
  }
}

TEST(DockerEngine, MissingSocketMeansNoDocker) {
  DockerEngineRuntime docker("/nonexistent/docker.sock");
  auto list = docker.list();
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

ContainerRef ref(std::string id, std::string name, std::string runtime, pid_t pid) {
  ContainerRef r;
  r.id = std::move(id);
  r.name = std::move(name);
  r.runtime = std::move(runtime);
  r.pid = pid;
  return r;
}

TEST(Selection, MergesByPidPrefersDockerAndMatches) {
  std::vector<ContainerRef> found = {
      ref("abcdef123456", "moby/abcdef123456", "runc", 10),  // Docker's runc state root
      ref("abcdef123456", "web", "docker", 10),
      ref("abd000", "k8s.io/abd000", "containerd", 20),
      ref("zzz", "zzz", "runc", 30),
  };
  std::vector<std::string> problems;
  auto all = selectContainers(found, {}, problems);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(problems.empty());
  auto web =
      std::find_if(all.begin(), all.end(), [](const ContainerRef& c) { return c.pid == 10; });
  ASSERT_NE(web, all.end());
  EXPECT_EQ(web->name, "web");
  auto chosen = selectContainers(found, {"web", "zzz", "abdf", "ab", "abd0", "missing"}, problems);
  std::vector<std::string> names;
  for (const auto& c : chosen) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"web", "zzz", "k8s.io/abd000"}));
  ASSERT_EQ(problems.size(), 3u);  // abdf not found, ab too short, missing
  EXPECT_NE(problems[0].find("'abdf': not found"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::agent
