// UEFI structures inside firmware event data (PFP §10.2.3-§10.2.7, UEFI spec §5.3
// and §10.3). Every count and length comes from the log, so each is bounded by the
// bytes actually present before anything is allocated.
#include <cstdio>

#include "attest/eventlog/event_data.h"
#include "attest/eventlog/reader.h"

namespace bulwark::attest::eventlog {

namespace {

Result<Guid> readGuid(Reader& r, std::string_view what) {
  BW_TRY(b, r.take(16, what));
  return Guid::fromBytes(*b);
}

Result<void> expectEnd(const Reader& r, std::string_view what) {
  if (r.empty()) return {};
  return fail(ErrorCode::kMalformed,
              std::to_string(r.remaining()) + " trailing bytes after " + std::string(what),
              offsetContext(r.offset()));
}

// u8 size then that many bytes of text: the *2 variants' description (PFP §10.2.4-5).
Result<std::string> readDescription(Reader& r, std::string_view what) {
  BW_TRY(n, r.u8(what));
  BW_TRY(desc, r.take(*n, what));
  return decodeText(*desc).text;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

// Reads a u64 count of fixed-size items and checks they fit in what is left.
Result<std::uint64_t> readCount(Reader& r, std::uint64_t item_size, std::string_view what) {
  std::size_t at = r.offset();
  BW_TRY(n, r.u64(what));
  if (*n > r.remaining() / item_size) {
    return fail(ErrorCode::kMalformed,
                std::string(what) + " " + std::to_string(*n) + " exceeds the " +
                    std::to_string(r.remaining()) + " bytes left",
                offsetContext(at));
  }
  return *n;
}

std::string renderHardware(std::uint8_t sub, ByteView d) {
  if (sub == 1 && d.size() >= 2) return "Pci(" + hex32(d[1]) + "," + hex32(d[0]) + ")";
  if (sub == 4 && d.size() >= 16) return "VenHw(" + Guid::fromBytes(d).toString() + ")";
  return "HardwarePath(" + std::to_string(sub) + ")";
}

std::string renderAcpi(std::uint8_t sub, ByteView d) {
  if (sub == 1 && d.size() >= 8) {
    std::uint32_t hid = d[0] | (d[1] << 8) | (d[2] << 16) | (static_cast<std::uint32_t>(d[3]) << 24);
    std::uint32_t uid = d[4] | (d[5] << 8) | (d[6] << 16) | (static_cast<std::uint32_t>(d[7]) << 24);
    if (hid == 0x0A0341D0 || hid == 0x0A0841D0) return "PciRoot(" + hex32(uid) + ")";
    return "Acpi(" + hex32(hid) + "," + hex32(uid) + ")";
  }
  return "AcpiPath(" + std::to_string(sub) + ")";
}

std::string renderMessaging(std::uint8_t sub, ByteView d) {
  auto u16at = [&](std::size_t i) { return static_cast<unsigned>(d[i] | (d[i + 1] << 8)); };
  if (sub == 2 && d.size() >= 4) return "Scsi(" + hex32(u16at(0)) + "," + hex32(u16at(2)) + ")";
  if (sub == 5 && d.size() >= 2) return "USB(" + hex32(d[0]) + "," + hex32(d[1]) + ")";
  if (sub == 18 && d.size() >= 6) {
    return "Sata(" + hex32(u16at(0)) + "," + hex32(u16at(2)) + "," + hex32(u16at(4)) + ")";
  }
  if (sub == 23 && d.size() >= 4) {
    return "NVMe(" + hex32(d[0] | (d[1] << 8) | (d[2] << 16) | (static_cast<std::uint32_t>(d[3]) << 24)) + ")";
  }
  if (sub == 24) return "Uri(" + std::string(d.begin(), d.end()) + ")";
  if (sub == 11) return "MAC()";
  return "Msg(" + std::to_string(sub) + ")";
}

std::string renderMedia(std::uint8_t sub, ByteView d) {
  if (sub == 1 && d.size() >= 38) {
    std::uint32_t part = d[0] | (d[1] << 8) | (d[2] << 16) | (static_cast<std::uint32_t>(d[3]) << 24);
    bool gpt = d[36] == 2 && d[37] == 2;
    return "HD(" + std::to_string(part) + "," + (gpt ? "GPT," + Guid::fromBytes(d.subspan(20, 16)).toString() : "MBR") + ")";
  }
  if (sub == 3 && d.size() >= 16) return "VenMedia(" + Guid::fromBytes(d).toString() + ")";
  if (sub == 4) return utf16leToUtf8(d);
  if (sub == 6 && d.size() >= 16) return "FvFile(" + Guid::fromBytes(d).toString() + ")";
  if (sub == 7 && d.size() >= 16) return "Fv(" + Guid::fromBytes(d).toString() + ")";
  if (sub == 8 && d.size() >= 16) return "Offset(" + std::to_string(d.size()) + ")";
  return "MediaPath(" + std::to_string(sub) + ")";
}

std::string renderNode(std::uint8_t type, std::uint8_t sub, ByteView d) {
  switch (type) {
    case 1: return renderHardware(sub, d);
    case 2: return renderAcpi(sub, d);
    case 3: return renderMessaging(sub, d);
    case 4: return renderMedia(sub, d);
    case 5: return "BBS(" + std::to_string(sub) + ")";
    default: return "Path(" + std::to_string(type) + "," + std::to_string(sub) + ")";
  }
}

}  // namespace

std::string devicePathToText(ByteView path) {
  std::string out;
  std::size_t pos = 0;
  // Each node: Type, SubType, Length (u16, includes the 4-byte header). UEFI §10.3.1.
  while (pos < path.size()) {
    if (path.size() - pos < 4) return out + "<malformed device path>";
    std::uint8_t type = path[pos];
    std::uint8_t sub = path[pos + 1];
    std::size_t len = path[pos + 2] | (path[pos + 3] << 8);
    if (len < 4 || len > path.size() - pos) return out + "<malformed device path>";
    if (type == 0x7F) {
      if (sub == 0xFF) return out;
      out += ",";
    } else {
      if (!out.empty() && out.back() != ',') out += "/";
      out += renderNode(type, sub, path.subspan(pos + 4, len - 4));
    }
    pos += len;
  }
  return out;
}

Result<UefiVariableData> decodeUefiVariable(ByteView data, std::size_t base) {
  Reader r(data, base);
  UefiVariableData v;
  BW_TRY(guid, readGuid(r, "UEFI_VARIABLE_DATA.VariableName"));
  v.vendor = *guid;
  BW_TRY(name_len, r.u64("UnicodeNameLength"));
  BW_TRY(data_len, r.u64("VariableDataLength"));
  if (*name_len > r.remaining() / 2) {
    return fail(ErrorCode::kMalformed,
                "UnicodeNameLength " + std::to_string(*name_len) + " exceeds the data",
                offsetContext(r.offset()));
  }
  BW_TRY(name, r.take(*name_len * 2, "UnicodeName"));
  v.name = utf16leToUtf8(*name);
  BW_TRY(value, r.take(*data_len, "VariableData"));
  v.data.assign(value->begin(), value->end());
  // shim's EV_EFI_VARIABLE_AUTHORITY records carry 6 stray bytes after the data
  // (Debian 10, COS 85/93): kept visible, not fatal. Boot facts only trust variable
  // data whose record digest matches, so these bytes cannot smuggle anything in.
  v.trailing_bytes = r.remaining();
  return v;
}

Result<UefiImageLoad> decodeImageLoad(ByteView data, std::size_t base) {
  Reader r(data, base);
  UefiImageLoad img;
  BW_TRY(loc, r.u64("ImageLocationInMemory"));
  BW_TRY(len, r.u64("ImageLengthInMemory"));
  BW_TRY(link, r.u64("ImageLinkTimeAddress"));
  BW_TRY(dp_len, r.u64("LengthOfDevicePath"));
  BW_TRY(dp, r.take(*dp_len, "DevicePath"));
  img.location = *loc;
  img.length = *len;
  img.link_time_address = *link;
  img.device_path.assign(dp->begin(), dp->end());
  img.device_path_text = devicePathToText(*dp);
  // shim measures its second stage with LengthOfDevicePath 0 and a few stray bytes
  // after the structure (seen on Debian 10, RHEL 8, Ubuntu 18.04): keep, not fail.
  img.trailing_bytes = r.remaining();
  return img;
}

Result<GptEvent> decodeGpt(ByteView data, std::size_t base) {
  Reader r(data, base);
  // UEFI_PARTITION_TABLE_HEADER is 92 bytes (UEFI §5.3.2); pick out what we show.
  BW_TRY(sig, r.take(8, "GPT signature"));
  if (std::string_view(reinterpret_cast<const char*>(sig->data()), 8) != "EFI PART") {
    return fail(ErrorCode::kMalformed, "GPT header without \"EFI PART\" signature", offsetContext(base));
  }
  BW_TRY(skip, r.take(48, "GPT header"));
  GptEvent g;
  BW_TRY(disk, readGuid(r, "DiskGUID"));
  g.disk_guid = *disk;
  BW_TRY(rest, r.take(12, "GPT header"));
  std::size_t size_at = r.offset();
  BW_TRY(entry_size, r.u32("SizeOfPartitionEntry"));
  BW_TRY(crc, r.u32("PartitionEntryArrayCRC32"));
  if (*entry_size < 128 || *entry_size > 4096) {
    return fail(ErrorCode::kMalformed, "SizeOfPartitionEntry " + std::to_string(*entry_size),
                offsetContext(size_at));
  }
  BW_TRY(count, readCount(r, *entry_size, "NumberOfPartitions"));
  for (std::uint64_t i = 0; i < *count; ++i) {
    BW_TRY(entry, r.take(*entry_size, "partition entry"));
    Reader e(*entry, r.offset() - *entry_size);
    GptPartition p;
    auto type = readGuid(e, "PartitionTypeGUID");
    auto uniq = readGuid(e, "UniquePartitionGUID");
    auto first = e.u64("StartingLBA");
    auto last = e.u64("EndingLBA");
    auto attrs = e.u64("Attributes");
    auto name = e.take(72, "PartitionName");
    if (!type || !uniq || !first || !last || !attrs || !name) {
      return fail(ErrorCode::kInternal, "partition entry shorter than 128 bytes", offsetContext(e.offset()));
    }
    p.type = *type;
    p.unique = *uniq;
    p.first_lba = *first;
    p.last_lba = *last;
    p.attributes = *attrs;
    p.name = utf16leToUtf8(*name);
    g.partitions.push_back(std::move(p));
  }
  if (auto end = expectEnd(r, "UEFI_GPT_DATA"); !end) return std::unexpected(end.error());
  return g;
}

Result<FirmwareBlob> decodeFirmwareBlob(ByteView data, std::size_t base, bool v2) {
  Reader r(data, base);
  FirmwareBlob b;
  if (v2) {
    BW_TRY(desc, readDescription(r, "BlobDescription"));
    b.description = std::move(*desc);
  }
  BW_TRY(addr, r.u64("BlobBase"));
  BW_TRY(len, r.u64("BlobLength"));
  b.base = *addr;
  b.length = *len;
  if (auto end = expectEnd(r, "UEFI_PLATFORM_FIRMWARE_BLOB"); !end) return std::unexpected(end.error());
  return b;
}

Result<HandoffTables> decodeHandoffTables(ByteView data, std::size_t base, bool v2) {
  Reader r(data, base);
  HandoffTables h;
  if (v2) {
    BW_TRY(desc, readDescription(r, "TableDescription"));
    h.description = std::move(*desc);
  }
  BW_TRY(count, readCount(r, 24, "NumberOfTables"));
  for (std::uint64_t i = 0; i < *count; ++i) {
    BW_TRY(guid, readGuid(r, "VendorGuid"));
    BW_TRY(ptr, r.u64("VendorTable"));
    h.tables.push_back({*guid, *ptr});
  }
  if (auto end = expectEnd(r, "UEFI_HANDOFF_TABLE_POINTERS"); !end) return std::unexpected(end.error());
  return h;
}

}  // namespace bulwark::attest::eventlog
