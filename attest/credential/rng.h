// Randomness as an injected dependency, so the credential maths is deterministic
// under test (known-answer vectors) and uses OpenSSL's DRBG in production.
#pragma once

#include <cstdint>
#include <span>

#include "attest/core/error.h"

namespace bulwark::attest {

class Rng {
 public:
  virtual ~Rng() = default;
  // Fills `out` completely with unpredictable bytes. An Error means no bytes may be
  // used (callers must not fall back to anything weaker).
  [[nodiscard]] virtual Result<void> fill(std::span<std::uint8_t> out) = 0;
};

// RAND_bytes from OpenSSL's default provider (a seeded CTR-DRBG).
class OpenSslRng final : public Rng {
 public:
  [[nodiscard]] Result<void> fill(std::span<std::uint8_t> out) override;
};

// A process-wide OpenSslRng; stateless, safe to share between threads.
Rng& defaultRng();

}  // namespace bulwark::attest
