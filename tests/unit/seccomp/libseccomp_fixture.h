// Test fixture: builds real seccomp filters with libseccomp itself
// (seccomp_init / seccomp_rule_add / seccomp_export_bpf), including Docker/OCI
// JSON profiles compiled the way moby + runc do, so the interpreter is checked
// against the BPF that container runtimes actually load.
#pragma once

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/bpf_program.h"
#include "attest/core/error.h"

namespace bulwark::agent::seccomp_test {

struct ScmpContext {
  explicit ScmpContext(std::uint32_t default_action) : ctx(seccomp_init(default_action)) {}
  ~ScmpContext() { seccomp_release(ctx); }
  ScmpContext(const ScmpContext&) = delete;
  ScmpContext& operator=(const ScmpContext&) = delete;
  scmp_filter_ctx ctx;
};

inline std::string sourceDir() {
  const char* d = std::getenv("BULWARK_SOURCE_DIR");
  return d != nullptr ? d : ".";
}

// seccomp_export_bpf() into a memfd, read back: the exact sock_filter bytes.
inline Result<Bytes> exportBpfBytes(scmp_filter_ctx ctx) {
  const int fd = memfd_create("bulwark-bpf", MFD_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::kIo, std::strerror(errno), "memfd_create");
  std::unique_ptr<int, void (*)(int*)> guard(new int(fd), [](int* p) {
    close(*p);
    delete p;
  });
  if (int rc = seccomp_export_bpf(ctx, fd); rc != 0) {
    return fail(ErrorCode::kInternal, std::strerror(-rc), "seccomp_export_bpf");
  }
  const off_t size = lseek(fd, 0, SEEK_END);
  Bytes out(static_cast<std::size_t>(size));
  if (pread(fd, out.data(), out.size(), 0) != static_cast<ssize_t>(out.size())) {
    return fail(ErrorCode::kIo, "short read", "memfd");
  }
  return out;
}

inline Result<BpfProgram> exportProgram(scmp_filter_ctx ctx) {
  auto bytes = exportBpfBytes(ctx);
  if (!bytes) return std::unexpected(bytes.error());
  return BpfProgram::fromBytes(*bytes);
}

// Restricts a context to `arches` (libseccomp names), dropping the native one
// when it is not listed.
inline Result<void> setArches(scmp_filter_ctx ctx, const std::vector<std::string>& arches) {
  bool keep_native = false;
  for (const std::string& a : arches) {
    const std::uint32_t token = seccomp_arch_resolve_name(a.c_str());
    if (token == 0) return fail(ErrorCode::kInvalidArgument, a, "unknown arch");
    if (token == seccomp_arch_native()) {
      keep_native = true;
      continue;
    }
    if (int rc = seccomp_arch_add(ctx, token); rc != 0 && rc != -EEXIST) {
      return fail(ErrorCode::kInternal, std::strerror(-rc), "seccomp_arch_add " + a);
    }
  }
  if (!keep_native) seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
  return {};
}

// What moby (profiles/seccomp/seccomp_linux.go) and runc (libcontainer/seccomp)
// decide from the host when they turn a JSON profile into rules.
struct DockerHost {
  std::string native_arch = "SCMP_ARCH_X86_64";  // archMap entry to use
  std::string go_arch = "amd64";                 // matched against includes/excludes.arches
  // Docker's default capability set (bounding).
  std::set<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  int kernel_major = 6;
  int kernel_minor = 1;
};

// One applied rule as the profile states it, for building expectations
// independently of the BPF.
struct AppliedRule {
  std::string action;  // libseccomp name, e.g. "SCMP_ACT_ERRNO(38)"
  bool has_args = false;
};

struct CompiledProfile {
  BpfProgram program;
  std::vector<std::string> arches;  // libseccomp names, native first
  std::string default_action;
  std::map<std::string, std::vector<AppliedRule>> rules;  // by syscall name
};

namespace detail {

inline std::string archName(std::string scmp) {  // SCMP_ARCH_X86_64 -> x86_64
  std::string s = scmp.substr(std::strlen("SCMP_ARCH_"));
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline bool contains(const nlohmann::json& list, const std::string& v) {
  if (!list.is_array()) return false;
  for (const auto& e : list) {
    if (e.is_string() && e.get<std::string>() == v) return true;
  }
  return false;
}

inline bool kernelAtLeast(const DockerHost& h, const std::string& v) {
  int major = 0, minor = 0;
  std::sscanf(v.c_str(), "%d.%d", &major, &minor);
  return h.kernel_major > major || (h.kernel_major == major && h.kernel_minor >= minor);
}

// moby's include/exclude filtering.
inline bool applies(const nlohmann::json& rule, const DockerHost& h) {
  if (auto ex = rule.find("excludes"); ex != rule.end() && ex->is_object()) {
    if (contains(ex->value("arches", nlohmann::json::array()), h.go_arch)) return false;
    for (const auto& c : ex->value("caps", nlohmann::json::array())) {
      if (h.caps.count(c.get<std::string>())) return false;
    }
    if (ex->contains("minKernel") && kernelAtLeast(h, (*ex)["minKernel"])) return false;
  }
  if (auto in = rule.find("includes"); in != rule.end() && in->is_object()) {
    auto arches = in->value("arches", nlohmann::json::array());
    if (!arches.empty() && !contains(arches, h.go_arch)) return false;
    for (const auto& c : in->value("caps", nlohmann::json::array())) {
      if (!h.caps.count(c.get<std::string>())) return false;
    }
    if (in->contains("minKernel") && !kernelAtLeast(h, (*in)["minKernel"])) return false;
  }
  return true;
}

inline std::uint32_t action(const std::string& name, int errno_ret, std::string* label) {
  if (name == "SCMP_ACT_ALLOW") return *label = name, SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return *label = name, SCMP_ACT_LOG;
  if (name == "SCMP_ACT_KILL_PROCESS") return *label = name, SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") {
    return *label = "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD;
  }
  if (name == "SCMP_ACT_TRAP") return *label = name, SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") {
    *label = "SCMP_ACT_ERRNO(" + std::to_string(errno_ret) + ")";
    return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(errno_ret));
  }
  *label = "unsupported " + name;
  return SCMP_ACT_KILL_PROCESS;
}

