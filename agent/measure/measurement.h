// One measurement of the agent (DESIGN §4) and the vocabulary of kinds
// (docs/agent.md "Measurement"). A plain value: the engine fills it, the report
// builder turns it into bulwark.v1.Measurement (toProto), the CEL batch record
// carries its (kind, subject, sha256) triple (attest/cel/bulwark_content.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "attest/cel/bulwark_content.h"
#include "attest/core/bytes.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::agent {

// Kinds (evidence.proto Measurement.kind).
inline constexpr std::string_view kKindHostFile = "host-file";  // os-release, globs
inline constexpr std::string_view kKindKernel = "kernel";       // /boot/vmlinuz-$(uname -r)
inline constexpr std::string_view kKindCmdline = "cmdline";     // /proc/cmdline
inline constexpr std::string_view kKindModule = "module";       // loaded module's .ko
inline constexpr std::string_view kKindRuntimeBinary = "runtime-binary";    // file on disk
inline constexpr std::string_view kKindRuntimeProcess = "runtime-process";  // /proc/PID/exe
inline constexpr std::string_view kKindImage = "image";  // image of a running container
// OCI bundle config of a container without an image digest annotation: reported,
// never extended (a per-container config would grow the log with every start).
inline constexpr std::string_view kKindOciBundle = "oci-bundle";

// Attribute names.
inline constexpr std::string_view kAttrMismatch = "mismatch";  // runtime-process only
inline constexpr std::string_view kMismatchOnDiskDiffers = "on-disk-differs";
inline constexpr std::string_view kMismatchOnDiskMissing = "on-disk-missing";

struct Measurement {
  std::string kind;
  std::string subject;  // path, module name, executable path, image id, ...
  Bytes sha256;         // 32 bytes
  std::map<std::string, std::string> attributes;  // pid, unit, mismatch, repo_digests, ...
  // False for report-only values (kKindOciBundle): never in a batch record.
  bool extend = true;

  bool operator==(const Measurement&) const = default;
};

bulwark::v1::Measurement toProto(const Measurement& m);
attest::BatchEntry toBatchEntry(const Measurement& m);

// RFC 3629 UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool isUtf8(std::string_view s);
// Every byte >= 0x80 and '%' as %XX: a non-UTF-8 path made loggable, reversibly.
std::string percentEncodeNonUtf8(std::string_view s);

// Orders by (kind, subject, sha256) — the order of the report and of batch records,
// so two runs over the same state produce byte-identical output.
void sortMeasurements(std::vector<Measurement>& ms);

}  // namespace bulwark::agent
