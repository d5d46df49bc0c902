#include "attest/eventlog/event_types.h"

#include <cstdio>
#include <utility>

namespace bulwark::attest::eventlog {

namespace {
struct NamedType {
  std::uint32_t type;
  std::string_view name;
};

constexpr NamedType kNames[] = {
    {ev::kPrebootCert, "EV_PREBOOT_CERT"},
    {ev::kPostCode, "EV_POST_CODE"},
    {ev::kUnused, "EV_UNUSED"},
    {ev::kNoAction, "EV_NO_ACTION"},
    {ev::kSeparator, "EV_SEPARATOR"},
    {ev::kAction, "EV_ACTION"},
    {ev::kEventTag, "EV_EVENT_TAG"},
    {ev::kSCrtmContents, "EV_S_CRTM_CONTENTS"},
    {ev::kSCrtmVersion, "EV_S_CRTM_VERSION"},
    {ev::kCpuMicrocode, "EV_CPU_MICROCODE"},
    {ev::kPlatformConfigFlags, "EV_PLATFORM_CONFIG_FLAGS"},
    {ev::kTableOfDevices, "EV_TABLE_OF_DEVICES"},
    {ev::kCompactHash, "EV_COMPACT_HASH"},
    {ev::kIpl, "EV_IPL"},
    {ev::kIplPartitionData, "EV_IPL_PARTITION_DATA"},
    {ev::kNonhostCode, "EV_NONHOST_CODE"},
    {ev::kNonhostConfig, "EV_NONHOST_CONFIG"},
    {ev::kNonhostInfo, "EV_NONHOST_INFO"},
    {ev::kOmitBootDeviceEvents, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {ev::kPostCode2, "EV_POST_CODE2"},
    {ev::kEfiVariableDriverConfig, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {ev::kEfiVariableBoot, "EV_EFI_VARIABLE_BOOT"},
    {ev::kEfiBootServicesApplication, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {ev::kEfiBootServicesDriver, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {ev::kEfiRuntimeServicesDriver, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {ev::kEfiGptEvent, "EV_EFI_GPT_EVENT"},
    {ev::kEfiAction, "EV_EFI_ACTION"},
    {ev::kEfiPlatformFirmwareBlob, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {ev::kEfiHandoffTables, "EV_EFI_HANDOFF_TABLES"},
    {ev::kEfiPlatformFirmwareBlob2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {ev::kEfiHandoffTables2, "EV_EFI_HANDOFF_TABLES2"},
    {ev::kEfiVariableBoot2, "EV_EFI_VARIABLE_BOOT2"},
    {ev::kEfiGptEvent2, "EV_EFI_GPT_EVENT2"},
    {ev::kEfiHcrtmEvent, "EV_EFI_HCRTM_EVENT"},
    {ev::kEfiVariableAuthority, "EV_EFI_VARIABLE_AUTHORITY"},
    {ev::kEfiSpdmFirmwareBlob, "EV_EFI_SPDM_FIRMWARE_BLOB"},
    {ev::kEfiSpdmFirmwareConfig, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
    {ev::kEfiSpdmDevicePolicy, "EV_EFI_SPDM_DEVICE_POLICY"},
    {ev::kEfiSpdmDeviceAuthority, "EV_EFI_SPDM_DEVICE_AUTHORITY"},
};

constexpr Guid makeGuid(std::uint32_t a, std::uint16_t b, std::uint16_t c,
                        std::array<std::uint8_t, 8> d) {
  Guid g;
  for (int i = 0; i < 4; ++i) g.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (8 * i));
  g.bytes[4] = static_cast<std::uint8_t>(b);
  g.bytes[5] = static_cast<std::uint8_t>(b >> 8);
  g.bytes[6] = static_cast<std::uint8_t>(c);
  g.bytes[7] = static_cast<std::uint8_t>(c >> 8);
  for (std::size_t i = 0; i < 8; ++i) g.bytes[8 + i] = d[i];
  return g;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}
}  // namespace

const Guid kEfiGlobalVariableGuid =
    makeGuid(0x8BE4DF61, 0x93CA, 0x11D2, {0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C});
const Guid kImageSecurityDatabaseGuid =
    makeGuid(0xD719B2CB, 0x3D3A, 0x4596, {0xA3, 0xBC, 0xDA, 0xD0, 0x0E, 0x67, 0x65, 0x6F});

std::string eventTypeName(std::uint32_t type) {
  for (const auto& n : kNames) {
    if (n.type == type) return std::string(n.name);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "EV_UNKNOWN_0x%08x", type);
  return buf;
}

Guid Guid::fromBytes(ByteView b16) {
  Guid g;
  for (std::size_t i = 0; i < 16 && i < b16.size(); ++i) g.bytes[i] = b16[i];
  return g;
}

std::string Guid::toString() const {
  const auto& b = bytes;
  char buf[40];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2],
                b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

std::string utf16leToUtf8(ByteView data, bool stop_at_nul) {
  std::string out;
  out.reserve(data.size() / 2);
  std::size_t n = data.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u = data[2 * i] | (static_cast<std::uint32_t>(data[2 * i + 1]) << 8);
    if (u == 0 && stop_at_nul) break;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n) {
      std::uint32_t lo = data[2 * i + 2] | (static_cast<std::uint32_t>(data[2 * i + 3]) << 8);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        appendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        ++i;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) u = 0xFFFD;
    appendUtf8(out, u);
  }
  return out;
}

}  // namespace bulwark::attest::eventlog
