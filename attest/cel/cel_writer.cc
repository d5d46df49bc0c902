#include "attest/cel/cel_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace bulwark::attest {

namespace {

constexpr std::size_t kScanStep = 64u << 10;

// Offset of the last 0x1E, looking back at most one record's worth of bytes.
Result<std::uint64_t> findLastSeparator(const CelLogFile& file, std::uint64_t size,
                                        std::size_t max_record) {
  std::uint64_t limit = std::min<std::uint64_t>(size, max_record + 1);
  for (std::uint64_t scanned = 0; scanned < limit;) {
    auto step = static_cast<std::size_t>(std::min<std::uint64_t>(kScanStep, limit - scanned));
    std::uint64_t start = size - scanned - step;
    auto chunk = file.read(start, step);
    if (!chunk) return std::unexpected(chunk.error());
    auto pos = chunk->rfind(static_cast<char>(kCelRecordSeparator));
    if (pos != std::string::npos) return start + pos;
    scanned += step;
  }
  return fail(
      ErrorCode::kMalformed,
      "no record separator in the last " + std::to_string(limit) + " bytes; refusing to append",
      file.path());
}

// Repairs what a crashed writer left: a torn final record is cut back to the last
// complete one; the in-progress mark is reported (clearing it is the caller's job,
// after it has appended its own record).
Result<CelRecovery> recoverTail(CelLogFile& file, const CelParseOptions& parse) {
  CelRecovery rec;
  auto mark = file.inProgress();
  if (!mark) return std::unexpected(mark.error());
  rec.interrupted = *mark;
  auto size = file.size();
  if (!size) return std::unexpected(size.error());
  if (*size == 0) return rec;
  auto rs = findLastSeparator(file, *size, parse.max_record_bytes);
  if (!rs) return std::unexpected(rs.error());
  auto tail = file.read(*rs + 1, static_cast<std::size_t>(*size - *rs - 1));
  if (!tail) return std::unexpected(tail.error());
  CelSegment seg = decodeCelSegment(*tail, parse);
  if (seg.state == CelSegmentState::kCorrupt) {
    return fail(ErrorCode::kMalformed,
                "last record at offset " + std::to_string(*rs) + " is corrupt (" + seg.problem +
                    "); refusing to append",
                file.path());
  }
  if (seg.state == CelSegmentState::kTorn) {
    if (auto t = file.truncate(*rs); !t) return std::unexpected(t.error());
    if (auto s = file.sync(); !s) return std::unexpected(s.error());
    rec.torn_bytes = static_cast<std::size_t>(*size - *rs);
  }
  return rec;
}

// Appends a no-action (never extended) Bulwark marker record and makes it durable.
Result<void> appendMarker(CelLogFile& file, std::uint32_t pcr, const nlohmann::json& content) {
  auto canonical = canonicalContent(content);
  if (!canonical) return std::unexpected(canonical.error());
  if (auto a = file.append(formatCelRecord(pcr, {}, kBulwarkContentType, *canonical)); !a) return a;
  return file.sync();
}

// boot_id of a log whose first record is a Bulwark log-start; nullopt otherwise.
std::optional<std::string> firstBootId(std::string_view head, const CelParseOptions& parse) {
  if (head.empty() || head[0] != static_cast<char>(kCelRecordSeparator)) return std::nullopt;
  auto lf = head.find(static_cast<char>(kCelRecordTerminator));
  if (lf == std::string_view::npos) return std::nullopt;
  CelSegment seg = decodeCelSegment(head.substr(1, lf), parse);
  if (seg.state != CelSegmentState::kComplete || seg.record.content_type != kBulwarkContentType) {
    return std::nullopt;
  }
  auto event = validateBulwarkContent(seg.record.content);
  if (!event || *event != BulwarkEvent::kLogStart) return std::nullopt;
  return seg.record.content.at("boot_id").get<std::string>();
}

}  // namespace

Result<CelWriter> CelWriter::create(CelWriterOptions options, PcrExtender& extender) {
  if (options.path.empty())
    return fail(ErrorCode::kInvalidArgument, "log path is empty", "cel writer");
  if (options.pcr > kCelMaxPcr) {
    return fail(ErrorCode::kInvalidArgument, "pcr " + std::to_string(options.pcr) + " out of range",
                "cel writer");
  }
  if ((options.pcr == 16 || options.pcr == 23) && !options.allow_resettable_pcr) {
    // Anyone can TPM2_PCR_Reset these from locality 0, erasing the measurements.
    return fail(ErrorCode::kInvalidArgument,
                "pcr " + std::to_string(options.pcr) + " is resettable; allowed in debug mode only",
                "cel writer");
  }
  auto& b = options.banks;
  std::sort(b.begin(), b.end());
  if (b.empty() || std::adjacent_find(b.begin(), b.end()) != b.end()) {
    return fail(ErrorCode::kInvalidArgument, "banks must be non-empty and distinct", "cel writer");
  }
  return CelWriter(std::move(options), extender);
}

