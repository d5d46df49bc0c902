// Typed decoding of firmware event data (TCG PC Client PFP v1.05 §10.4 and the
// UEFI structures it references). decodeEventData() never trusts a length: every
// structure is read through the bounds-checked Reader, and an error names the
// structure and the offset. Records whose type carries no structure (or that the
// PFP leaves vendor-defined) decode to RawData.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/error.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"

namespace bulwark::attest::eventlog {

struct RawData {};

// EV_IPL, EV_EFI_ACTION, EV_ACTION, EV_S_CRTM_VERSION, EV_POST_CODE strings, ...
struct TextData {
  std::string text;  // UTF-8; trailing NULs dropped
  bool utf16 = false;
};

// EV_SEPARATOR: 0 normally, 1 or 0xFFFFFFFF when firmware signals an error (PFP §3.3.2.2).
struct SeparatorData {
  std::uint32_t value = 0;
  bool isError() const { return value != 0; }
};

// UEFI_VARIABLE_DATA (PFP §10.2.6): EV_EFI_VARIABLE_DRIVER_CONFIG/BOOT/BOOT2/AUTHORITY.
struct UefiVariableData {
  Guid vendor;
  std::string name;  // UnicodeName as UTF-8
  Bytes data;        // VariableData
  std::size_t trailing_bytes = 0;  // bytes after VariableData (a shim quirk)
};

// UEFI_IMAGE_LOAD_EVENT (PFP §10.2.3): EV_EFI_BOOT_SERVICES_APPLICATION/DRIVER,
// EV_EFI_RUNTIME_SERVICES_DRIVER.
struct UefiImageLoad {
  std::uint64_t location = 0;
  std::uint64_t length = 0;
  std::uint64_t link_time_address = 0;
  Bytes device_path;
  std::string device_path_text;  // best effort, e.g. "PciRoot(0x0)/.../\EFI\BOOT\BOOTX64.EFI"
  std::size_t trailing_bytes = 0;  // bytes after the device path (a shim quirk)
};

// UEFI_PLATFORM_FIRMWARE_BLOB / BLOB2 (PFP §10.2.4): description only in BLOB2.
struct FirmwareBlob {
  std::string description;
  std::uint64_t base = 0;
  std::uint64_t length = 0;
};

struct HandoffTable {
  Guid guid;
  std::uint64_t table = 0;
};

// UEFI_HANDOFF_TABLE_POINTERS / POINTERS2 (PFP §10.2.5).
struct HandoffTables {
  std::string description;
  std::vector<HandoffTable> tables;
};

struct GptPartition {
  Guid type;
  Guid unique;
  std::uint64_t first_lba = 0;
  std::uint64_t last_lba = 0;
  std::uint64_t attributes = 0;
  std::string name;
};

// UEFI_GPT_DATA (PFP §10.2.7): the GPT header plus the used partition entries.
struct GptEvent {
  Guid disk_guid;
  std::vector<GptPartition> partitions;
};

// TCG_PCClientTaggedEvent (PFP §10.2.9): EV_EVENT_TAG.
struct TaggedEvent {
  std::uint32_t id = 0;
  Bytes data;
};

// EV_NO_ACTION "StartupLocality" (PFP §10.4.5.3).
struct StartupLocalityEvent {
  std::uint8_t locality = 0;
};

// EV_NO_ACTION "SP800-155 Event3" / "SP800-155 Event2" platform identifier (PFP §10.4.5.2;
// Event2 has no locators).
struct Sp800155Event {
  std::string signature;
  std::uint32_t platform_manufacturer_id = 0;
  Guid reference_manifest_guid;
  std::string platform_manufacturer;
  std::string platform_model;
  std::string platform_version;
  std::string firmware_manufacturer;
  std::uint32_t firmware_manufacturer_id = 0;
  std::string firmware_version;
  std::uint32_t rim_locator_type = 0;
  Bytes rim_locator;
  std::uint32_t platform_cert_locator_type = 0;
  Bytes platform_cert_locator;
};

// Any other EV_NO_ACTION record: its 16-byte signature, printable part only.
struct NoActionOther {
  std::string signature;
};

using EventData = std::variant<RawData, TextData, SeparatorData, UefiVariableData, UefiImageLoad,
                               FirmwareBlob, HandoffTables, GptEvent, TaggedEvent,
                               StartupLocalityEvent, SpecIdEvent, Sp800155Event, NoActionOther>;

// Decodes `ev.data` by `ev.type`. Errors: kMalformed with the structure name and the
// absolute offset (ev.offset is used as the base).
[[nodiscard]] Result<EventData> decodeEventData(const Event& ev);

// Pieces exposed for the typed decoder's tests and for boot facts.
[[nodiscard]] Result<UefiVariableData> decodeUefiVariable(ByteView data, std::size_t base = 0);
[[nodiscard]] Result<UefiImageLoad> decodeImageLoad(ByteView data, std::size_t base = 0);
[[nodiscard]] Result<GptEvent> decodeGpt(ByteView data, std::size_t base = 0);
[[nodiscard]] Result<TaggedEvent> decodeTagged(ByteView data, std::size_t base = 0);
[[nodiscard]] Result<Sp800155Event> decodeSp800155(ByteView data, std::size_t base = 0);
[[nodiscard]] Result<FirmwareBlob> decodeFirmwareBlob(ByteView data, std::size_t base, bool v2);
[[nodiscard]] Result<HandoffTables> decodeHandoffTables(ByteView data, std::size_t base, bool v2);
// UEFI device path (UEFI spec §10.3) rendered as text; malformed nodes end the
// rendering with "<malformed device path>" rather than failing.
std::string devicePathToText(ByteView path);

// Text heuristics for display: UTF-16LE when every high byte of an even-length
// buffer is zero, otherwise 8-bit with trailing NULs dropped.
TextData decodeText(ByteView data);

// One-line human description of decoded data (for `bulwarkctl eventlog show`).
std::string describe(const EventData& data);

}  // namespace bulwark::attest::eventlog
