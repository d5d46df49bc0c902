// Byte buffers, hex and small digest helpers shared by every layer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"

namespace bulwark {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Lower-case hex, no separators.
std::string toHex(ByteView bytes);
// Accepts upper or lower case, optional "0x" prefix; rejects odd length and non-hex.
Result<Bytes> fromHex(std::string_view hex);

inline ByteView asBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Constant-time equality for secrets and MACs (length is not secret).
bool constantTimeEqual(ByteView a, ByteView b);

// Reads a whole file (bounded by max_bytes; larger files are an error).
Result<Bytes> readFile(const std::string& path, std::size_t max_bytes = 64u << 20);
// Writes atomically (temp file + fsync + rename) with the given mode.
Result<void> writeFileAtomic(const std::string& path, ByteView data, unsigned mode = 0600);

}  // namespace bulwark
