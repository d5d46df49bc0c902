#include "attest/cel/bulwark_content.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace bulwark::attest {

namespace {

using nlohmann::json;

bool isLowerHex(const std::string& s, std::size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Iterative walk (content can come from an untrusted log): floats have no single
// textual form across implementations, so canonical content admits integers only.
bool hasFloat(const json& root) {
  std::vector<const json*> todo{&root};
  while (!todo.empty()) {
    const json* v = todo.back();
    todo.pop_back();
    if (v->is_number_float()) return true;
    if (v->is_structured()) {
      for (const auto& child : *v) todo.push_back(&child);
    }
  }
  return false;
}

Result<void> requireString(const json& obj, const char* name, std::size_t max) {
  if (!obj.contains(name) || !obj.at(name).is_string()) {
    return fail(ErrorCode::kMalformed, std::string("'") + name + "' is missing or not a string");
  }
  const auto& s = obj.at(name).get_ref<const std::string&>();
  if (s.empty() || s.size() > max) {
    return fail(ErrorCode::kMalformed, std::string("'") + name + "' is empty or longer than " +
                                           std::to_string(max) + " bytes");
  }
  return {};
}

Result<void> validateEntry(const json& e, std::size_t i) {
  auto where = "batch[" + std::to_string(i) + "]: ";
  if (!e.is_object()) return fail(ErrorCode::kMalformed, where + "not an object");
  for (auto [name, max] : {std::pair{"kind", kBulwarkMaxKind}, {"subject", kBulwarkMaxSubject}}) {
    if (auto r = requireString(e, name, max); !r) {
      return fail(ErrorCode::kMalformed, where + r.error().message());
    }
  }
  if (!e.contains("sha256") || !e.at("sha256").is_string() ||
      !isLowerHex(e.at("sha256").get_ref<const std::string&>(), 64)) {
    return fail(ErrorCode::kMalformed, where + "'sha256' is not 64 lower-case hex digits");
  }
  return {};
}

Result<void> validateBatch(const json& c) {
  if (!c.contains("batch") || !c.at("batch").is_array() || c.at("batch").empty()) {
    return fail(ErrorCode::kMalformed, "'batch' is missing, not an array or empty");
  }
  std::size_t i = 0;
  for (const auto& e : c.at("batch")) {
    if (auto r = validateEntry(e, i++); !r) return r;
  }
  return {};
}

// "parts" is optional; when present it lists at least one part (a batch without
// parts has no "parts" member, so a log has one spelling for it).
Result<void> validateParts(const json& c) {
  if (!c.contains("parts")) return {};
  const json& parts = c.at("parts");
  if (!parts.is_array() || parts.empty()) {
    return fail(ErrorCode::kMalformed, "'parts' is not a non-empty array");
  }
  std::size_t i = 0;
  for (const auto& h : parts) {
    if (!h.is_string() || !isLowerHex(h.get_ref<const std::string&>(), 64)) {
      return fail(ErrorCode::kMalformed,
                  "parts[" + std::to_string(i) + "] is not 64 lower-case hex digits");
    }
    ++i;
  }
  return {};
}

json entryList(std::span<const BatchEntry> entries) {
  json list = json::array();
  for (const auto& e : entries) {
    list.push_back({{"kind", e.kind}, {"subject", e.subject}, {"sha256", toHex(e.sha256)}});
  }
  return list;
}

Result<void> validateRecovery(const json& c) {
  if (!c.contains("torn_bytes") || !c.at("torn_bytes").is_number_unsigned()) {
    return fail(ErrorCode::kMalformed, "'torn_bytes' is missing or not an unsigned integer");
  }
  if (!c.contains("interrupted") || !c.at("interrupted").is_boolean()) {
    return fail(ErrorCode::kMalformed, "'interrupted' is missing or not a boolean");
  }
  return {};
}

}  // namespace

json makeBatchContent(std::span<const BatchEntry> entries, std::span<const Bytes> parts) {
  json c{{"version", kBulwarkContentVersion}, {"event", "batch"}, {"batch", entryList(entries)}};
  if (!parts.empty()) {
    json list = json::array();
    for (const auto& h : parts) list.push_back(toHex(h));
    c["parts"] = std::move(list);
  }
  return c;
}

json makeBatchPartContent(std::span<const BatchEntry> entries) {
  return {
      {"version", kBulwarkContentVersion}, {"event", "batch-part"}, {"batch", entryList(entries)}};
}

json makeLogStartContent(std::string_view boot_id) {
  return {{"version", kBulwarkContentVersion},
          {"event", "log-start"},
          {"boot_id", std::string(boot_id)}};
}

json makeRecoveryContent(std::size_t torn_bytes, bool interrupted) {
  return {{"version", kBulwarkContentVersion},
          {"event", "recovery"},
          {"torn_bytes", static_cast<std::uint64_t>(torn_bytes)},
          {"interrupted", interrupted}};
}

Result<std::string> canonicalContent(const json& content) {
  if (hasFloat(content)) {
    return fail(ErrorCode::kMalformed, "canonical content admits no floating-point numbers");
  }
  try {
    // nlohmann::json stores objects in a std::map<std::string, ...>, so dump() emits
    // members in byte-wise key order; indent -1 = no whitespace; ensure_ascii=false.
    return content.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return fail(ErrorCode::kMalformed, std::string("content is not valid UTF-8: ") + e.what());
  }
}

Result<Bytes> batchPartHash(const json& content) {
  auto canonical = canonicalContent(content);
  if (!canonical) return std::unexpected(canonical.error());
  return sha256(asBytes(*canonical));
}

Result<std::vector<CelDigest>> bulwarkDigests(const json& content, std::span<const HashAlg> banks) {
  auto canonical = canonicalContent(content);
  if (!canonical) return std::unexpected(canonical.error());
  std::vector<CelDigest> out;
  for (HashAlg alg : banks) out.push_back({alg, digest(alg, asBytes(*canonical))});
  return out;
}

namespace {

// Canonical sizes for planning a multi-record batch: content = overhead + entries
// joined by ',' (+ the parts list for the batch record).
struct BatchSizes {
  std::vector<std::size_t> entry;  // canonical bytes of each entry object
  std::size_t part_overhead = 0;   // {"batch":[],"event":"batch-part","version":1}
  std::size_t batch_overhead = 0;  // {"batch":[],"event":"batch","version":1}

