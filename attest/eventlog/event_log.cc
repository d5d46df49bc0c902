#include "attest/eventlog/event_log.h"

#include <algorithm>
#include <cstring>

#include "attest/eventlog/event_types.h"
#include "attest/eventlog/reader.h"

namespace bulwark::attest::eventlog {

namespace {

constexpr std::size_t kSha1Size = 20;
constexpr char kSpecId03[16] = "Spec ID Event03";
constexpr char kSpecId00[16] = "Spec ID Event00";

Error withEvent(Error e, std::size_t index) {
  e.within("event " + std::to_string(index));
  return e;
}

bool hasSignature(ByteView data, const char (&sig)[16]) {
  return data.size() >= 16 && std::memcmp(data.data(), sig, 16) == 0;
}

// Reads the event data size and the data itself, enforcing the per-event cap.
Result<Bytes> readEventData(Reader& r, const ParseLimits& limits, std::size_t& data_offset) {
  std::size_t at = r.offset();
  auto size = r.u32("event data size");
  data_offset = r.offset();
  if (!size) return std::unexpected(size.error());
  if (*size > limits.max_event_data) {
    return fail(ErrorCode::kMalformed,
                "event data size " + std::to_string(*size) + " exceeds limit " +
                    std::to_string(limits.max_event_data),
                offsetContext(at));
  }
  auto data = r.take(*size, "event data");
  if (!data) return std::unexpected(data.error());
  return Bytes(data->begin(), data->end());
}

Result<std::uint32_t> readPcrIndex(Reader& r) {
  std::size_t at = r.offset();
  auto pcr = r.u32("PCR index");
  if (!pcr) return std::unexpected(pcr.error());
  if (*pcr >= kNumPcrs) {
    return fail(ErrorCode::kMalformed, "PCR index " + std::to_string(*pcr) + " out of range 0-23",
                offsetContext(at));
  }
  return *pcr;
}

// pcrIndex and eventType, common to both record layouts.
Result<Event> readHeader(Reader& r) {
  Event ev;
  ev.offset = r.offset();
  BW_TRY(pcr, readPcrIndex(r));
  BW_TRY(type, r.u32("event type"));
  ev.pcr = *pcr;
  ev.type = *type;
  return ev;
}

// TCG_PCClientPCREvent: pcr, type, SHA1 digest, size, data (PFP §10.2.1).
Result<Event> readLegacyEvent(Reader& r, const ParseLimits& limits) {
  BW_TRY(head, readHeader(r));
  Event ev = std::move(*head);
  auto d = r.take(kSha1Size, "SHA1 digest");
  if (!d) return std::unexpected(d.error());
  ev.digests.push_back({static_cast<std::uint16_t>(HashAlg::kSha1), Bytes(d->begin(), d->end())});
  auto data = readEventData(r, limits, ev.data_offset);
  if (!data) return std::unexpected(data.error());
  ev.data = std::move(*data);
  return ev;
}

// TPML_DIGEST_VALUES inside TCG_PCR_EVENT2: count, then (alg, digest) with the size
// taken from the Spec ID table (PFP §10.2.2).
Result<std::vector<EventDigest>> readDigests(Reader& r, const SpecIdEvent& spec) {
  std::size_t at = r.offset();
  auto count = r.u32("digest count");
  if (!count) return std::unexpected(count.error());
  if (*count > spec.algorithms.size()) {
    return fail(ErrorCode::kMalformed,
                "digest count " + std::to_string(*count) + " exceeds the " +
                    std::to_string(spec.algorithms.size()) + " algorithms of the Spec ID event",
                offsetContext(at));
  }
  std::vector<EventDigest> out;
  out.reserve(*count);
  for (std::uint32_t i = 0; i < *count; ++i) {
    std::size_t alg_at = r.offset();
    auto alg = r.u16("digest algorithm");
    if (!alg) return std::unexpected(alg.error());
    auto row = std::find_if(spec.algorithms.begin(), spec.algorithms.end(),
                            [&](const AlgorithmSize& a) { return a.alg_id == *alg; });
    if (row == spec.algorithms.end()) {
      return fail(ErrorCode::kMalformed,
                  "digest algorithm 0x" + toHex(Bytes{static_cast<std::uint8_t>(*alg >> 8),
                                                      static_cast<std::uint8_t>(*alg)}) +
                      " not in the Spec ID event",
                  offsetContext(alg_at));
    }
    for (const auto& prev : out) {
      if (prev.alg_id == *alg) {
        return fail(ErrorCode::kMalformed, "duplicate digest algorithm in one event",
                    offsetContext(alg_at));
      }
    }
    auto d = r.take(row->digest_size, "digest");
    if (!d) return std::unexpected(d.error());
    out.push_back({*alg, Bytes(d->begin(), d->end())});
  }
  return out;
}

Result<Event> readAgileEvent(Reader& r, const SpecIdEvent& spec, const ParseLimits& limits) {
  BW_TRY(head, readHeader(r));
  Event ev = std::move(*head);
  auto digests = readDigests(r, spec);
  if (!digests) return std::unexpected(digests.error());
  ev.digests = std::move(*digests);
  auto data = readEventData(r, limits, ev.data_offset);
  if (!data) return std::unexpected(data.error());
  ev.data = std::move(*data);
  return ev;
}

bool allZero(ByteView b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}

Result<void> checkAlgorithmRow(const AlgorithmSize& row, std::size_t at) {
  if (row.digest_size == 0 || row.digest_size > 128) {
    return fail(ErrorCode::kMalformed,
                "digest size " + std::to_string(row.digest_size) + " out of range 1-128",
                offsetContext(at));
  }
  auto known = hashAlgFromId(row.alg_id);
  if (known && hashAlgSize(*known) != row.digest_size) {
    return fail(ErrorCode::kMalformed,
                std::string(hashAlgName(*known)) + " declared with digest size " +
                    std::to_string(row.digest_size),
                offsetContext(at));
  }
  return {};
}

}  // namespace

const Bytes* Event::digestFor(HashAlg alg) const {
  for (const auto& d : digests) {
    if (d.alg_id == static_cast<std::uint16_t>(alg)) return &d.digest;
  }
  return nullptr;
}

std::string logFormatName(LogFormat f) {
  return f == LogFormat::kCryptoAgile ? "crypto-agile" : "sha1-legacy";
}

Result<SpecIdEvent> parseSpecIdEvent(ByteView data, std::size_t base, std::size_t max_algorithms) {
  Reader r(data, base);
  auto sig = r.take(16, "Spec ID signature");
  if (!sig) return std::unexpected(sig.error());
  if (!hasSignature(*sig, kSpecId03)) {
    return fail(ErrorCode::kMalformed, "not a \"Spec ID Event03\" structure", offsetContext(base));
  }
  SpecIdEvent s;
  auto platform = r.u32("platformClass");
  auto minor = platform ? r.u8("specVersionMinor") : std::unexpected(platform.error());
  auto major = minor ? r.u8("specVersionMajor") : std::unexpected(minor.error());
  auto errata = major ? r.u8("specErrata") : std::unexpected(major.error());
  auto uintn = errata ? r.u8("uintnSize") : std::unexpected(errata.error());
  if (!uintn) return std::unexpected(uintn.error());
  s.platform_class = *platform;
  s.version_minor = *minor;
  s.version_major = *major;
  s.errata = *errata;
  s.uintn_size = *uintn;
  if (s.version_major != 2) {
    return fail(ErrorCode::kUnsupported,
                "Spec ID version " + std::to_string(s.version_major) + "." +
                    std::to_string(s.version_minor) + " (expected 2.x)",
                offsetContext(base));
  }
  std::size_t count_at = r.offset();
  auto count = r.u32("numberOfAlgorithms");
  if (!count) return std::unexpected(count.error());
  if (*count == 0 || *count > max_algorithms) {
    return fail(ErrorCode::kMalformed,
                "numberOfAlgorithms " + std::to_string(*count) + " out of range 1-" +
                    std::to_string(max_algorithms),
                offsetContext(count_at));
  }
  for (std::uint32_t i = 0; i < *count; ++i) {
    std::size_t at = r.offset();
    auto alg = r.u16("algorithmId");
    auto size = alg ? r.u16("digestSize") : std::unexpected(alg.error());
    if (!size) return std::unexpected(size.error());
    AlgorithmSize row{*alg, *size};
    if (auto ok = checkAlgorithmRow(row, at); !ok) return std::unexpected(ok.error());
    for (const auto& prev : s.algorithms) {
      if (prev.alg_id == row.alg_id) {
        return fail(ErrorCode::kMalformed, "duplicate algorithm in Spec ID event", offsetContext(at));
      }
    }
    s.algorithms.push_back(row);
  }
  auto vendor_size = r.u8("vendorInfoSize");
  if (!vendor_size) return std::unexpected(vendor_size.error());
  auto vendor = r.take(*vendor_size, "vendorInfo");
  if (!vendor) return std::unexpected(vendor.error());
  s.vendor_info.assign(vendor->begin(), vendor->end());
  return s;
}

Result<EventLog> parseEventLog(ByteView log, const ParseLimits& limits) {
  if (log.size() > limits.max_log_bytes) {
    return fail(ErrorCode::kMalformed,
                "log of " + std::to_string(log.size()) + " bytes exceeds limit " +
                    std::to_string(limits.max_log_bytes),
                offsetContext(0));
  }
  if (log.empty()) return fail(ErrorCode::kMalformed, "empty event log", offsetContext(0));
  Reader r(log);
  EventLog out;
  auto first = readLegacyEvent(r, limits);
  if (!first) return std::unexpected(withEvent(first.error(), 0));
  // The Spec ID record: EV_NO_ACTION on PCR 0 with a zero digest (PFP §10.4.5.1).
  if (first->type == ev::kNoAction && first->pcr == 0 && hasSignature(first->data, kSpecId03)) {
    if (!allZero(first->digests[0].digest)) {
      return fail(ErrorCode::kMalformed, "Spec ID event with a non-zero digest", offsetContext(0));
    }
    auto spec = parseSpecIdEvent(first->data, first->data_offset, limits.max_algorithms);
    if (!spec) return std::unexpected(withEvent(spec.error(), 0));
    out.format = LogFormat::kCryptoAgile;
    out.spec_id = std::move(*spec);
  } else if (first->type == ev::kNoAction && hasSignature(first->data, kSpecId00)) {
    // "Spec ID Event00": a SHA1-format log written by TPM 1.2-era firmware; stays legacy.
    out.format = LogFormat::kSha1Legacy;
  }
  out.events.push_back(std::move(*first));
  while (!r.empty()) {
    if (allZero(r.rest())) {
      out.trailing_zero_bytes = r.remaining();
      break;
    }
    std::size_t index = out.events.size();
    if (index >= limits.max_events) {
      return fail(ErrorCode::kMalformed,
                  "more than " + std::to_string(limits.max_events) + " events",
                  offsetContext(r.offset()));
    }
    auto ev = out.format == LogFormat::kCryptoAgile ? readAgileEvent(r, *out.spec_id, limits)
                                                    : readLegacyEvent(r, limits);
    if (!ev) return std::unexpected(withEvent(ev.error(), index));
    ev->index = index;
    out.events.push_back(std::move(*ev));
  }
  return out;
}

}  // namespace bulwark::attest::eventlog