Result<CelAppendResult> CelWriter::appendBatch(std::span<const BatchEntry> entries) {
  auto contents = makeBatchRecords(entries, options_.max_batch_content_bytes);
  if (!contents) {
    return fail(ErrorCode::kInvalidArgument, contents.error().message(), "cel writer");
  }
  const nlohmann::json& batch = contents->back();
  return appendRecords(std::span(*contents).first(contents->size() - 1), batch);
}

Result<CelAppendResult> CelWriter::appendContent(const nlohmann::json& content) {
  return appendRecords({}, content);
}

namespace {

// The no-action records of `parts`, after checking they are exactly what the batch
// `content` lists (so a caller can never write parts its extend does not bind).
Result<std::string> formatParts(std::span<const nlohmann::json> parts,
                                const nlohmann::json& content, const CelWriterOptions& o) {
  const nlohmann::json* listed = content.contains("parts") ? &content.at("parts") : nullptr;
  if ((listed ? listed->size() : 0) != parts.size()) {
    return fail(ErrorCode::kInvalidArgument, "batch does not list its parts", "cel writer");
  }
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto event = validateBulwarkContent(parts[i]);
    if (!event || *event != BulwarkEvent::kBatchPart) {
      return fail(ErrorCode::kInvalidArgument, "not batch-part content", "cel writer");
    }
    auto canonical = canonicalContent(parts[i]);
    if (!canonical) return std::unexpected(canonical.error());
    if (toHex(sha256(asBytes(*canonical))) != (*listed)[i].get<std::string>()) {
      return fail(ErrorCode::kInvalidArgument, "batch lists another part", "cel writer");
    }
    std::string record = formatCelRecord(o.pcr, {}, kBulwarkContentType, *canonical);
    if (record.size() > o.parse.max_record_bytes) {
      return fail(ErrorCode::kInvalidArgument, "part exceeds the record size limit", "cel writer");
    }
    text += record;
  }
  return text;
}

}  // namespace

Result<CelAppendResult> CelWriter::appendRecords(std::span<const nlohmann::json> parts,
                                                 const nlohmann::json& content) {
  auto event = validateBulwarkContent(content);
  if (!event) return fail(ErrorCode::kInvalidArgument, event.error().message(), "cel writer");
  if (*event != BulwarkEvent::kBatch) {
    return fail(ErrorCode::kInvalidArgument, "only batch content extends a PCR", "cel writer");
  }
  auto parts_text = formatParts(parts, content, options_);
  if (!parts_text) return std::unexpected(parts_text.error());
  auto canonical = canonicalContent(content);
  if (!canonical) return std::unexpected(canonical.error());
  auto digests = bulwarkDigests(content, options_.banks);
  if (!digests) return std::unexpected(digests.error());
  std::string text = formatCelRecord(options_.pcr, *digests, kBulwarkContentType, *canonical);
  if (text.size() > options_.parse.max_record_bytes) {
    return fail(ErrorCode::kInvalidArgument, "record exceeds the record size limit", "cel writer");
  }
  auto file = CelLogFile::openLocked(options_.path, options_.dir_mode);  // LOCK_EX until return
  if (!file) return std::unexpected(file.error());
  auto prepared = prepareLog(*file, text.size(), parts_text->size());
  if (!prepared) return std::unexpected(prepared.error());
  auto offset = extendAndAppend(*file, *digests, text, *parts_text);
  if (!offset) return std::unexpected(offset.error());
  return CelAppendResult{*offset, parts.size(), std::move(*digests), *prepared};
}

Result<CelRecovery> CelWriter::prepareLog(CelLogFile& file, std::size_t record_size,
                                          std::size_t extra) {
  auto recovery = recoverTail(file, options_.parse);
  if (!recovery) return std::unexpected(recovery.error());
  auto size = file.size();
  if (!size) return std::unexpected(size.error());
  if (*size + extra + 2 * record_size > options_.max_log_bytes) {  // room for a recovery marker
    return fail(ErrorCode::kIo,
                "log would exceed " + std::to_string(options_.max_log_bytes) + " bytes",
                options_.path);
  }
  if (recovery->any()) {
    auto marker = appendMarker(file, options_.pcr,
                               makeRecoveryContent(recovery->torn_bytes, recovery->interrupted));
    if (!marker) return std::unexpected(marker.error());
  }
  return recovery;
}

