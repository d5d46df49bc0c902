#include "attest/eventlog/reader.h"

#include <cstdio>

namespace bulwark::attest::eventlog {

std::string offsetContext(std::size_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "offset 0x%zx", offset);
  return buf;
}

Result<ByteView> Reader::need(std::uint64_t n, std::string_view what) {
  if (n > remaining()) {
    return fail(ErrorCode::kMalformed,
                "truncated " + std::string(what) + ": need " + std::to_string(n) + " bytes, " +
                    std::to_string(remaining()) + " left",
                offsetContext(offset()));
  }
  ByteView out = data_.subspan(pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  return out;
}

Result<std::uint8_t> Reader::u8(std::string_view what) {
  auto b = need(1, what);
  if (!b) return std::unexpected(b.error());
  return (*b)[0];
}

Result<std::uint16_t> Reader::u16(std::string_view what) {
  auto b = need(2, what);
  if (!b) return std::unexpected(b.error());
  return static_cast<std::uint16_t>((*b)[0] | ((*b)[1] << 8));
}

Result<std::uint32_t> Reader::u32(std::string_view what) {
  auto b = need(4, what);
  if (!b) return std::unexpected(b.error());
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | (*b)[static_cast<std::size_t>(i)];
  return v;
}

Result<std::uint64_t> Reader::u64(std::string_view what) {
  auto b = need(8, what);
  if (!b) return std::unexpected(b.error());
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | (*b)[static_cast<std::size_t>(i)];
  return v;
}

Result<ByteView> Reader::take(std::uint64_t n, std::string_view what) { return need(n, what); }

}  // namespace bulwark::attest::eventlog
