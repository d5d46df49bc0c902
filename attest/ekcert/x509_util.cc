#include "attest/ekcert/x509_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <string_view>

namespace bulwark::attest::ekcert_detail {

bool looksLikePem(ByteView bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return text.find("-----BEGIN ") != std::string_view::npos;
}

namespace {

Result<std::vector<X509Ptr>> parsePem(ByteView bytes) {
  if (bytes.size() > (64u << 20)) return fail(ErrorCode::kMalformed, "PEM input too large");
  BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
  if (bio == nullptr) return fail(ErrorCode::kCrypto, "BIO_new_mem_buf failed");
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  // The loop ends with "no start line" after the last certificate; anything else
  // (bad base64, broken DER inside a CERTIFICATE block) is a malformed bundle.
  unsigned long err = ERR_peek_last_error();
  bool clean_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  BIO_free(bio);
  if (!clean_end) return fail(ErrorCode::kMalformed, "PEM data holds a broken certificate");
  if (certs.empty()) return fail(ErrorCode::kMalformed, "PEM data holds no CERTIFICATE block");
  return certs;
}

Result<std::vector<X509Ptr>> parseDer(ByteView bytes) {
  if (bytes.empty()) return fail(ErrorCode::kMalformed, "empty certificate");
  if (bytes.size() > (1u << 20)) return fail(ErrorCode::kMalformed, "certificate too large");
  const unsigned char* p = bytes.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
  if (!cert) {
    ERR_clear_error();
    return fail(ErrorCode::kMalformed, "not a DER X.509 certificate");
  }
  ByteView rest = bytes.subspan(static_cast<std::size_t>(p - bytes.data()));
  bool padding = std::all_of(rest.begin(), rest.end(), [](auto b) { return b == 0x00; }) ||
                 std::all_of(rest.begin(), rest.end(), [](auto b) { return b == 0xff; });
  if (!padding) return fail(ErrorCode::kMalformed, "trailing bytes after the DER certificate");
  std::vector<X509Ptr> out;
  out.push_back(std::move(cert));
  return out;
}

}  // namespace

Result<std::vector<X509Ptr>> parseCertificates(ByteView bytes) {
  return looksLikePem(bytes) ? parsePem(bytes) : parseDer(bytes);
}

}  // namespace bulwark::attest::ekcert_detail
