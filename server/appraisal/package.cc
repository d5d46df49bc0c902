#include "server/appraisal/package.h"

#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <map>
#include <memory>

#include "attest/core/digest.h"

namespace bulwark::server {

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

constexpr std::size_t kChunk = 64 * 1024;

std::string archiveError(archive* a, std::string_view what) {
  const char* s = archive_error_string(a);
  return std::string(what) + ": " + (s != nullptr ? s : "archive error");
}

// Shared accounting for every byte and entry read from one package.
struct Budget {
  const PackageLimits& limits;
  std::uint64_t bytes = 0;
  std::size_t entries = 0;

  Result<void> entry() {
    if (++entries > limits.max_entries)
      return fail(ErrorCode::kMalformed,
                  "package has more than " + std::to_string(limits.max_entries) + " entries");
    return {};
  }
  Result<void> add(std::size_t n) {
    bytes += n;
    if (bytes > limits.max_total_bytes)
      return fail(ErrorCode::kMalformed,
                  "package payload exceeds " + std::to_string(limits.max_total_bytes) + " bytes");
    return {};
  }
};

// Reads the current entry's data into `sink` chunk by chunk, counting it.
template <typename Sink>
Result<void> readData(archive* a, Budget& budget, Sink&& sink) {
  std::array<std::uint8_t, kChunk> buf;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) return fail(ErrorCode::kMalformed, archiveError(a, "reading package data"));
    if (n == 0) return {};
    auto size = static_cast<std::size_t>(n);
    if (auto r = budget.add(size); !r) return r;
    if (auto r = sink(ByteView(buf.data(), size)); !r) return r;
  }
}

// "./usr/bin/runc", "usr/bin/runc", "/usr//bin/./runc" → "/usr/bin/runc"; "" for the
// root directory; an error for ".." (a package cannot install outside "/").
Result<std::string> installedPath(const char* raw) {
  if (raw == nullptr) return fail(ErrorCode::kMalformed, "package entry without a path");
  std::string_view p(raw);
  std::string out;
  std::size_t i = 0;
  while (i <= p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part == "..")
      return fail(ErrorCode::kMalformed, "package path with '..': " + std::string(p));
    if (!part.empty() && part != ".") out += "/" + std::string(part);
    i = j + 1;
  }
  return out;
}

// Hashes every regular file of a tar/cpio payload (hard links share their target's digest).
Result<void> hashPayload(archive* a, Budget& budget, std::vector<PackageFile>& files) {
  std::map<std::string, std::size_t> index;
  Hasher hasher(HashAlg::kSha256);
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) return {};
    if (rc < ARCHIVE_WARN) return fail(ErrorCode::kMalformed, archiveError(a, "package payload"));
    if (auto r = budget.entry(); !r) return r;
    // tar hard-link entries may carry no file type of their own.
    const char* link = archive_entry_hardlink(e);
    auto type = archive_entry_filetype(e);
    if (type != AE_IFREG && !(link != nullptr && type == 0)) continue;
    auto path = installedPath(archive_entry_pathname(e));
    if (!path) return std::unexpected(path.error());
    if (path->empty()) continue;
    std::uint64_t size = 0;
    if (auto r = readData(a, budget,
                          [&](ByteView chunk) -> Result<void> {
                            hasher.update(chunk);
                            size += chunk.size();
                            return {};
                          });
        !r) {
      return r;
    }
    PackageFile f{*path, hasher.finish(), size};
    if (link != nullptr) {
      auto target = installedPath(link);
      if (!target) return std::unexpected(target.error());
      auto it = index.find(*target);
      if (it == index.end())
        return fail(ErrorCode::kMalformed, "hard link to a file not in the package: " + *target);
      // tar: the link carries no data; cpio (newc): the last link carries it for all.
      if (size == 0)
        f = {*path, files[it->second].sha256, files[it->second].size};
      else
        files[it->second] = {files[it->second].path, f.sha256, size};
    }
    auto [it, fresh] = index.emplace(f.path, files.size());
    if (fresh)
      files.push_back(std::move(f));
    else
      files[it->second] = std::move(f);  // a later entry replaces the earlier one
  }
}

