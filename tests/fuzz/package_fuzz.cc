// readPackage (server/appraisal/package.h) on arbitrary bytes: .deb (ar + nested
// tar streams) and .rpm (lead + cpio payload) readers must return a value or an
// Error, never crash, hang or over-read. Seeds: tiny packages made by dpkg-deb and
// rpmbuild (tests/fuzz/corpus/package_fuzz/README).
#include <cstddef>
#include <cstdint>

#include "server/appraisal/package.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bulwark::server::PackageLimits limits;
  limits.max_total_bytes = 16u << 20;  // decompression bombs stop early
  limits.max_entries = 10000;
  auto r = bulwark::server::readPackage(bulwark::ByteView(data, size), limits);
  if (r) {
    for (const auto& f : r->files) {
      if (f.sha256.size() != 32 || f.path.empty() || f.path[0] != '/') __builtin_trap();
    }
  }
  return 0;
}
