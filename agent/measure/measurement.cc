#include "agent/measure/measurement.h"

#include <algorithm>
#include <tuple>

namespace bulwark::agent {

bulwark::v1::Measurement toProto(const Measurement& m) {
  bulwark::v1::Measurement p;
  p.set_kind(m.kind);
  p.set_subject(m.subject);
  p.set_sha256(std::string(m.sha256.begin(), m.sha256.end()));
  for (const auto& [k, v] : m.attributes) (*p.mutable_attributes())[k] = v;
  return p;
}

attest::BatchEntry toBatchEntry(const Measurement& m) {
  return attest::BatchEntry{m.kind, m.subject, m.sha256};
}

void sortMeasurements(std::vector<Measurement>& ms) {
  std::sort(ms.begin(), ms.end(), [](const Measurement& a, const Measurement& b) {
    return std::tie(a.kind, a.subject, a.sha256) < std::tie(b.kind, b.subject, b.sha256);
  });
}

bool isUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 (RFC 3629 §3).
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += n;
  }
  return true;
}

std::string percentEncodeNonUtf8(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || ch == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace bulwark::agent
