// The measurement engine against a real dockerd (tests/support/dockerd.h): the
// image of a running container is measured by its digest (Docker Engine API over
// the unix socket), once per boot however many containers run it; the runtime
// binaries (dockerd, containerd, containerd-shim-runc-v2, runc) are found by the
// /proc scan and hashed on disk and through /proc/PID/exe; starting a container
// triggers the change callback (runc state directory); the CLI lists the digest.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "agent/config/agent_config.h"
#include "agent/measure/docker_image_source.h"
#include "agent/measure/measure_setup.h"
#include "tests/support/dockerd.h"
#include "tests/support/suite_resource.h"

namespace bulwark::agent {
namespace {

using bulwark::testing::Dockerd;

class SoftPcr final : public attest::PcrExtender {
 public:
  Result<void> extend(std::uint32_t, const std::vector<std::pair<HashAlg, Bytes>>&) override {
    ++extends;
    return {};
  }
  int extends = 0;
};

class MeasureDocker : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dockerd_.start(Dockerd::start());
    if (!dockerd_) return;
    auto id = dockerd_->importBusybox("bulwark-busybox:measure");
    if (id) {
      image_id_ = *id;
    } else {
      dockerd_.fail(id.error().toString());
    }
  }
  static void TearDownTestSuite() { dockerd_.stop(); }
  void SetUp() override { ASSERT_TRUE(dockerd_) << "dockerd harness failed: " << dockerd_.error(); }
  void TearDown() override {
    if (dockerd_) dockerd_->removeAllContainers();
  }

  static void runContainer(const std::string& name) {
    auto r = dockerd_->docker("run -d --network none --name " + name +
                              " bulwark-busybox:measure sleep 1000");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  AgentConfig config() const {
    AgentConfig c;
    c.measure.systemd = false;
    c.measure.docker_socket = dockerd_->socket();
    c.measure.oci_state_roots = {dockerd_->execRoot() + "/runtime-runc"};
    c.measure.containerd_task_roots = {dockerd_->containerdTaskRoot()};
    c.measure.log = dockerd_->dir() + "/measure.log";
    return c;
  }
  // Images only. The /proc scan for runtime binaries also sees the dockerd/containerd
  // processes of suites ctest runs alongside (their starts and exits would show up as
  // changes and notes); RuntimeBinariesAndProcessesAreMeasured turns it back on.
  MeasureOptions options() const {
    MeasureOptions o = measureOptionsFrom(config());
    o.host = false;
    o.runtime_binaries.clear();
    return o;
  }

  static inline testing::SuiteResource<Dockerd> dockerd_;
  static inline std::string image_id_;
};

std::vector<const Measurement*> ofKind(const CycleReport& r, std::string_view kind) {
  std::vector<const Measurement*> out;
  for (const auto& m : r.measurements) {
    if (m.kind == kind) out.push_back(&m);
  }
  return out;
}

TEST_F(MeasureDocker, RunningContainerImageIsMeasuredOncePerDigest) {
  runContainer("web");
  runContainer("db");
  auto stack = buildMeasureStack(config(), nullptr, options());
  ASSERT_TRUE(stack.has_value()) << stack.error().toString();
  auto r = (*stack)->engine->runCycle();
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  auto images = ofKind(*r, kKindImage);
  ASSERT_EQ(images.size(), 1u) << "two containers, one image";
  EXPECT_EQ(images[0]->subject, image_id_);
  EXPECT_EQ("sha256:" + toHex(images[0]->sha256), image_id_);
  EXPECT_EQ(images[0]->attributes.at("containers"), "docker:db,docker:web");
  EXPECT_EQ(images[0]->attributes.at("refs"), "bulwark-busybox:measure");
  EXPECT_TRUE(ofKind(*r, kKindOciBundle).empty()) << "runc state of Docker containers dedups by id";
  for (const auto& n : r->notes) ADD_FAILURE() << "unexpected note: " << n;
}

TEST_F(MeasureDocker, RuntimeBinariesAndProcessesAreMeasured) {
  runContainer("rt");
  MeasureOptions o = options();
  o.runtime_binaries = measureOptionsFrom(config()).runtime_binaries;
  auto stack = buildMeasureStack(config(), nullptr, o);
  ASSERT_TRUE(stack.has_value());
  auto r = (*stack)->engine->runCycle();
  ASSERT_TRUE(r.has_value());
  std::map<std::string, const Measurement*> procs, bins;
  for (const auto* m : ofKind(*r, kKindRuntimeProcess)) procs[m->subject] = m;
  for (const auto* m : ofKind(*r, kKindRuntimeBinary)) bins[m->subject] = m;
  for (const char* exe :
       {"/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2"}) {
    ASSERT_TRUE(procs.count(exe)) << exe << " not found by the /proc scan";
    ASSERT_TRUE(bins.count(exe)) << exe;
    EXPECT_EQ(procs[exe]->sha256, bins[exe]->sha256) << exe;
    EXPECT_EQ(procs[exe]->attributes.count("mismatch"), 0u) << exe;
  }
  EXPECT_NE(procs["/usr/sbin/dockerd"]->attributes.at("pids").find(std::to_string(dockerd_->pid())),
            std::string::npos);
}

TEST_F(MeasureDocker, ContainerRestartsDoNotGrowTheLog) {
  SoftPcr pcr;
  DockerImageSource docker(dockerd_->socket());
  MeasureDeps deps;
  deps.extender = &pcr;
  deps.image_sources = {&docker};
  auto o = options();
  o.log_path = dockerd_->dir() + "/restart.log";
  auto engine = MeasurementEngine::create(o, deps);
  ASSERT_TRUE(engine.has_value()) << engine.error().toString();
  runContainer("one");
  auto first = (*engine)->runCycle();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(pcr.extends, 1);
  ASSERT_EQ(dockerd_->docker("rm -f one").exit_code, 0);
  runContainer("two");  // same image, new container
  auto second = (*engine)->runCycle();
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->extended) << "a known image digest is not logged again";
  EXPECT_EQ(pcr.extends, 1);
}

