#include "tests/support/runc.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

extern char** environ;

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string findExecutable(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"}) {
    const std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

json baseMounts(const RuncSpec& spec) {
  json mounts = json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/sys"},
       {"type", "sysfs"},
       {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
  });
  if (!contains(spec.host_namespaces, "ipc")) {
    mounts.push_back({{"destination", "/dev/mqueue"},
                      {"type", "mqueue"},
                      {"source", "mqueue"},
                      {"options", {"nosuid", "noexec", "nodev"}}});
  }
  for (const RuncMount& m : spec.mounts) {
    json opts = {"rbind"};
    opts.push_back(m.read_only ? "ro" : "rw");
    mounts.push_back({{"destination", m.destination},
                      {"type", "bind"},
                      {"source", m.source},
                      {"options", opts}});
  }
  return mounts;
}

json linuxSection(const RuncSpec& spec) {
  json namespaces = json::array();
  for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    if (!contains(spec.host_namespaces, ns)) namespaces.push_back({{"type", ns}});
  }
  json resources = {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}};
  if (spec.memory_limit) resources["memory"] = {{"limit", *spec.memory_limit}};
  if (spec.pids_limit) resources["pids"] = {{"limit", *spec.pids_limit}};
  json linux = {{"namespaces", namespaces},
                {"resources", resources},
                {"maskedPaths", {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"}},
                {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"}}};
  if (spec.user_namespace) {
    linux["namespaces"].push_back({{"type", "user"}});
    const json mapping = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
    linux["uidMappings"] = mapping;
    linux["gidMappings"] = mapping;
  }
  if (!spec.seccomp.is_null()) linux["seccomp"] = spec.seccomp;
  return linux;
}

std::pair<int, int> kernelVersion() {
  utsname u{};
  ::uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  return {major, minor};
}

bool kernelAtLeast(const std::string& v) {
  int major = 0, minor = 0;
  std::sscanf(v.c_str(), "%d.%d", &major, &minor);
  const auto [kmaj, kmin] = kernelVersion();
  return kmaj > major || (kmaj == major && kmin >= minor);
}

// moby's include/exclude filter for x86_64 ("amd64") and `caps`.
bool applies(const json& rule, const std::set<std::string>& caps) {
  auto listHas = [](const json& o, const char* key, const std::string& v) {
    if (!o.contains(key) || !o[key].is_array()) return false;
    return std::any_of(o[key].begin(), o[key].end(), [&](const json& e) { return e == v; });
  };
  if (rule.contains("excludes") && rule["excludes"].is_object()) {
    const json& ex = rule["excludes"];
    if (listHas(ex, "arches", "amd64")) return false;
    for (const auto& c : ex.value("caps", json::array())) {
      if (caps.count(c.get<std::string>())) return false;
    }
    if (ex.contains("minKernel") && kernelAtLeast(ex["minKernel"])) return false;
  }
  if (rule.contains("includes") && rule["includes"].is_object()) {
    const json& in = rule["includes"];
    if (in.contains("arches") && !in["arches"].empty() && !listHas(in, "arches", "amd64"))
      return false;
    for (const auto& c : in.value("caps", json::array())) {
      if (!caps.count(c.get<std::string>())) return false;
    }
    if (in.contains("minKernel") && !kernelAtLeast(in["minKernel"])) return false;
  }
  return true;
}

}  // namespace

ExecResult execCapture(const std::vector<std::string>& argv) {
  ExecResult out;
  char err_path[] = "/tmp/bulwark-exec-XXXXXX";
  const int err_fd = ::mkstemp(err_path);
  if (err_fd < 0) return out;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc == 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ::close(err_fd);
  std::ifstream in(err_path);
  std::stringstream s;
  s << in.rdbuf();
  out.stderr_text = s.str();
  ::unlink(err_path);
  return out;
}

Result<std::unique_ptr<RuncHarness>> RuncHarness::create() {
  if (::geteuid() != 0)
    return fail(ErrorCode::kUnavailable, "runc tests need root", "runc harness");
  const std::string runc = findExecutable("runc");
  const std::string busybox = findExecutable("busybox");
  if (runc.empty() || busybox.empty()) {
    return fail(ErrorCode::kUnavailable,
                "runc or busybox (busybox-static) not installed; run scripts/deps.sh",
                "runc harness");
  }
  std::unique_ptr<RuncHarness> h(new RuncHarness());
  char tmpl[] = "/tmp/bulwark-runc-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return fail(ErrorCode::kIo, "mkdtemp failed", "runc harness");
  h->dir_ = tmpl;
  // mkdtemp makes it 0700; a user-namespaced container's root (uid 100000)
  // must be able to reach its rootfs below it.
  ::chmod(tmpl, 0755);
  h->state_root_ = h->dir_ + "/state";
  h->rootfs_template_ = h->dir_ + "/rootfs-template";
  std::error_code ec;
  for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "etc", "var/run"}) {
    fs::create_directories(h->rootfs_template_ + "/" + d, ec);
  }
  fs::create_directories(h->state_root_, ec);
  fs::copy_file(busybox, h->rootfs_template_ + "/bin/busybox", ec);
  if (ec) return fail(ErrorCode::kIo, ec.message(), "copy busybox");
  for (const char* link : {"sh", "sleep", "cat"}) {
    fs::create_symlink("busybox", h->rootfs_template_ + "/bin/" + link, ec);
  }
  return h;
}

