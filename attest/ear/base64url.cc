#include "attest/ear/base64url.h"

#include <openssl/evp.h>

namespace bulwark::attest {

std::string base64urlEncode(ByteView data) {
  if (data.empty()) return {};
  // EVP_EncodeBlock writes 4 output bytes per 3 input bytes plus a NUL.
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

Result<Bytes> base64urlDecode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return fail(ErrorCode::kMalformed, "base64url length " + std::to_string(text.size()) +
                                           " is not a valid encoding length");
  }
  std::string std64;
  std64.reserve(text.size() + 3);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!ok) {
      return fail(ErrorCode::kMalformed,
                  "invalid base64url character at offset " + std::to_string(i));
    }
    std64.push_back(c);
  }
  std::size_t pad = (4 - std64.size() % 4) % 4;
  std64.append(pad, '=');
  if (std64.empty()) return Bytes{};
  Bytes out(std64.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(std64.data()),
                          static_cast<int>(std64.size()));
  if (n < 0) return fail(ErrorCode::kMalformed, "base64url does not decode");
  // EVP_DecodeBlock counts the bytes the padding stands for; drop them.
  out.resize(static_cast<std::size_t>(n) - pad);
  // Canonical form only: re-encoding must give back the input (rejects
  // non-zero unused bits in the final symbol).
  if (base64urlEncode(out) != text) {
    return fail(ErrorCode::kMalformed, "base64url has non-canonical trailing bits");
  }
  return out;
}

}  // namespace bulwark::attest
