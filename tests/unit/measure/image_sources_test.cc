// Image identities: Docker Engine API answers, runc/crun state, bundle
// annotations, and the image collection's dedup and set rules.
#include <gtest/gtest.h>

#include <cstdlib>

#include "agent/measure/docker_image_source.h"
#include "agent/measure/image_collector.h"
#include "agent/measure/oci_state_image_source.h"
#include "tests/unit/measure/measure_test_util.h"

namespace bulwark::agent {
namespace {

const std::string kImg = "sha256:" + std::string(64, 'a');

TEST(DockerJson, ContainerList) {
  // Shape of GET /containers/json (Docker Engine API v1.41).
  auto list = parseDockerContainers(R"([{"Id":"abc","Names":["/web"],"Image":"busybox:latest",
      "ImageID":")" + kImg + R"(","State":"running","Labels":{}},
      {"Id":"def","Names":null,"Image":"x","ImageID":")" +
                                    kImg + R"(","State":"exited"}])");
  ASSERT_TRUE(list.has_value()) << list.error().toString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "web");
  EXPECT_EQ((*list)[0].image_id, kImg);
  EXPECT_EQ((*list)[1].name, "");
  EXPECT_EQ((*list)[1].state, "exited");
}

TEST(DockerJson, RejectsWrongShapes) {
  const char* bad[] = {"",
                       "{}",
                       "[1]",
                       R"([{"Names":["/x"]}])",
                       R"([{"Id":5}])",
                       R"([{"Id":"a","Names":"web"}])",
                       R"([{"Id":"a","Names":[1]}])",
                       "[{"};
  for (const char* b : bad) {
    auto r = parseDockerContainers(b);
    ASSERT_FALSE(r.has_value()) << b;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  }
  EXPECT_FALSE(parseDockerImage(R"({"RepoTags":[]})").has_value());
  EXPECT_FALSE(parseDockerImage(R"({"Id":"x","RepoDigests":"y"})").has_value());
}

TEST(DockerJson, Image) {
  auto img = parseDockerImage(R"({"Id":")" + kImg + R"(","RepoTags":["busybox:latest"],
      "RepoDigests":["busybox@sha256:)" +
                              std::string(64, 'b') + R"("],"Size":1})");
  ASSERT_TRUE(img.has_value());
  EXPECT_EQ(img->id, kImg);
  ASSERT_EQ(img->repo_digests.size(), 1u);
}

TEST(OciState, RuncAndCrunForms) {
  auto runc = parseOciState(R"({"id":"c1","init_process_pid":42,
      "config":{"labels":["bundle=/run/b/c1","other=x"]}})");
  ASSERT_TRUE(runc.has_value()) << runc.error().toString();
  EXPECT_EQ(runc->id, "c1");
  EXPECT_EQ(runc->pid, 42);
  EXPECT_EQ(runc->bundle, "/run/b/c1");
  auto crun = parseOciState(R"({"pid":7,"bundle":"/b/c2","rootfs":"/b/c2/rootfs"})");
  ASSERT_TRUE(crun.has_value());
  EXPECT_EQ(crun->pid, 7);
  EXPECT_EQ(crun->bundle, "/b/c2");
  for (const char* bad : {"[]", "{}", R"({"config":{"labels":"bundle=/x"}})", "not json"}) {
    EXPECT_FALSE(parseOciState(bad).has_value()) << bad;
  }
}

TEST(OciState, AnnotationsGiveTheImage) {
  auto a = parseBundleAnnotations(R"({"ociVersion":"1.0.2","annotations":{
      "io.kubernetes.cri.image-name":"registry.example/app:1",
      "io.kubernetes.cri-o.ImageRef":")" +
                                  kImg + R"(","n":5}})");
  ASSERT_TRUE(a.has_value());
  RunningContainer c;
  c.annotations = *a;
  imageFromAnnotations(c);
  EXPECT_EQ(c.image_digest, kImg);
  EXPECT_EQ(c.image_ref, "registry.example/app:1");
  EXPECT_FALSE(parseBundleAnnotations(R"({"annotations":[]})").has_value());
  auto none = parseBundleAnnotations(R"({"ociVersion":"1.0.2"})");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(OciState, SourceReadsStateDirsAndNotesVanishedContainers) {
  testutil::TempDir root;
  std::string self = std::to_string(::getpid());
  // runc layout with a namespace level, a live container and a stopped one.
  testutil::writeText(root / "runc/moby/live/state.json",
                      R"({"id":"live","init_process_pid":)" + self +
                          R"(,"config":{"labels":["bundle=)" + (root / "bundles/live") + R"("]}})");
  testutil::writeText(root / "bundles/live/config.json", R"({"annotations":{"a":"b"}})");
  testutil::writeText(
      root / "runc/moby/dead/state.json",
      R"({"id":"dead","init_process_pid":999999,"config":{"labels":["bundle=/x"]}})");
  testutil::writeText(root / "runc/moby/broken/state.json", "{");
  // containerd task layout.
  testutil::writeText(root / "task/k8s.io/t1/config.json", R"({"annotations":{}})");
  testutil::writeText(root / "task/k8s.io/t1/init.pid", self);
  OciStateImageSource source(OciStateOptions{{root / "runc"}, {root / "task"}, "/proc"});
  auto listing = source.listRunning();
  ASSERT_TRUE(listing.has_value());
  ASSERT_EQ(listing->containers.size(), 2u);
  EXPECT_EQ(listing->containers[0].id, "live");
  EXPECT_EQ(listing->containers[0].source, "runc");
  EXPECT_EQ(listing->containers[0].annotations.at("a"), "b");
  EXPECT_EQ(listing->containers[1].id, "t1");
  EXPECT_EQ(listing->containers[1].source, "containerd");
  std::string notes;
  for (const auto& n : listing->notes) notes += n + "\n";
  EXPECT_NE(notes.find("dead: init process 999999 no longer exists"), std::string::npos) << notes;
  EXPECT_NE(notes.find("broken/state.json"), std::string::npos) << notes;
  auto watch = source.watchDirectories();
  EXPECT_NE(std::find(watch.begin(), watch.end(), root / "runc/moby"), watch.end());
  EXPECT_NE(std::find(watch.begin(), watch.end(), root / "task/k8s.io"), watch.end());
}

