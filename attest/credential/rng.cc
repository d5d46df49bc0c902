#include "attest/credential/rng.h"

#include <openssl/rand.h>

#include <limits>

#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

Result<void> OpenSslRng::fill(std::span<std::uint8_t> out) {
  constexpr std::size_t kChunk = std::numeric_limits<int>::max();
  while (!out.empty()) {
    std::size_t n = out.size() < kChunk ? out.size() : kChunk;
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
      return fail(ErrorCode::kCrypto, opensslErrors(), "RAND_bytes");
    }
    out = out.subspan(n);
  }
  return {};
}

Rng& defaultRng() {
  static OpenSslRng rng;
  return rng;
}

}  // namespace bulwark::attest