ArchivePtr newReader(bool outer) {
  ArchivePtr a(archive_read_new());
  if (!a) return a;
  archive_read_support_filter_all(a.get());
  if (outer) {
    archive_read_support_format_ar(a.get());
    archive_read_support_format_cpio(a.get());
  } else {
    archive_read_support_format_tar(a.get());
  }
  return a;
}

// Streams a tar member of the .deb's ar archive into a second libarchive reader.
struct Member {
  archive* outer;
  std::array<std::uint8_t, kChunk> buf;
};

la_ssize_t readMember(archive* inner, void* data, const void** out) {
  auto* m = static_cast<Member*>(data);
  la_ssize_t n = archive_read_data(m->outer, m->buf.data(), m->buf.size());
  if (n < 0) {
    archive_set_error(inner, EIO, "%s", archive_error_string(m->outer));
    return -1;
  }
  *out = m->buf.data();
  return n;
}

template <typename Fn>
Result<void> withMember(archive* outer, std::string_view what, Fn&& fn) {
  ArchivePtr inner = newReader(false);
  if (!inner) return fail(ErrorCode::kInternal, "archive_read_new failed");
  auto member = std::make_unique<Member>(Member{outer, {}});
  if (archive_read_open(inner.get(), member.get(), nullptr, readMember, nullptr) != ARCHIVE_OK)
    return fail(ErrorCode::kMalformed, archiveError(inner.get(), std::string(what)));
  return fn(inner.get());
}

// deb-control(5): "Package:" and "Version:" fields of ./control (field names are
// case-insensitive, deb822(5)).
Result<void> readControl(archive* a, Budget& budget, PackageContents& out) {
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) return fail(ErrorCode::kMalformed, "control.tar has no ./control");
    if (rc < ARCHIVE_WARN) return fail(ErrorCode::kMalformed, archiveError(a, "control.tar"));
    if (auto r = budget.entry(); !r) return r;
    auto path = installedPath(archive_entry_pathname(e));
    if (!path) return std::unexpected(path.error());
    if (*path != "/control" || archive_entry_filetype(e) != AE_IFREG) continue;
    std::string text;
    if (auto r = readData(a, budget,
                          [&](ByteView chunk) -> Result<void> {
                            if (text.size() + chunk.size() > budget.limits.max_control_bytes)
                              return fail(ErrorCode::kMalformed, "deb control file too large");
                            text.append(chunk.begin(), chunk.end());
                            return {};
                          });
        !r) {
      return r;
    }
    for (std::size_t i = 0; i < text.size();) {
      std::size_t j = text.find('\n', i);
      if (j == std::string::npos) j = text.size();
      std::string_view line(text.data() + i, j - i);
      i = j + 1;
      auto colon = line.find(':');
      if (colon == std::string_view::npos || line.starts_with(' ')) continue;
      std::string key(line.substr(0, colon));
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\r'))
        value.remove_suffix(1);
      if (key == "package") out.name = value;
      if (key == "version") out.version = value;
    }
    return {};
  }
}

bool startsWithTar(std::string_view name, std::string_view stem) {
  return name == stem || (name.starts_with(stem) && name[stem.size()] == '.');
}

Result<PackageContents> readDeb(archive* a, archive_entry* first, Budget& budget) {
  PackageContents out;
  out.format = PackageFormat::kDeb;
  const char* first_name = archive_entry_pathname(first);
  if (first_name == nullptr || std::string_view(first_name) != "debian-binary")
    return fail(ErrorCode::kMalformed,
                "ar archive is not a .deb (first member is not debian-binary)");
  bool control = false, data = false;
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return fail(ErrorCode::kMalformed, archiveError(a, ".deb"));
    if (auto r = budget.entry(); !r) return std::unexpected(r.error());
    const char* raw = archive_entry_pathname(e);
    std::string_view name = raw != nullptr ? raw : "";
    if (!control && startsWithTar(name, "control.tar")) {
      control = true;
      auto r =
          withMember(a, "control.tar", [&](archive* in) { return readControl(in, budget, out); });
      if (!r) return std::unexpected(r.error());
    } else if (!data && startsWithTar(name, "data.tar")) {
      data = true;
      auto r = withMember(a, "data.tar",
                          [&](archive* in) { return hashPayload(in, budget, out.files); });
      if (!r) return std::unexpected(r.error());
    }
  }
  if (!control || !data) return fail(ErrorCode::kMalformed, ".deb without control.tar or data.tar");
  return out;
}