TEST(ImageCollection, OneValuePerDigestAndBundlesReportOnly) {
  std::string other = "sha256:" + std::string(64, 'c');
  std::vector<RunningContainer> cs(5);
  cs[0] = {"docker", "id1", "web", 0, kImg, "busybox:latest", {"busybox@sha256:bb"}, "", "", {}};
  cs[1] = {"docker", "id2", "db", 0, kImg, "busybox:1", {}, "", "", {}};
  cs[2] = {"runc", "id1", "", 0, "", "", {}, "/b/id1", "/b/id1/config.json",
           {}};  // same as docker id1
  cs[3] = {"runc", "id3", "", 0, "", "", {}, "/b/id3", "/b/id3/config.json", {{"k", "v"}}};
  cs[4] = {"runc", "id4", "", 0, "not-a-digest", "", {}, "", "", {}};
  Collection c = imageCollection(cs);
  ASSERT_EQ(c.direct.size(), 1u);
  const Measurement& img = c.direct[0];
  EXPECT_EQ(img.kind, kKindImage);
  EXPECT_EQ(img.subject, kImg);
  EXPECT_EQ(toHex(img.sha256), std::string(64, 'a'));
  EXPECT_EQ(img.attributes.at("containers"), "docker:db,docker:web");
  EXPECT_EQ(img.attributes.at("refs"), "busybox:1,busybox:latest");
  ASSERT_EQ(c.files.size(), 1u);
  EXPECT_EQ(c.files[0].kind, kKindOciBundle);
  EXPECT_EQ(c.files[0].subject, "runc:id3");
  EXPECT_FALSE(c.files[0].extend);
  EXPECT_EQ(c.files[0].attributes.at("annotation:k"), "v");
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_NE(c.notes[0].find("not-a-digest"), std::string::npos);
  EXPECT_FALSE(parseImageDigest(other.substr(0, 70)).has_value());
  EXPECT_FALSE(parseImageDigest("sha256:" + std::string(64, 'A')).has_value());
}

}  // namespace
}  // namespace bulwark::agent

namespace bulwark::agent {
namespace {

// Answers captured from a real dockerd/runc (tests/testdata/images/README.md).
std::string testdata(const std::string& name) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  if (!src) return {};
  auto bytes = readFile(std::string(src) + "/tests/testdata/images/" + name);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

constexpr const char* kCapturedId =
    "649d7bd32c2808ad4de44cc0f4895cae6c267c55981bc327db3df3253a1d0ef5";
constexpr const char* kCapturedImage =
    "sha256:08faee3ca0eb6d6e3dd729b645782e0dd471b781c353778692004b01b48fb2de";

TEST(CapturedRuntimeAnswers, DockerEngineApi) {
  std::string list = testdata("docker_containers.json");
  ASSERT_FALSE(list.empty()) << "BULWARK_SOURCE_DIR must point at the source tree";
  auto containers = parseDockerContainers(list);
  ASSERT_TRUE(containers.has_value()) << containers.error().toString();
  ASSERT_EQ(containers->size(), 1u);
  EXPECT_EQ((*containers)[0].id, kCapturedId);
  EXPECT_EQ((*containers)[0].name, "web");
  EXPECT_EQ((*containers)[0].image, "bulwark-busybox:testdata");
  EXPECT_EQ((*containers)[0].image_id, kCapturedImage);
  EXPECT_EQ((*containers)[0].state, "running");
  auto image = parseDockerImage(testdata("docker_image.json"));
  ASSERT_TRUE(image.has_value()) << image.error().toString();
  EXPECT_EQ(image->id, kCapturedImage);
  EXPECT_EQ(image->repo_tags, std::vector<std::string>{"bulwark-busybox:testdata"});
  EXPECT_TRUE(image->repo_digests.empty()) << "docker import: no registry digest";
}

TEST(CapturedRuntimeAnswers, RuncStateAndBundle) {
  auto state = parseOciState(testdata("runc_state.json"));
  ASSERT_TRUE(state.has_value()) << state.error().toString();
  EXPECT_EQ(state->id, kCapturedId);
  EXPECT_EQ(state->pid, 20249);
  EXPECT_EQ(state->bundle, std::string("/tmp/bwd-cap-nLm2yy/exec/containerd/daemon/"
                                       "io.containerd.runtime.v2.task/moby/") +
                               kCapturedId);
  auto annotations = parseBundleAnnotations(testdata("bundle_config.json"));
  ASSERT_TRUE(annotations.has_value()) << annotations.error().toString();
  EXPECT_TRUE(annotations->empty()) << "Docker 20.10 writes no image annotations";
}

}  // namespace
}  // namespace bulwark::agent
