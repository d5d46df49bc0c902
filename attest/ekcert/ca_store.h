// The verifier's TPM-vendor CA store: trust anchors plus untrusted intermediates,
// built from bytes (PEM bundles or single DER certificates). Pure: no paths here;
// ca_store_loader.h reads files and directories into one.
#pragma once

#include <cstddef>
#include <memory>

#include "attest/core/bytes.h"

typedef struct x509_store_st X509_STORE;
struct stack_st_X509;  // STACK_OF(X509)

namespace bulwark::attest {

class CaStore {
 public:
  CaStore();
  ~CaStore();
  CaStore(CaStore&&) noexcept;
  CaStore& operator=(CaStore&&) noexcept;
  CaStore(const CaStore&) = delete;
  CaStore& operator=(const CaStore&) = delete;

  // Adds every certificate in `bytes` as a trust anchor. Anchors need not be
  // self-signed: an operator may pin a vendor's intermediate (chain building stops
  // at any anchor, OpenSSL X509_V_FLAG_PARTIAL_CHAIN). Returns how many were added;
  // kMalformed if the bytes hold no certificate or a broken one.
  [[nodiscard]] Result<std::size_t> addTrusted(ByteView pem_or_der);
  // Adds certificates that may be used to build a chain but confer no trust
  // (vendor intermediate CAs). Same errors.
  [[nodiscard]] Result<std::size_t> addIntermediates(ByteView pem_or_der);

  std::size_t trustedCount() const { return trusted_; }
  std::size_t intermediateCount() const;

  // For the verifier in ek_cert.cc. Owned by this store; valid while it lives.
  X509_STORE* anchors() const { return store_; }
  stack_st_X509* intermediates() const { return intermediates_; }

 private:
  X509_STORE* store_;
  stack_st_X509* intermediates_;
  std::size_t trusted_ = 0;
};

}  // namespace bulwark::attest
