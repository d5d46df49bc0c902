#include "attest/ekcert/ca_store.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <utility>

#include "attest/ekcert/x509_util.h"

namespace bulwark::attest {

using ekcert_detail::parseCertificates;

CaStore::CaStore() : store_(X509_STORE_new()), intermediates_(sk_X509_new_null()) {}

CaStore::~CaStore() {
  X509_STORE_free(store_);
  sk_X509_pop_free(intermediates_, X509_free);
}

CaStore::CaStore(CaStore&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)),
      intermediates_(std::exchange(other.intermediates_, nullptr)),
      trusted_(std::exchange(other.trusted_, 0)) {}

CaStore& CaStore::operator=(CaStore&& other) noexcept {
  std::swap(store_, other.store_);
  std::swap(intermediates_, other.intermediates_);
  std::swap(trusted_, other.trusted_);
  return *this;
}

std::size_t CaStore::intermediateCount() const {
  return intermediates_ ? static_cast<std::size_t>(sk_X509_num(intermediates_)) : 0;
}

Result<std::size_t> CaStore::addTrusted(ByteView pem_or_der) {
  if (store_ == nullptr) return fail(ErrorCode::kInternal, "CA store was moved from");
  auto certs = parseCertificates(pem_or_der);
  if (!certs) return std::unexpected(certs.error().within("trusted CA certificate"));
  for (auto& cert : *certs) {
    // X509_STORE_add_cert takes its own reference; a duplicate is not an error.
    if (X509_STORE_add_cert(store_, cert.get()) != 1) {
      return fail(ErrorCode::kCrypto, "X509_STORE_add_cert failed");
    }
  }
  trusted_ += certs->size();
  return certs->size();
}

Result<std::size_t> CaStore::addIntermediates(ByteView pem_or_der) {
  if (intermediates_ == nullptr) return fail(ErrorCode::kInternal, "CA store was moved from");
  auto certs = parseCertificates(pem_or_der);
  if (!certs) return std::unexpected(certs.error().within("intermediate CA certificate"));
  for (auto& cert : *certs) {
    if (sk_X509_push(intermediates_, cert.get()) <= 0) {
      return fail(ErrorCode::kCrypto, "sk_X509_push failed");
    }
    (void)cert.release();  // the stack owns it now
  }
  return certs->size();
}

}  // namespace bulwark::attest
