#include "attest/quote/qualifying_data.h"

#include "attest/core/digest.h"

namespace bulwark::attest {

Bytes qualifyingData(ByteView nonce, ByteView report) {
  Bytes report_hash = sha256(report);
  Hasher h(HashAlg::kSha256);
  h.update(nonce).update(report_hash);
  return h.finish();
}

}  // namespace bulwark::attest
