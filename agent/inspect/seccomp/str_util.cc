#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {

std::string hexStr(std::uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string body;
  do {
    body.insert(body.begin(), kDigits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  if (static_cast<int>(body.size()) < digits) {
    body.insert(0, static_cast<std::size_t>(digits) - body.size(), '0');
  }
  return "0x" + body;
}

std::string numStr(std::uint64_t v) { return v <= 255 ? std::to_string(v) : hexStr(v); }

}  // namespace bulwark::agent
