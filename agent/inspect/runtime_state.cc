#include "agent/inspect/runtime_state.h"

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

#include "agent/inspect/json_fields.h"
#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::unexpected<Error> bad(std::string_view why) {
  return fail(ErrorCode::kMalformed, std::string(why), "runtime state");
}

Result<pid_t> pidField(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_integer()) return bad(strCat("'", key, "' missing"));
  const auto v = it->get<long long>();
  if (v <= 0 || v > 0x3fffffff) return bad(strCat("'", key, "' out of range"));
  return static_cast<pid_t>(v);
}

std::string bundleFromLabels(const json& config) {
  auto labels = config.find("labels");
  if (labels == config.end() || !labels->is_array()) return {};
  for (const json& l : *labels) {
    if (!l.is_string()) continue;
    const std::string& s = l.get_ref<const std::string&>();
    if (s.starts_with("bundle=")) return s.substr(7);
  }
  return {};
}

}  // namespace

Result<ContainerRef> parseRuntimeState(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  ContainerRef ref;
  if (auto id = doc.find("id"); id != doc.end() && id->is_string()) ref.id = id->get<std::string>();
  const bool is_runc = doc.contains("init_process_pid");
  auto pid = pidField(doc, is_runc ? "init_process_pid" : "pid");
  if (!pid) return std::unexpected(pid.error());
  ref.pid = *pid;
  if (is_runc) {
    if (auto st = doc.find("init_process_start"); st != doc.end() && st->is_number_unsigned()) {
      ref.start_time = st->get<std::uint64_t>();
    }
    if (auto cfg = doc.find("config"); cfg != doc.end() && cfg->is_object()) {
      ref.bundle = bundleFromLabels(*cfg);
    }
  } else if (auto b = doc.find("bundle"); b != doc.end() && b->is_string()) {
    ref.bundle = b->get<std::string>();
  }
  return ref;
}

Result<std::string> imageFromOciConfig(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("config.json is not a JSON object");
  auto ann = doc.find("annotations");
  if (ann == doc.end() || !ann->is_object()) return std::string();
  for (const char* key : {"io.kubernetes.cri.image-name", "org.opencontainers.image.ref.name",
                          "io.containerd.image.name", "nerdctl/image"}) {
    if (auto it = ann->find(key); it != ann->end() && it->is_string())
      return it->get<std::string>();
  }
  return std::string();
}

StateDirRuntime::StateDirRuntime(std::string root, std::string runtime, std::string name_prefix)
    : root_(std::move(root)), runtime_(std::move(runtime)), name_prefix_(std::move(name_prefix)) {}

Result<std::vector<ContainerRef>> StateDirRuntime::list() {
  problems_.clear();
  std::vector<ContainerRef> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string dir = entry.path().string();
    std::string path = dir + "/state.json";
    if (!fs::exists(path, ec)) path = dir + "/status";
    if (!fs::exists(path, ec)) continue;
    auto text = JsonFields::readText(path);
    auto ref =
        text ? parseRuntimeState(*text) : Result<ContainerRef>(std::unexpected(text.error()));
    if (!ref) {
      problems_.push_back(strCat(path, ": ", ref.error().message()));
      continue;
    }
    if (ref->id.empty()) ref->id = entry.path().filename().string();
    ref->name = name_prefix_ + ref->id;
    ref->runtime = runtime_;
    ref->state_path = path;
    if (!ref->bundle.empty()) {
      if (auto cfg = JsonFields::readText(ref->bundle + "/config.json")) {
        if (auto image = imageFromOciConfig(*cfg)) ref->image = *image;
      }
    }
    out.push_back(std::move(*ref));
  }
  if (ec) return fail(ErrorCode::kIo, ec.message(), root_);
  return out;
}

std::vector<std::unique_ptr<StateDirRuntime>> defaultStateRuntimes(
    const std::vector<std::string>& extra_roots, bool include_defaults) {
  std::vector<std::unique_ptr<StateDirRuntime>> out;
  if (include_defaults) {
    out.push_back(std::make_unique<StateDirRuntime>("/run/runc", "runc"));
    out.push_back(std::make_unique<StateDirRuntime>("/run/crun", "crun"));
    // Per-namespace roots: one directory per containerd namespace (moby, k8s.io, ...).
    for (const auto& [base, runtime] : {std::pair{"/run/containerd/runc", "containerd"},
                                        std::pair{"/run/docker/runtime-runc", "docker"}}) {
      std::error_code ec;
      if (!fs::is_directory(base, ec)) continue;
      for (const auto& ns : fs::directory_iterator(base, ec)) {
        if (!ns.is_directory(ec)) continue;
        const std::string nsname = ns.path().filename().string();
        out.push_back(std::make_unique<StateDirRuntime>(ns.path().string(), runtime, nsname + "/"));
      }
    }
  }
  for (const std::string& spec : extra_roots) {
    const std::size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      out.push_back(std::make_unique<StateDirRuntime>(spec, "runc"));
    } else {
      out.push_back(std::make_unique<StateDirRuntime>(spec.substr(eq + 1), spec.substr(0, eq)));
    }
  }
  return out;
}

}  // namespace bulwark::agent
