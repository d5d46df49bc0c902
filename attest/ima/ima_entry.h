// One IMA measurement list entry as the kernel prints it in
// /sys/kernel/security/ima/ascii_runtime_measurements, and the template data the
// kernel hashed for it (security/integrity/ima/ima_template_lib.c field encodings,
// ima_crypto.c ima_calc_field_array_hash):
//   - every template but "ima": for each field, u32 length (little-endian; the
//     kernel's native order, canonical with ima_canonical_fmt) then the field data;
//   - d-ng: "<alg>:" NUL <digest>;  n-ng: path NUL;  sig / buf: raw bytes;
//   - legacy "ima": the 20-byte SHA-1 file digest then the path NUL-padded to 256
//     bytes (IMA_EVENT_NAME_LEN_MAX + 1), no lengths.
// A violation (ToMToU / open-writers) is logged with an all-zero template hash and
// a zero file digest; the kernel extends every bank with all-ones instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/core/error.h"

namespace bulwark::attest::ima {

enum class Template { kIma, kImaNg, kImaSig, kImaBuf };
std::string_view templateName(Template t);

struct ImaEntry {
  std::size_t index = 0;   // 0-based entry number in the whole list
  std::size_t offset = 0;  // byte offset of the line in the whole list
  std::uint32_t pcr = 10;
  HashAlg template_hash_alg = HashAlg::kSha1;
  Bytes template_hash;      // as logged
  Template tmpl = Template::kImaNg;
  std::string digest_alg;   // "sha1", "sha256", ... (the d-ng prefix; "sha1" for "ima")
  Bytes file_digest;
  std::string path;         // n-ng / n; for ima-buf the buffer's name
  Bytes signature;          // ima-sig (may be empty)
  Bytes buffer;             // ima-buf
  bool template_hash_ok = false;  // logged hash == H(template data); false for violations

  bool isViolation() const;
  // The bytes the kernel hashed into the template hash.
  Bytes templateData() const;
  // "sha256:ab12..." of the file digest.
  std::string fileDigestString() const;
};

struct ImaParseOptions {
  // Bank of the template-hash column: sha1 for ascii_runtime_measurements (default:
  // inferred from the hex length: 40 sha1, 64 sha256, 96 sha384, 128 sha512).
  std::optional<HashAlg> template_hash_alg;
  std::size_t max_line = 64u << 10;  // a line longer than this is malformed
};

// Parses one line (without its '\n'). `offset` and `index` are recorded in the
// entry and used in error contexts. Errors: kMalformed naming the field, kUnsupported
// for an unknown template name.
[[nodiscard]] Result<ImaEntry> parseImaLine(std::string_view line, std::size_t offset, std::size_t index,
                                            const ImaParseOptions& options = {});

}  // namespace bulwark::attest::ima
