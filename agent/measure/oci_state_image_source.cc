#include "agent/measure/oci_state_image_source.h"

#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "attest/core/bytes.h"

namespace bulwark::agent {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kMaxStateBytes = 4u << 20;

std::optional<std::string> readSmall(const std::string& path) {
  auto bytes = readFile(path, kMaxStateBytes);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code sec;
    if (e.is_directory(sec) && !e.is_symlink(sec)) out.push_back(e.path().string());
  }
  return out;
}

std::string sourceFor(const std::string& root) {
  if (root.find("crun") != std::string::npos) return "crun";
  return "runc";
}

std::string stateFile(const std::string& dir) {
  if (exists(dir + "/state.json")) return dir + "/state.json";
  if (exists(dir + "/status")) return dir + "/status";
  return {};
}

std::string stringAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<OciState> parseOciState(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(ErrorCode::kMalformed, "state is not a JSON object");
  OciState s;
  s.id = stringAt(j, "id");
  s.bundle = stringAt(j, "bundle");  // crun
  for (const char* key : {"init_process_pid", "pid"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_number_unsigned() && it->get<std::uint64_t>() < (1u << 22)) {
      s.pid = static_cast<pid_t>(it->get<std::uint64_t>());
    }
  }
  auto config = j.find("config");
  if (s.bundle.empty() && config != j.end() && config->is_object()) {
    auto labels = config->find("labels");
    if (labels != config->end() && labels->is_array()) {
      for (const auto& l : *labels) {
        if (l.is_string() && l.get<std::string>().starts_with("bundle=")) {
          s.bundle = l.get<std::string>().substr(7);
        }
      }
    }
  }
  if (s.bundle.empty()) return fail(ErrorCode::kMalformed, "state names no bundle");
  return s;
}

Result<std::map<std::string, std::string>> parseBundleAnnotations(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(ErrorCode::kMalformed, "config.json is not a JSON object");
  }
  std::map<std::string, std::string> out;
  auto a = j.find("annotations");
  if (a == j.end()) return out;
  if (!a->is_object())
    return fail(ErrorCode::kMalformed, "config.json annotations is not an object");
  for (const auto& [k, v] : a->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

void imageFromAnnotations(RunningContainer& c) {
  for (const char* key : {"io.kubernetes.cri-o.ImageRef", "io.kubernetes.cri.image-id"}) {
    auto it = c.annotations.find(key);
    if (it != c.annotations.end() && c.image_digest.empty()) c.image_digest = it->second;
  }
  for (const char* key : {"io.kubernetes.cri-o.ImageName", "io.kubernetes.cri.image-name",
                          "org.opencontainers.image.ref.name"}) {
    auto it = c.annotations.find(key);
    if (it != c.annotations.end() && c.image_ref.empty()) c.image_ref = it->second;
  }
}

void OciStateImageSource::addContainer(RunningContainer c, ContainerListing& out) {
  std::string label = c.source + " container " + c.id;
  if (c.pid > 0 && !exists(options_.proc_root + "/" + std::to_string(c.pid))) {
    out.notes.push_back(label + ": init process " + std::to_string(c.pid) +
                        " no longer exists (stopped); skipped");
    return;
  }
  c.config_path = c.bundle + "/config.json";
  if (auto text = readSmall(c.config_path)) {
    auto annotations = parseBundleAnnotations(*text);
    if (annotations) {
      c.annotations = std::move(*annotations);
      imageFromAnnotations(c);
    } else {
      out.notes.push_back(label + ": " + annotations.error().toString());
    }
  } else {
    out.notes.push_back(label + ": bundle config " + c.config_path + " not readable (vanished?)");
    c.config_path.clear();
  }
  out.containers.push_back(std::move(c));
}

void OciStateImageSource::readStateDir(const std::string& dir, const std::string& source,
                                       ContainerListing& out) {
  std::string file = stateFile(dir);
  if (file.empty()) return;
  auto text = readSmall(file);
  if (!text) {
    out.notes.push_back(source + " state " + file + " vanished or is unreadable; skipped");
    return;
  }
  auto state = parseOciState(*text);
  if (!state) {
    out.notes.push_back(source + " state " + file + ": " + state.error().message());
    return;
  }
  RunningContainer c;
  c.source = source;
  c.id = state->id.empty() ? fs::path(dir).filename().string() : state->id;
  c.pid = state->pid;
  c.bundle = state->bundle;
  addContainer(std::move(c), out);
}

void OciStateImageSource::readTaskDir(const std::string& dir, ContainerListing& out) {
  if (!exists(dir + "/config.json")) return;
  RunningContainer c;
  c.source = "containerd";
  c.id = fs::path(dir).filename().string();
  c.bundle = dir;
  if (auto pid = readSmall(dir + "/init.pid")) {
    int v = 0;
    auto [p, ec] = std::from_chars(pid->data(), pid->data() + pid->size(), v);
    if (ec == std::errc() && v > 0) c.pid = v;
  }
  addContainer(std::move(c), out);
}

Result<ContainerListing> OciStateImageSource::listRunning() {
  ContainerListing out;
  for (const auto& root : options_.state_roots) {
    for (const auto& d : subdirs(root)) {
      if (!stateFile(d).empty()) {
        readStateDir(d, sourceFor(root), out);
        continue;
      }
      for (const auto& inner : subdirs(d)) readStateDir(inner, sourceFor(root), out);
    }
  }
  for (const auto& root : options_.task_roots) {
    for (const auto& ns : subdirs(root)) {
      for (const auto& d : subdirs(ns)) readTaskDir(d, out);
    }
  }
  return out;
}

std::vector<std::string> OciStateImageSource::watchDirectories() const {
  std::vector<std::string> out;
  for (const auto& root : options_.state_roots) {
    if (!exists(root)) continue;
    out.push_back(root);
    for (const auto& d : subdirs(root)) {
      if (stateFile(d).empty()) out.push_back(d);  // a namespace level
    }
  }
  for (const auto& root : options_.task_roots) {
    if (!exists(root)) continue;
    out.push_back(root);
    for (const auto& ns : subdirs(root)) out.push_back(ns);
  }
  return out;
}

}  // namespace bulwark::agent