inline scmp_compare op(const std::string& s) {
  if (s == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (s == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (s == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (s == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (s == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (s == "SCMP_CMP_GT") return SCMP_CMP_GT;
  return SCMP_CMP_MASKED_EQ;
}

// runc: arguments on distinct indexes form one rule (AND); several on the same
// index become one rule per argument (OR).
inline std::vector<std::vector<scmp_arg_cmp>> argRules(const nlohmann::json& args) {
  std::vector<scmp_arg_cmp> all;
  std::map<unsigned, int> per_index;
  for (const auto& a : args) {
    scmp_arg_cmp c{};
    c.arg = a.value("index", 0u);
    c.op = op(a.value("op", std::string()));
    c.datum_a = a.value("value", std::uint64_t{0});
    c.datum_b = a.value("valueTwo", std::uint64_t{0});
    all.push_back(c);
    ++per_index[c.arg];
  }
  for (const auto& [index, n] : per_index) {
    if (n > 1) {
      std::vector<std::vector<scmp_arg_cmp>> out;
      for (const auto& c : all) out.push_back({c});
      return out;
    }
  }
  return {all};
}

}  // namespace detail

inline Result<CompiledProfile> compileDockerProfile(const std::string& path,
                                                    const DockerHost& host) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded()) return fail(ErrorCode::kMalformed, "bad JSON", path);
  const int default_errno = doc.value("defaultErrnoRet", 1);
  std::string default_label;
  const std::uint32_t def =
      detail::action(doc.value("defaultAction", std::string()), default_errno, &default_label);
  ScmpContext ctx(def);
  std::vector<std::string> arches;
  for (const auto& m : doc["archMap"]) {
    if (m["architecture"] != host.native_arch) continue;
    arches.push_back(detail::archName(m["architecture"]));
    if (m["subArchitectures"].is_array()) {
      for (const auto& s : m["subArchitectures"]) arches.push_back(detail::archName(s));
    }
  }
  if (auto ok = setArches(ctx.ctx, arches); !ok) return std::unexpected(ok.error());
  std::map<std::string, std::vector<AppliedRule>> applied;
  for (const auto& rule : doc["syscalls"]) {
    if (!detail::applies(rule, host)) continue;
    std::string label;
    const std::uint32_t act =
        detail::action(rule.value("action", std::string()), rule.value("errnoRet", 1), &label);
    if (act == def) continue;  // runc skips rules that repeat the default action
    const auto args = rule.value("args", nlohmann::json::array());
    for (const auto& n : rule["names"]) {
      const std::string name = n.get<std::string>();
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // runc ignores names libseccomp does not know
      for (const auto& conds : detail::argRules(args)) {
        const int rc = seccomp_rule_add_array(ctx.ctx, act, nr, static_cast<unsigned>(conds.size()),
                                              conds.empty() ? nullptr : conds.data());
        if (rc != 0) {
          return fail(ErrorCode::kInternal, std::strerror(-rc), "seccomp_rule_add " + name);
        }
      }
      applied[name].push_back(AppliedRule{label, !args.empty()});
    }
  }
  auto program = exportProgram(ctx.ctx);
  if (!program) return std::unexpected(program.error());
  return CompiledProfile{std::move(*program), arches, default_label, std::move(applied)};
}

}  // namespace bulwark::agent::seccomp_test
