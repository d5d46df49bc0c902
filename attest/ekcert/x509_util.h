// Internal helpers of the ekcert module: owning X509 pointers and certificate
// decoding from PEM or DER bytes.
#pragma once

#include <openssl/x509.h>

#include <memory>
#include <vector>

#include "attest/core/bytes.h"

namespace bulwark::attest::ekcert_detail {

struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

bool looksLikePem(ByteView bytes);

// Every certificate in a PEM bundle (at least one), or exactly one DER
// certificate. kMalformed otherwise; a DER certificate followed by anything but
// all-0x00 or all-0xFF padding (what NV indices larger than the certificate hold)
// is malformed too.
Result<std::vector<X509Ptr>> parseCertificates(ByteView bytes);

}  // namespace bulwark::attest::ekcert_detail
