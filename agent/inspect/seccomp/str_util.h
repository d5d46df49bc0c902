// Tiny string building for messages (g++ 12's libstdc++ has no <format>).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace bulwark::agent {

// "0x" + lower-case hex, zero-padded to `digits` when given.
std::string hexStr(std::uint64_t v, int digits = 0);
// Small values (<= 255) in decimal, larger ones in hex: how conditions show numbers.
std::string numStr(std::uint64_t v);

namespace detail {
inline void append(std::string& out, std::string_view s) { out += s; }
inline void append(std::string& out, const char* s) { out += s; }
inline void append(std::string& out, char c) { out += c; }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void append(std::string& out, T v) {
  out += std::to_string(v);
}
}  // namespace detail

// Concatenates strings, characters and integers (decimal).
template <typename... Args>
std::string strCat(const Args&... args) {
  std::string out;
  (detail::append(out, args), ...);
  return out;
}

}  // namespace bulwark::agent
