#include "agent/inspect/proc_parse.h"

#include <charconv>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> splitOn(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

template <typename T>
std::optional<T> number(std::string_view s, int base = 10) {
  T v{};
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::unexpected<Error> malformed(std::string_view what, std::string_view file,
                                 std::string_view line) {
  std::string shown(line.substr(0, 120));
  return fail(ErrorCode::kMalformed, strCat(what, ": '", shown, "'"), std::string(file));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Applies one "Key:\tvalue" line of /proc/PID/status; false when the value is bad.
bool applyStatusField(ProcStatus& st, std::string_view key, std::string_view value, int& seen) {
  if (key == "Name") return st.name = std::string(value), true;
  if (key == "State") {
    if (value.empty()) return false;
    st.state = value.front();
    return seen |= 1, true;
  }
  if (key == "PPid") {
    auto v = number<std::int64_t>(value);
    return v ? (st.ppid = *v, true) : false;
  }
  if (key == "Uid") {
    auto f = fields(value);
    if (f.size() != 4) return false;
    auto r = number<std::uint32_t>(f[0]);
    auto e = number<std::uint32_t>(f[1]);
    if (!r || !e) return false;
    st.uid_real = *r;
    st.uid_effective = *e;
    return seen |= 2, true;
  }
  if (key == "CapEff" || key == "CapBnd" || key == "CapPrm") {
    auto v = number<std::uint64_t>(value, 16);
    if (!v || value.size() > 16) return false;
    if (key == "CapEff") return st.cap_eff = *v, seen |= 4, true;
    if (key == "CapBnd") return st.cap_bnd = *v, seen |= 8, true;
    return st.cap_prm = *v, true;
  }
  if (key == "NoNewPrivs" || key == "Seccomp" || key == "Seccomp_filters") {
    auto v = number<int>(value);
    if (!v || *v < 0) return false;
    if (key == "NoNewPrivs") return st.no_new_privs = *v, true;
    if (key == "Seccomp") return *v <= 2 ? (st.seccomp = *v, true) : false;
    return st.seccomp_filters = *v, true;
  }
  return true;  // a field inspection does not use
}

}  // namespace

Result<ProcStatus> parseProcStatus(std::string_view text) {
  ProcStatus st;
  int seen = 0;
  for (std::string_view line : splitLines(text)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return malformed("line without ':'", "status", line);
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (!applyStatusField(st, key, value, seen)) {
      return malformed(strCat("bad ", key, " value"), "status", line);
    }
  }
  if (seen != 15) {
    return fail(ErrorCode::kMalformed, "State, Uid, CapEff or CapBnd missing", "status");
  }
  return st;
}

bool MountInfoEntry::readOnly() const {
  for (const std::string& o : mount_options) {
    if (o == "ro") return true;
  }
  return false;
}

std::string unescapeMountPath(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 4 <= s.size()) {
      auto v = number<unsigned>(s.substr(i + 1, 3), 8);
      if (v && *v < 256) {
        out += static_cast<char>(*v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

Result<std::vector<MountInfoEntry>> parseMountInfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  for (std::string_view line : splitLines(text)) {
    auto f = fields(line);
    // id parent maj:min root mount-point options [optional...] - fstype source super-options
    std::size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (f.size() < 10 || sep + 4 > f.size()) {
      return malformed("too few fields", "mountinfo", line);
    }
    if (sep + 4 != f.size()) return malformed("unexpected fields after '-'", "mountinfo", line);
    MountInfoEntry e;
    auto id = number<std::uint32_t>(f[0]);
    auto parent = number<std::uint32_t>(f[1]);
    auto dev = splitOn(f[2], ':');
    if (!id || !parent || dev.size() != 2) return malformed("bad ids", "mountinfo", line);
    auto major = number<std::uint32_t>(dev[0]);
    auto minor = number<std::uint32_t>(dev[1]);
    if (!major || !minor) return malformed("bad device", "mountinfo", line);
    e.mount_id = *id;
    e.parent_id = *parent;
    e.major = *major;
    e.minor = *minor;
    e.root = unescapeMountPath(f[3]);
    e.mount_point = unescapeMountPath(f[4]);
    for (auto o : splitOn(f[5], ',')) e.mount_options.emplace_back(o);
    e.fs_type = std::string(f[sep + 1]);
    e.source = unescapeMountPath(f[sep + 2]);
    for (auto o : splitOn(f[sep + 3], ',')) e.super_options.emplace_back(o);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<CgroupEntry>> parseProcCgroup(std::string_view text) {
  std::vector<CgroupEntry> out;
  for (std::string_view line : splitLines(text)) {
    const std::size_t a = line.find(':');
    const std::size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos)
      return malformed("expected id:controllers:path", "cgroup", line);
    auto id = number<std::uint32_t>(line.substr(0, a));
    if (!id) return malformed("bad hierarchy id", "cgroup", line);
    CgroupEntry e;
    e.hierarchy = *id;
    const std::string_view list = line.substr(a + 1, b - a - 1);
    if (!list.empty()) {
      for (auto c : splitOn(list, ',')) e.controllers.emplace_back(c);
    }
    e.path = std::string(line.substr(b + 1));
    if (e.path.empty() || e.path.front() != '/') {
      return malformed("path is not absolute", "cgroup", line);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<ProcStat> parseProcStat(std::string_view text) {
  // "pid (comm) state ppid ..."; comm may contain ") ", so split at the last ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return malformed("no ')' after comm", "stat", text);
  auto f = fields(text.substr(close + 1));
  // After comm: field 3 (state) is f[0]; starttime (field 22) is f[19].
  if (f.size() < 20) return malformed("too few fields", "stat", text);
  ProcStat st;
  if (f[0].size() != 1) return malformed("bad state", "stat", text);
  st.state = f[0].front();
  auto ppid = number<std::int64_t>(f[1]);
  auto start = number<std::uint64_t>(f[19]);
  if (!ppid || !start) return malformed("bad ppid or starttime", "stat", text);
  st.ppid = *ppid;
  st.start_time = *start;
  return st;
}

}  // namespace bulwark::agent