  static std::size_t listBytes(std::size_t items, std::size_t item_bytes_sum) {
    return item_bytes_sum + (items > 0 ? items - 1 : 0);
  }
  // ,"parts":["<64 hex>",...] for `parts` hashes.
  static std::size_t partsBytes(std::size_t parts) {
    return parts == 0 ? 0 : std::string_view(",\"parts\":[]").size() + listBytes(parts, parts * 66);
  }
};

Result<BatchSizes> batchSizes(std::span<const BatchEntry> entries) {
  BatchSizes s;
  for (const auto& e : entries) {
    auto c = canonicalContent(entryList(std::span(&e, 1)).at(0));
    if (!c) return std::unexpected(c.error());
    s.entry.push_back(c->size());
  }
  s.part_overhead = canonicalContent(makeBatchPartContent({}))->size();
  s.batch_overhead = canonicalContent(makeBatchContent({}))->size();
  return s;
}

// Splits entries [0, n) into part ranges and a final batch range: the batch takes
// entries from the end while they fit next to a list of `reserved` part hashes;
// the rest fill parts greedily. Returns the part boundaries (each part [b[i],
// b[i+1])), the last boundary being where the batch's entries start.
Result<std::vector<std::size_t>> planParts(const BatchSizes& s, std::size_t max,
                                           std::size_t reserved) {
  std::size_t n = s.entry.size();
  std::size_t tail = n, bytes = 0;
  while (tail > 0) {
    std::size_t next = bytes + s.entry[tail - 1];
    std::size_t total = s.batch_overhead + BatchSizes::listBytes(n - tail + 1, next) +
                        BatchSizes::partsBytes(reserved);
    if (total > max) break;
    bytes = next;
    --tail;
  }
  if (tail == n) {
    return fail(ErrorCode::kMalformed, "the batch record cannot hold an entry next to " +
                                           std::to_string(reserved) + " parts' hashes within " +
                                           std::to_string(max) + " bytes");
  }
  std::vector<std::size_t> bounds{0};
  std::size_t count = 0;
  bytes = 0;
  for (std::size_t i = 0; i < tail; ++i) {
    std::size_t next = bytes + s.entry[i];
    if (count > 0 && s.part_overhead + BatchSizes::listBytes(count + 1, next) > max) {
      bounds.push_back(i);
      count = 0;
      next = s.entry[i];
    }
    if (s.part_overhead + s.entry[i] > max) {
      return fail(ErrorCode::kMalformed, "a batch entry does not fit one record");
    }
    bytes = next;
    ++count;
  }
  if (tail > 0) bounds.push_back(tail);
  return bounds;
}

}  // namespace

Result<std::vector<json>> makeBatchRecords(std::span<const BatchEntry> entries,
                                           std::size_t max_content_bytes) {
  if (entries.empty()) return fail(ErrorCode::kInvalidArgument, "a batch needs entries");
  auto sizes = batchSizes(entries);
  if (!sizes) return std::unexpected(sizes.error());
  std::size_t all = 0;
  for (std::size_t b : sizes->entry) all += b;
  if (sizes->batch_overhead + BatchSizes::listBytes(entries.size(), all) <= max_content_bytes) {
    return std::vector<json>{makeBatchContent(entries)};
  }
  // More parts need a longer list in the batch, which can push entries out of it
  // into one more part: grow the reservation until it covers the parts planned.
  std::vector<std::size_t> bounds;
  for (std::size_t reserved = 1;;) {
    auto plan = planParts(*sizes, max_content_bytes, reserved);
    if (!plan) return std::unexpected(plan.error());
    bounds = std::move(*plan);
    if (bounds.size() - 1 <= reserved) break;
    reserved = bounds.size() - 1;
  }
  std::vector<json> out;
  std::vector<Bytes> hashes;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    out.push_back(makeBatchPartContent(entries.subspan(bounds[i], bounds[i + 1] - bounds[i])));
    auto h = batchPartHash(out.back());
    if (!h) return std::unexpected(h.error());
    hashes.push_back(std::move(*h));
  }
  out.push_back(makeBatchContent(entries.subspan(bounds.back()), hashes));
  return out;
}

