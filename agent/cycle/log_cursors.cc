#include "agent/cycle/log_cursors.h"

#include <algorithm>

namespace bulwark::agent {

namespace {

const std::size_t kSha256Bytes = hashAlgSize(HashAlg::kSha256);

std::string_view range(const std::string& content, std::uint64_t from, std::uint64_t to) {
  return std::string_view(content).substr(static_cast<std::size_t>(from),
                                          static_cast<std::size_t>(to - from));
}

Bytes windowHash(const std::string& content, std::uint64_t end) {
  std::uint64_t begin = end - std::min<std::uint64_t>(end, LogCursors::kWindowBytes);
  return sha256(asBytes(range(content, begin, end)));
}

}  // namespace

void LogCursors::replace(
    const google::protobuf::RepeatedPtrField<bulwark::v1::LogCursor>& cursors) {
  cursors_.clear();
  for (const bulwark::v1::LogCursor& c : cursors) {
    if (c.source().empty() || c.prefix_sha256().size() != kSha256Bytes) continue;
    cursors_[c.source()] = c;
  }
  std::erase_if(verified_, [this](const auto& v) { return !cursors_.contains(v.first); });
}

void LogCursors::clear() {
  cursors_.clear();
  verified_.clear();
}

const bulwark::v1::LogCursor* LogCursors::find(const std::string& source) const {
  auto it = cursors_.find(source);
  return it == cursors_.end() ? nullptr : &it->second;
}

Hasher LogCursors::prefixHash(const std::string& source, const std::string& content,
                                  std::uint64_t offset, std::optional<LogFileIdentity> file) const {
  auto v = verified_.find(source);
  // The remembered state applies to the same file, not beyond the new cursor, and
  // only while the bytes just before its end are still those it saw.
  if (v != verified_.end() && file && v->second.file == *file && v->second.offset <= offset &&
      windowHash(content, v->second.offset) == v->second.window_hash) {
    Hasher h = v->second.state;
    h.update(asBytes(range(content, v->second.offset, offset)));
    return h;
  }
  Hasher h(HashAlg::kSha256);
  h.update(asBytes(range(content, 0, offset)));
  return h;
}

namespace {

// The log from `offset` on; the whole content is not copied (it may be megabytes).
bulwark::v1::EventLog suffix(const bulwark::v1::EventLog& whole,
                             const bulwark::v1::LogCursor& cursor) {
  bulwark::v1::EventLog out;
  out.set_format(whole.format());
  out.set_source(whole.source());
  out.set_offset(cursor.offset());
  out.set_entries_before(cursor.entries());
  out.set_content(whole.content().substr(static_cast<std::size_t>(cursor.offset())));
  return out;
}

}  // namespace

ShippedLog LogCursors::ship(const bulwark::v1::EventLog& whole,
                            std::optional<LogFileIdentity> file) {
  auto it = cursors_.find(whole.source());
  if (it == cursors_.end()) return {.log = whole, .incremental = false, .note = {}};
  const bulwark::v1::LogCursor& cursor = it->second;
  const std::string& content = whole.content();
  std::string why;
  if (whole.offset() != 0) {
    why = "it was read from offset " + std::to_string(whole.offset());
  } else if (cursor.offset() > content.size()) {
    why = "it is shorter (" + std::to_string(content.size()) +
          " bytes) than the verifier's copy (" + std::to_string(cursor.offset()) + " bytes)";
  } else {
    Hasher h = prefixHash(whole.source(), content, cursor.offset(), file);
    if (constantTimeEqual(h.peek(), asBytes(cursor.prefix_sha256()))) {
      if (file) {
        verified_.insert_or_assign(whole.source(), Verified{*file, cursor.offset(), h,
                                                            windowHash(content, cursor.offset())});
      } else {
        verified_.erase(whole.source());
      }
      return {.log = suffix(whole, cursor), .incremental = true, .note = {}};
    }
    why = "its first " + std::to_string(cursor.offset()) +
          " bytes differ from the verifier's copy (rotated or rewritten)";
  }
  cursors_.erase(it);
  verified_.erase(whole.source());
  return {
      .log = whole, .incremental = false, .note = "sending " + whole.source() + " whole: " + why};
}

}  // namespace bulwark::agent
