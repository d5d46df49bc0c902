// Reference values from distribution packages (DESIGN §6 "imported from .deb/.rpm
// packages"): every regular file of a package's payload, as installed, with its
// SHA-256. Pure: takes the package bytes, returns values; archives are read with
// libarchive (no hand-written archive parsing, no dpkg/rpm processes).
//
// .deb (deb(5)): an ar archive holding debian-binary, control.tar[.gz|.xz|.zst] (its
//   ./control names Package and Version) and data.tar[...] (the files). The nested
//   tar members are streamed from the ar reader, never held in memory whole.
// .rpm: libarchive's rpm filter skips the signature and header and yields the
//   cpio payload. Name and version come from the RPM lead's name field
//   ("NAME-VERSION-RELEASE", LSB 5.0 Core §22.2.1 "Lead Section"): the only bytes of
//   the RPM header read here, a fixed-size NUL-terminated string at offset 10.
//
// Paths are as installed: "./usr/bin/runc" and "usr/bin/runc" → "/usr/bin/runc".
// Hard links get the digest of the file they link to. Directories, symlinks and
// devices are skipped (a symlink's target is measured under its own path).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attest/core/bytes.h"

namespace bulwark::server {

// Reference-value kind of package files: matched for every measurement kind whose
// subject is a file path (host-file, runtime-binary, runtime-process; policy.h).
inline constexpr std::string_view kPackageFileKind = "file";

enum class PackageFormat { kDeb, kRpm };
std::string_view packageFormatName(PackageFormat format);

struct PackageFile {
  std::string path;  // absolute, as installed
  Bytes sha256;      // 32 bytes
  std::uint64_t size = 0;
};

struct PackageContents {
  PackageFormat format = PackageFormat::kDeb;
  std::string name;                // Debian Package / RPM NAME
  std::string version;             // Debian Version / RPM VERSION-RELEASE
  std::vector<PackageFile> files;  // in archive order, paths unique
};

// Limits against decompression bombs and absurd archives (all checked while streaming).
struct PackageLimits {
  std::uint64_t max_total_bytes = std::uint64_t{8} << 30;  // uncompressed payload
  std::size_t max_entries = 200000;
  std::size_t max_control_bytes = 1 << 20;  // the deb control file
};

// kMalformed: not a readable .deb/.rpm, a member missing, a limit crossed, a path
// that is not a plain relative/absolute path (".." components, NUL, empty), a
// name/version that is not a Debian/RPM package name/version.
// kUnsupported: an archive of another kind (plain tar, zip, cpio without rpm lead).
[[nodiscard]] Result<PackageContents> readPackage(ByteView bytes, const PackageLimits& limits = {});

// "package:NAME=VERSION": the reference-value source of a package's files, which is
// also how one version is revoked (POST /v1/policy/revoke {"source": ...}).
std::string packageSource(std::string_view name, std::string_view version);

// Package names and versions as Debian Policy §5.6.1/§5.6.12 and RPM allow them:
// [A-Za-z0-9.+~:_-], 1..256 characters, name starting alphanumeric.
bool isPackageName(std::string_view name);
bool isPackageVersion(std::string_view version);

}  // namespace bulwark::server