Result<BulwarkEvent> validateBulwarkContent(const json& c) {
  if (!c.is_object()) return fail(ErrorCode::kMalformed, "content is not an object");
  if (!c.contains("version") || !c.at("version").is_number_unsigned()) {
    return fail(ErrorCode::kMalformed, "'version' is missing or not an unsigned integer");
  }
  if (c.at("version").get<std::uint64_t>() != kBulwarkContentVersion) {
    return fail(ErrorCode::kUnsupported,
                "content version " + std::to_string(c.at("version").get<std::uint64_t>()));
  }
  if (!c.contains("event") || !c.at("event").is_string()) {
    return fail(ErrorCode::kMalformed, "'event' is missing or not a string");
  }
  const auto& event = c.at("event").get_ref<const std::string&>();
  if (event == "batch") {
    if (auto r = validateBatch(c); !r) return std::unexpected(r.error());
    if (auto r = validateParts(c); !r) return std::unexpected(r.error());
    return BulwarkEvent::kBatch;
  }
  if (event == "batch-part") {
    if (auto r = validateBatch(c); !r) return std::unexpected(r.error());
    return BulwarkEvent::kBatchPart;
  }
  if (event == "log-start") {
    if (!c.contains("boot_id") || !c.at("boot_id").is_string() ||
        !isLowerHex(c.at("boot_id").get_ref<const std::string&>(), 32)) {
      return fail(ErrorCode::kMalformed, "'boot_id' is not 32 lower-case hex digits");
    }
    return BulwarkEvent::kLogStart;
  }
  if (event == "recovery") {
    if (auto r = validateRecovery(c); !r) return std::unexpected(r.error());
    return BulwarkEvent::kRecovery;
  }
  return fail(ErrorCode::kUnsupported, "unknown event \"" + event + "\"");
}

}  // namespace bulwark::attest