Result<std::size_t> CelWriter::extendAndAppend(CelLogFile& file,
                                               const std::vector<CelDigest>& digests,
                                               std::string_view text, std::string_view parts_text) {
  auto start = file.size();
  if (!start) return std::unexpected(start.error());
  // Mark first: from here until the mark is cleared, a crash leaves evidence. No fsync
  // is needed for the mark: a power loss also resets the PCR (TPM 2.0 Part 1 §17.3).
  if (auto m = file.setInProgress(true); !m) return std::unexpected(m.error());
  // Parts before the extend: they extend nothing themselves, and a crash from here
  // on leaves them orphaned behind the mark (the next writer's recovery record).
  if (!parts_text.empty()) {
    if (auto a = file.append(parts_text); !a) {
      // Nothing was extended: roll back to the log as it was (the mark stays set if
      // that fails, and the next writer's recovery record covers the leftovers).
      if (file.truncate(*start) && file.setInProgress(false)) (void)file.sync();
      Error err = a.error();
      return std::unexpected(err.within("batch parts not appended (nothing extended)"));
    }
  }
  const std::uint64_t offset = *start + parts_text.size();
  std::vector<std::pair<HashAlg, Bytes>> pairs;
  for (const auto& d : digests) pairs.emplace_back(d.alg, d.value);
  if (auto e = extender_->extend(options_.pcr, pairs); !e) {
    Error err = e.error();
    return std::unexpected(err.within("pcr extend (log left marked in progress)"));
  }
  if (auto a = file.append(text); !a) {
    (void)file.truncate(offset);  // drop a partial record now; the mark stays set
    Error err = a.error();
    return std::unexpected(err.within("pcr extended but record not appended"));
  }
  if (auto sy = file.sync(); !sy) return std::unexpected(sy.error());
  if (auto m = file.setInProgress(false); !m) return std::unexpected(m.error());
  if (auto sy = file.sync(); !sy) return std::unexpected(sy.error());
  return static_cast<std::size_t>(offset);
}

Result<CelBootLogResult> CelWriter::beginBoot(std::string_view boot_id) {
  auto id = normalizeBootId(boot_id);
  if (!id) return std::unexpected(id.error());
  auto file = CelLogFile::openLocked(options_.path, options_.dir_mode);
  if (!file) return std::unexpected(file.error());
  auto size = file->size();
  if (!size) return std::unexpected(size.error());
  CelBootLogResult result;
  if (*size > 0) {
    auto head = file->read(0, static_cast<std::size_t>(
                                  std::min<std::uint64_t>(*size, options_.parse.max_record_bytes)));
    if (!head) return std::unexpected(head.error());
    auto previous = firstBootId(*head, options_.parse);
    if (previous == *id) return continueBootLog(*file);
    // Another boot's log (or not a Bulwark log): keep it for audit, start afresh.
    // Writers waiting on the old inode notice the rename in openLocked and retry.
    std::string prev = options_.path + ".prev";
    if (std::rename(options_.path.c_str(), prev.c_str()) < 0) {
      return fail(ErrorCode::kIo, std::string("rename to .prev: ") + std::strerror(errno),
                  options_.path);
    }
    result.rotated = true;
    result.previous_boot_id = previous.value_or("");
    auto fresh = CelLogFile::openLocked(options_.path, options_.dir_mode);
    if (!fresh) return std::unexpected(fresh.error());
    *file = std::move(*fresh);
  }
  result.created = !result.rotated;
  if (auto m = appendMarker(*file, options_.pcr, makeLogStartContent(*id)); !m) {
    return std::unexpected(m.error());
  }
  if (auto d = file->syncDirectory(); !d) return std::unexpected(d.error());
  return result;
}

// Same boot: keep the log, repair a crashed writer's leftovers and clear its mark
// (the recovery record now documents it).
Result<CelBootLogResult> CelWriter::continueBootLog(CelLogFile& file) {
  CelBootLogResult result;
  auto recovery = prepareLog(file, 0);
  if (!recovery) return std::unexpected(recovery.error());
  result.recovery = *recovery;
  if (recovery->interrupted) {
    if (auto m = file.setInProgress(false); !m) return std::unexpected(m.error());
  }
  return result;
}

}  // namespace bulwark::attest
