// The verifier's cursors into this node's append-only logs, held in memory
// (docs/api.md "Incremental logs"). An AttestResponse names, per log source, the
// first `offset` bytes (`entries` records) the verifier holds verified; the next
// report may then carry that log as EventLog{offset, entries_before, content = the
// rest} — but only while the local file still starts with exactly those bytes
// (LogCursor.prefix_sha256). Anything else (rotated at a new boot, truncated,
// rewritten, a cursor that does not fit) ships the log whole.
//
// Checking a prefix costs one SHA-256 over it. So that a steady-state cycle does
// not rehash megabytes, a verified prefix is remembered with the file it was read
// from (st_dev, st_ino) and the hash state at its end: the next check over the same
// file hashes only the bytes appended since, plus a window just before the old end
// (an in-place rewrite near the end shows there; the writer never rewrites a
// record it appended — attest/cel/cel_writer.cc renames the log at a new boot).
//
// Pure: values in, values out; no files, no clock. Not thread-safe (one cycle at a
// time owns it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/cycle/measurement_source.h"
#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "bulwark/v1/enrollment.pb.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::agent {

struct ShippedLog {
  bulwark::v1::EventLog log;  // what goes into Report.logs
  bool incremental = false;   // shipped from a cursor
  std::string note;           // set when a held cursor could not be used, and why
};

class LogCursors {
 public:
  // Bytes before a remembered prefix's end that are compared again every check.
  static constexpr std::size_t kWindowBytes = 4096;

  // Replaces every held cursor with the verifier's answer (an empty list: ship
  // every log whole next time). Cursors without a 32-byte prefix digest are
  // ignored. Verified prefixes stay remembered while their log keeps a cursor.
  void replace(const google::protobuf::RepeatedPtrField<bulwark::v1::LogCursor>& cursors);
  // Drops every cursor and remembered prefix (409 log-prefix-unknown, a new boot).
  void clear();
  [[nodiscard]] std::size_t size() const { return cursors_.size(); }
  [[nodiscard]] const bulwark::v1::LogCursor* find(const std::string& source) const;

  // `whole` as it should travel. `file` is the file its content was read from, when
  // known. A cursor that does not fit is dropped (the verifier's next answer
  // brings a new one) and the log ships whole.
  [[nodiscard]] ShippedLog ship(const bulwark::v1::EventLog& whole,
                                std::optional<LogFileIdentity> file);

 private:
  struct Verified {
    LogFileIdentity file;
    std::uint64_t offset = 0;
    Hasher state{HashAlg::kSha256};  // SHA-256 state after `offset` bytes
    Bytes window_hash;  // SHA-256 of the kWindowBytes (or fewer) before `offset`
  };
  // SHA-256 of content[0, offset), from the remembered state when it still applies.
  Hasher prefixHash(const std::string& source, const std::string& content, std::uint64_t offset,
                        std::optional<LogFileIdentity> file) const;

  std::map<std::string, bulwark::v1::LogCursor> cursors_;
  std::map<std::string, Verified> verified_;
};

}  // namespace bulwark::agent
