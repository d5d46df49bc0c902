#include "agent/cycle/log_file_source.h"

#include <sys/stat.h>

#include <optional>

#include "attest/cel/cel_file.h"

namespace bulwark::agent {

namespace {

constexpr std::uint32_t kBootPcrs = 0x3ff;  // PCRs 0-9: firmware and boot loader
constexpr std::uint32_t kImaPcr = 1u << 10;

bulwark::v1::EventLog makeLog(bulwark::v1::EventLog::Format format, const std::string& path,
                              const Bytes& content) {
  bulwark::v1::EventLog log;
  log.set_format(format);
  log.set_source(path);
  log.set_content(std::string(content.begin(), content.end()));
  log.set_offset(0);
  return log;
}

std::optional<LogFileIdentity> identityOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return LogFileIdentity{static_cast<std::uint64_t>(st.st_dev),
                         static_cast<std::uint64_t>(st.st_ino)};
}

// Adds the log at `path` when it exists; other read errors become notes: a log
// we cannot read is the verifier's to judge (log-missing), not a reason to stop.
// The file is identified before and after the read: only when both agree is it
// known which file the content came from (log_cursors.h caches by it).
template <typename Read>
void addLog(Collected& out, bulwark::v1::EventLog::Format format, const std::string& path,
            Read read) {
  std::optional<LogFileIdentity> before = identityOf(path);
  Result<Bytes> content = read();
  if (content) {
    out.logs.push_back(makeLog(format, path, *content));
    std::optional<LogFileIdentity> after = identityOf(path);
    if (before && before == after) out.log_files[path] = *after;
  } else if (content.error().code() != ErrorCode::kNotFound) {
    out.notes.push_back("not sending " + path + ": " + content.error().toString());
  }
}

}  // namespace

Result<Collected> LogFileSource::collect(std::uint32_t selected_pcrs) {
  Collected out;
  // Replay order (docs/api.md): firmware log first, then CEL logs.
  if (!options_.firmware_log.empty() && (selected_pcrs & kBootPcrs) != 0) {
    addLog(out, bulwark::v1::EventLog::TCG_PC_CLIENT, options_.firmware_log,
           [&] { return readFile(options_.firmware_log, options_.max_log_bytes); });
  }
  if (!options_.cel_log.empty()) {
    // Shared lock: never a snapshot with a record half-appended (cel_file.h).
    addLog(out, bulwark::v1::EventLog::CEL_JSON, options_.cel_log,
           [&] { return attest::readCelFile(options_.cel_log, options_.max_log_bytes); });
  }
  if (!options_.ima_log.empty() && (selected_pcrs & kImaPcr) != 0) {
    addLog(out, bulwark::v1::EventLog::IMA_ASCII, options_.ima_log,
           [&] { return readFile(options_.ima_log, options_.max_log_bytes); });
  }
  return out;
}

}  // namespace bulwark::agent
