#include "agent/enroll/host_facts.h"

#include <sys/utsname.h>
#include <unistd.h>

#include "attest/core/bytes.h"

namespace bulwark::agent {

namespace {

std::string firstLine(const std::string& path) {
  auto bytes = readFile(path, 64 * 1024);
  if (!bytes) return {};
  std::string text(bytes->begin(), bytes->end());
  text = text.substr(0, text.find('\n'));
  return text;
}

// os-release values may be quoted with "..." or '...' and use \ escapes.
std::string unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out += v[i];
  }
  return out;
}

}  // namespace

std::string prettyNameFromOsRelease(std::string_view text) {
  std::string pretty, name;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.starts_with("PRETTY_NAME=")) pretty = unquote(line.substr(12));
    if (line.starts_with("NAME=")) name = unquote(line.substr(5));
  }
  return pretty.empty() ? name : pretty;
}

bulwark::v1::HostFacts collectHostFacts(const HostFactsPaths& paths) {
  bulwark::v1::HostFacts facts;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) facts.set_hostname(host);
  utsname u{};
  if (::uname(&u) == 0) facts.set_kernel(u.release);
  if (auto text = readFile(paths.os_release, 64 * 1024)) {
    facts.set_os_release(prettyNameFromOsRelease(
        std::string_view(reinterpret_cast<const char*>(text->data()), text->size())));
  }
  facts.set_boot_id(firstLine(paths.boot_id));
  facts.set_machine_id(firstLine(paths.machine_id));
  facts.set_agent_version(std::string(kAgentVersion));
  return facts;
}

}  // namespace bulwark::agent
