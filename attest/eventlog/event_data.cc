// Dispatch of typed decoding by event type (PFP §10.4.1 table) plus the small
// structures: strings, separators, tagged events and EV_NO_ACTION records.
#include "attest/eventlog/event_data.h"

#include <cstdio>
#include <cstring>

#include "attest/eventlog/reader.h"

namespace bulwark::attest::eventlog {

namespace {

bool startsWith(ByteView data, std::string_view prefix) {
  return data.size() >= prefix.size() && std::memcmp(data.data(), prefix.data(), prefix.size()) == 0;
}

std::string printable(ByteView data) {
  std::string out;
  for (std::uint8_t c : data) {
    if (c == 0) break;
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  return out;
}

Result<std::string> readSizedString(Reader& r, std::string_view what) {
  BW_TRY(n, r.u8(what));
  BW_TRY(s, r.take(*n, what));
  return decodeText(*s).text;
}

Result<EventData> decodeNoAction(const Event& ev) {
  ByteView d = ev.data;
  if (startsWith(d, std::string_view("Spec ID Event03\0", 16))) {
    BW_TRY(spec, parseSpecIdEvent(d, ev.data_offset));
    return EventData(std::move(*spec));
  }
  if (startsWith(d, std::string_view("StartupLocality\0", 16))) {
    if (d.size() != 17) {
      return fail(ErrorCode::kMalformed, "StartupLocality data of " + std::to_string(d.size()) + " bytes",
                  offsetContext(ev.offset));
    }
    return EventData(StartupLocalityEvent{d[16]});
  }
  if (startsWith(d, "SP800-155 Event")) {
    BW_TRY(sp, decodeSp800155(d, ev.data_offset));
    return EventData(std::move(*sp));
  }
  return EventData(NoActionOther{printable(d.first(std::min<std::size_t>(d.size(), 16)))});
}

Result<SeparatorData> decodeSeparator(const Event& ev) {
  if (ev.data.size() != 4) {
    return fail(ErrorCode::kMalformed, "EV_SEPARATOR data of " + std::to_string(ev.data.size()) +
                                           " bytes (expected 4)", offsetContext(ev.offset));
  }
  Reader r(ev.data, ev.data_offset);
  BW_TRY(v, r.u32("separator value"));
  return SeparatorData{*v};
}

// EV_POST_CODE / EV_S_CRTM_CONTENTS carry either a firmware blob descriptor or a
// string such as "ACPI DATA" (PFP §10.4.1 notes on these types).
Result<EventData> decodeBlobOrText(const Event& ev) {
  if (ev.data.size() == 16) {
    BW_TRY(b, decodeFirmwareBlob(ev.data, ev.data_offset, false));
    return EventData(*b);
  }
  if (!ev.data.empty() && ev.data[0] + 17u == ev.data.size()) {
    BW_TRY(b, decodeFirmwareBlob(ev.data, ev.data_offset, true));
    return EventData(*b);
  }
  return EventData(decodeText(ev.data));
}

template <typename T>
Result<EventData> wrap(Result<T> r) {
  if (!r) return std::unexpected(r.error());
  return EventData(std::move(*r));
}

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

TextData decodeText(ByteView data) {
  TextData t;
  // systemd-boot writes its UTF-16 description with one extra NUL byte (odd size).
  bool utf16 = data.size() >= 2 && (data.size() % 2 == 0 || data.back() == 0);
  for (std::size_t i = 1; utf16 && i < data.size(); i += 2) utf16 = data[i] == 0;
  if (utf16) {
    t.utf16 = true;
    t.text = utf16leToUtf8(data);
    return t;
  }
  std::size_t n = data.size();
  while (n > 0 && data[n - 1] == 0) --n;
  t.text.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t c = data[i];
    if ((c >= 0x20 && c < 0x7F) || c == '\n' || c == '\t' || c >= 0x80) {
      t.text.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      t.text += buf;
    }
  }
  return t;
}

Result<TaggedEvent> decodeTagged(ByteView data, std::size_t base) {
  Reader r(data, base);
  BW_TRY(id, r.u32("taggedEventID"));
  BW_TRY(size, r.u32("taggedEventDataSize"));
  BW_TRY(body, r.take(*size, "taggedEventData"));
  if (!r.empty()) {
    return fail(ErrorCode::kMalformed, std::to_string(r.remaining()) + " trailing bytes after tagged event",
                offsetContext(r.offset()));
  }
  return TaggedEvent{*id, Bytes(body->begin(), body->end())};
}

// TCG_Sp800_155_PlatformId_Event2/3 (PFP §10.4.5.2): u8-sized strings, u32 ids,
// Event3 adds RIM and platform-certificate locators (u32 type, u32 length, bytes).
Result<Sp800155Event> decodeSp800155(ByteView data, std::size_t base) {
  Reader r(data, base);
  Sp800155Event e;
  BW_TRY(sig, r.take(16, "SP800-155 signature"));
  e.signature = printable(*sig);
  BW_TRY(vendor, r.u32("PlatformManufacturerId"));
  e.platform_manufacturer_id = *vendor;
  BW_TRY(guid, r.take(16, "ReferenceManifestGuid"));
  e.reference_manifest_guid = Guid::fromBytes(*guid);
  BW_TRY(pm, readSizedString(r, "PlatformManufacturerStr"));
  BW_TRY(model, readSizedString(r, "PlatformModel"));
  BW_TRY(ver, readSizedString(r, "PlatformVersion"));
  BW_TRY(fm, readSizedString(r, "FirmwareManufacturerStr"));
  BW_TRY(fm_id, r.u32("FirmwareManufacturerId"));
  BW_TRY(fw_ver, readSizedString(r, "FirmwareVersion"));
  e.platform_manufacturer = *pm;
  e.platform_model = *model;
  e.platform_version = *ver;
  e.firmware_manufacturer = *fm;
  e.firmware_manufacturer_id = *fm_id;
  e.firmware_version = *fw_ver;
  if (e.signature != "SP800-155 Event3") return e;
  BW_TRY(rim_type, r.u32("RIMLocatorType"));
  BW_TRY(rim_len, r.u32("RIMLocatorLength"));
  BW_TRY(rim, r.take(*rim_len, "RIMLocator"));
  BW_TRY(cert_type, r.u32("PlatformCertLocatorType"));
  BW_TRY(cert_len, r.u32("PlatformCertLocatorLength"));
  BW_TRY(cert, r.take(*cert_len, "PlatformCertLocator"));
  e.rim_locator_type = *rim_type;
  e.rim_locator.assign(rim->begin(), rim->end());
  e.platform_cert_locator_type = *cert_type;
  e.platform_cert_locator.assign(cert->begin(), cert->end());
  return e;
}

Result<EventData> decodeEventData(const Event& ev) {
  std::size_t base = ev.data_offset;
  switch (ev.type) {
    case ev::kNoAction: return decodeNoAction(ev);
    case ev::kSeparator: return wrap(decodeSeparator(ev));
    case ev::kEfiVariableDriverConfig:
    case ev::kEfiVariableBoot:
    case ev::kEfiVariableBoot2:
    case ev::kEfiVariableAuthority: return wrap(decodeUefiVariable(ev.data, base));
    case ev::kEfiBootServicesApplication:
    case ev::kEfiBootServicesDriver:
    case ev::kEfiRuntimeServicesDriver: return wrap(decodeImageLoad(ev.data, base));
    case ev::kEfiPlatformFirmwareBlob: return wrap(decodeFirmwareBlob(ev.data, base, false));
    case ev::kEfiPlatformFirmwareBlob2: return wrap(decodeFirmwareBlob(ev.data, base, true));
    case ev::kEfiHandoffTables: return wrap(decodeHandoffTables(ev.data, base, false));
    case ev::kEfiHandoffTables2: return wrap(decodeHandoffTables(ev.data, base, true));
    case ev::kEfiGptEvent:
    case ev::kEfiGptEvent2: return wrap(decodeGpt(ev.data, base));
    case ev::kEventTag: return wrap(decodeTagged(ev.data, base));
    case ev::kPostCode:
    case ev::kSCrtmContents: return decodeBlobOrText(ev);
    case ev::kIpl:
    case ev::kEfiAction:
    case ev::kAction:
    case ev::kSCrtmVersion:
    case ev::kPlatformConfigFlags:
    case ev::kOmitBootDeviceEvents:
    case ev::kEfiHcrtmEvent: return EventData(decodeText(ev.data));
    default: return EventData(RawData{});
  }
}

std::string describe(const EventData& data) {
  struct Visitor {
    std::string operator()(const RawData&) const { return ""; }
    std::string operator()(const TextData& t) const { return "\"" + t.text + "\""; }
    std::string operator()(const SeparatorData& s) const {
      return s.isError() ? "separator (error " + hex64(s.value) + ")" : "separator";
    }
    std::string operator()(const UefiVariableData& v) const {
      return v.vendor.toString() + " " + v.name + " (" + std::to_string(v.data.size()) + " bytes)";
    }
    std::string operator()(const UefiImageLoad& i) const {
      return i.device_path_text + " (" + std::to_string(i.length) + " bytes at " + hex64(i.location) + ")";
    }
    std::string operator()(const FirmwareBlob& b) const {
      return (b.description.empty() ? "" : b.description + " ") + "blob " + hex64(b.base) + "+" + hex64(b.length);
    }
    std::string operator()(const HandoffTables& h) const {
      std::string s = h.description.empty() ? "" : h.description + " ";
      for (const auto& t : h.tables) s += t.guid.toString() + "@" + hex64(t.table) + " ";
      return s;
    }
    std::string operator()(const GptEvent& g) const {
      return "GPT disk " + g.disk_guid.toString() + ", " + std::to_string(g.partitions.size()) + " partitions";
    }
    std::string operator()(const TaggedEvent& t) const {
      return "tag " + hex64(t.id) + " \"" + decodeText(t.data).text + "\"";
    }
    std::string operator()(const StartupLocalityEvent& s) const {
      return "StartupLocality " + std::to_string(s.locality);
    }
    std::string operator()(const SpecIdEvent& s) const {
      std::string out = "Spec ID Event03 v" + std::to_string(s.version_major) + "." +
                        std::to_string(s.version_minor) + " algorithms:";
      for (const auto& a : s.algorithms) {
        auto alg = hashAlgFromId(a.alg_id);
        out += " " + (alg ? std::string(hashAlgName(*alg)) : hex64(a.alg_id)) + "/" + std::to_string(a.digest_size);
      }
      return out;
    }
    std::string operator()(const Sp800155Event& e) const {
      return e.signature + " " + e.platform_manufacturer + " " + e.platform_model + " firmware " +
             e.firmware_manufacturer + " " + e.firmware_version;
    }
    std::string operator()(const NoActionOther& n) const { return "\"" + n.signature + "\""; }
  };
  return std::visit(Visitor{}, data);
}

}  // namespace bulwark::attest::eventlog