RuncHarness::~RuncHarness() {
  // remove() erases from started_: never iterate it while removing.
  while (!started_.empty()) remove(std::string(started_.back()));
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Result<void> RuncHarness::runRunc(const std::vector<std::string>& args, std::string* output) const {
  std::vector<std::string> argv = {findExecutable("runc"), "--root", state_root_};
  argv.insert(argv.end(), args.begin(), args.end());
  const ExecResult r = execCapture(argv);
  if (output != nullptr) *output = r.stderr_text;
  if (r.exit_code != 0) {
    return fail(
        ErrorCode::kIo,
        "runc " + args.front() + " exited " + std::to_string(r.exit_code) + ": " + r.stderr_text,
        "runc");
  }
  return {};
}

json RuncHarness::ociConfig(const RuncSpec& spec) const {
  json caps = spec.capabilities;
  json process = {{"terminal", false},
                  {"user", {{"uid", spec.uid}, {"gid", spec.uid}}},
                  {"args", spec.args},
                  {"env", {"PATH=/bin", "HOME=/tmp"}},
                  {"cwd", "/"},
                  {"capabilities",
                   {{"bounding", caps},
                    {"effective", caps},
                    {"permitted", caps},
                    {"inheritable", json::array()},
                    {"ambient", json::array()}}},
                  {"noNewPrivileges", spec.no_new_privileges}};
  json config = {{"ociVersion", "1.0.2"},
                 {"process", process},
                 {"root", {{"path", "rootfs"}, {"readonly", spec.readonly_rootfs}}},
                 {"mounts", baseMounts(spec)},
                 {"linux", linuxSection(spec)}};
  if (!contains(spec.host_namespaces, "uts")) config["hostname"] = "bulwark-test";
  return config;
}

Result<RuncContainer> RuncHarness::run(const std::string& id, const RuncSpec& spec) {
  RuncContainer c;
  c.id = id;
  c.bundle = dir_ + "/bundles/" + id;
  std::error_code ec;
  fs::create_directories(c.bundle, ec);
  fs::copy(rootfs_template_, c.bundle + "/rootfs",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) return fail(ErrorCode::kIo, ec.message(), "copy rootfs");
  for (const RuncMount& m : spec.mounts) {
    // runc creates missing mount points, but not file ones on a read-only root.
    const fs::path target = c.bundle + "/rootfs" + m.destination;
    fs::create_directories(target.parent_path(), ec);
    if (!fs::is_directory(m.source)) std::ofstream(target.string()).flush();
  }
  std::ofstream(c.bundle + "/config.json") << ociConfig(spec).dump(1);
  started_.push_back(id);
  if (auto ok = runRunc({"create", "--bundle", c.bundle, id}, nullptr); !ok)
    return std::unexpected(ok.error());
  if (auto ok = runRunc({"start", id}, nullptr); !ok) return std::unexpected(ok.error());
  std::ifstream state(state_root_ + "/" + id + "/state.json");
  json st = json::parse(state, nullptr, false);
  if (st.is_discarded() || !st.contains("init_process_pid")) {
    return fail(ErrorCode::kIo, "no state.json after start", id);
  }
  c.pid = st["init_process_pid"].get<pid_t>();
  return c;
}

void RuncHarness::remove(const std::string& id) {
  (void)runRunc({"kill", id, "KILL"}, nullptr);
  for (int i = 0; i < 50; ++i) {
    if (runRunc({"delete", "--force", id}, nullptr)) break;
    ::usleep(20000);
  }
  std::error_code ec;
  fs::remove_all(dir_ + "/bundles/" + id, ec);
  started_.erase(std::remove(started_.begin(), started_.end(), id), started_.end());
}

Result<json> dockerSeccompProfile(const std::string& moby_json_path,
                                  const std::vector<std::string>& caps,
                                  const std::vector<std::string>& also_allow) {
  std::ifstream in(moby_json_path);
  json moby = json::parse(in, nullptr, false);
  if (moby.is_discarded() || !moby.is_object()) {
    return fail(ErrorCode::kMalformed, "not a JSON object", moby_json_path);
  }
  const std::set<std::string> cap_set(caps.begin(), caps.end());
  json syscalls = json::array();
  for (const json& rule : moby.value("syscalls", json::array())) {
    if (!applies(rule, cap_set)) continue;
    json r = {{"names", rule["names"]}, {"action", rule["action"]}};
    if (rule.contains("args") && rule["args"].is_array() && !rule["args"].empty())
      r["args"] = rule["args"];
    if (rule.contains("errnoRet")) r["errnoRet"] = rule["errnoRet"];
    syscalls.push_back(std::move(r));
  }
  if (!also_allow.empty())
    syscalls.push_back({{"names", also_allow}, {"action", "SCMP_ACT_ALLOW"}});
  json oci = {{"defaultAction", moby.value("defaultAction", "SCMP_ACT_ERRNO")},
              {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
              {"syscalls", syscalls}};
  if (moby.contains("defaultErrnoRet")) oci["defaultErrnoRet"] = moby["defaultErrnoRet"];
  return oci;
}

}  // namespace bulwark::testing
