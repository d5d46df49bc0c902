// Bounds-checked little-endian cursor over untrusted bytes. Every read checks the
// remaining length first and fails with the absolute offset, so a parser built on
// it cannot read past its buffer whatever the input says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

// `BW_TRY(x, expr);` declares `x = expr` and returns its error from the enclosing
// function (which must return a Result) when it failed.
#define BW_TRY(var, expr) \
  auto var = (expr);      \
  if (!var) return std::unexpected(var.error())

namespace bulwark::attest::eventlog {

// "offset 0x1a2b" — the context string every parse error carries.
std::string offsetContext(std::size_t offset);

class Reader {
 public:
  // `base` is the absolute offset of data[0] in the whole log, for error messages.
  explicit Reader(ByteView data, std::size_t base = 0) : data_(data), base_(base) {}

  std::size_t offset() const { return base_ + pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  ByteView rest() const { return data_.subspan(pos_); }

  [[nodiscard]] Result<std::uint8_t> u8(std::string_view what);
  [[nodiscard]] Result<std::uint16_t> u16(std::string_view what);
  [[nodiscard]] Result<std::uint32_t> u32(std::string_view what);
  [[nodiscard]] Result<std::uint64_t> u64(std::string_view what);
  // A view of the next n bytes (n is untrusted: checked against what is left).
  [[nodiscard]] Result<ByteView> take(std::uint64_t n, std::string_view what);

 private:
  [[nodiscard]] Result<ByteView> need(std::uint64_t n, std::string_view what);

  ByteView data_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

}  // namespace bulwark::attest::eventlog