// LSB Core §22.2.1: struct rpmlead { magic[4]; major, minor; type; archnum; name[66]; ... }.
Result<void> rpmLeadName(ByteView bytes, PackageContents& out) {
  constexpr std::size_t kNameOffset = 10, kNameSize = 66;
  if (bytes.size() < 96 || bytes[0] != 0xed || bytes[1] != 0xab || bytes[2] != 0xee ||
      bytes[3] != 0xdb) {
    return fail(ErrorCode::kMalformed, "rpm without a lead");
  }
  std::string nvr(reinterpret_cast<const char*>(bytes.data() + kNameOffset), kNameSize);
  nvr.resize(nvr.find('\0') == std::string::npos ? 0 : nvr.find('\0'));
  auto rel = nvr.rfind('-');
  auto ver = rel == std::string::npos || rel == 0 ? std::string::npos : nvr.rfind('-', rel - 1);
  if (ver == std::string::npos || ver == 0)
    return fail(ErrorCode::kMalformed, "rpm lead name is not NAME-VERSION-RELEASE: " + nvr);
  out.name = nvr.substr(0, ver);
  out.version = nvr.substr(ver + 1);
  return {};
}

bool hasRpmFilter(archive* a) {
  for (int i = 0; i < archive_filter_count(a); ++i) {
    if (archive_filter_code(a, i) == ARCHIVE_FILTER_RPM) return true;
  }
  return false;
}

bool packageChars(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '+' || c == '~' || c == ':' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view packageFormatName(PackageFormat format) {
  return format == PackageFormat::kDeb ? "deb" : "rpm";
}

std::string packageSource(std::string_view name, std::string_view version) {
  return "package:" + std::string(name) + "=" + std::string(version);
}

bool isPackageName(std::string_view name) {
  return packageChars(name) && std::isalnum(static_cast<unsigned char>(name.front()));
}

bool isPackageVersion(std::string_view version) { return packageChars(version); }

Result<PackageContents> readPackage(ByteView bytes, const PackageLimits& limits) {
  ArchivePtr a = newReader(true);
  if (!a) return fail(ErrorCode::kInternal, "archive_read_new failed");
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return fail(ErrorCode::kMalformed, archiveError(a.get(), "not a .deb or .rpm"));
  Budget budget{limits};
  archive_entry* first = nullptr;
  int rc = archive_read_next_header(a.get(), &first);
  if (rc < ARCHIVE_WARN || rc == ARCHIVE_EOF)
    return fail(ErrorCode::kMalformed, archiveError(a.get(), "not a .deb or .rpm"));
  int format = archive_format(a.get()) & ARCHIVE_FORMAT_BASE_MASK;
  Result<PackageContents> out = fail(ErrorCode::kUnsupported, "not a .deb or .rpm archive");
  if (format == ARCHIVE_FORMAT_AR) {
    if (auto r = budget.entry(); !r) return std::unexpected(r.error());
    out = readDeb(a.get(), first, budget);
  } else if (format == ARCHIVE_FORMAT_CPIO && hasRpmFilter(a.get())) {
    PackageContents rpm;
    rpm.format = PackageFormat::kRpm;
    if (auto r = rpmLeadName(bytes, rpm); !r) return std::unexpected(r.error());
    // The first payload entry was read already: hash from it on by re-reading.
    ArchivePtr again = newReader(true);
    if (!again || archive_read_open_memory(again.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
      return fail(ErrorCode::kMalformed, "rpm payload");
    }
    if (auto r = hashPayload(again.get(), budget, rpm.files); !r) return std::unexpected(r.error());
    out = std::move(rpm);
  }
  if (!out) return out;
  if (!isPackageName(out->name) || !isPackageVersion(out->version)) {
    return fail(ErrorCode::kMalformed, "package name/version missing or invalid: '" + out->name +
                                           "' '" + out->version + "'");
  }
  return out;
}

}  // namespace bulwark::server