TEST_F(MeasureDocker, ContainerStartTriggersTheChangeCallback) {
  auto o = options();
  o.debounce_ms = 100;
  auto stack = buildMeasureStack(config(), nullptr, o);
  ASSERT_TRUE(stack.has_value());
  runContainer("first");  // makes the runc state root exist before the watch
  ASSERT_TRUE((*stack)->engine->runCycle().has_value());
  std::mutex mu;
  std::condition_variable cv;
  std::string reason;
  ASSERT_TRUE((*stack)
                  ->engine
                  ->startWatching([&](std::string_view why) {
                    std::lock_guard lock(mu);
                    if (reason.empty()) reason = why;
                    cv.notify_all();
                  })
                  .has_value());
  auto started = std::chrono::steady_clock::now();
  runContainer("second");
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return !reason.empty(); }))
      << "no trigger after docker run";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started);
  // runc state or containerd task dir, whichever inotify reports first.
  EXPECT_NE(reason.find(dockerd_->execRoot()), std::string::npos) << reason;
  std::printf("container start → trigger: %lld ms (includes docker run)\n",
              static_cast<long long>(ms.count()));
}

TEST_F(MeasureDocker, CliListsTheImageDigest) {
  runContainer("cli");
  std::string cfg = dockerd_->dir() + "/agent.yaml";
  {
    std::ofstream out(cfg);
    out << "measure:\n  systemd: false\n  docker_socket: " << dockerd_->socket()
        << "\n  oci_state_roots: [" << dockerd_->execRoot() << "/runtime-runc]\n";
  }
  const char* bin = std::getenv("BULWARK_BINARY_DIR");
  ASSERT_NE(bin, nullptr);
  auto r = bulwark::testing::runCommand(
      std::string(bin) + "/bin/bulwark-agent measure --json --config " + cfg + " 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  bool found = false;
  for (const auto& m : j["measurements"]) {
    if (m["kind"] == "image" && m["subject"] == image_id_) found = true;
  }
  EXPECT_TRUE(found) << r.output;
  EXPECT_EQ(j["extended"], false);
}

}  // namespace
}  // namespace bulwark::agent
