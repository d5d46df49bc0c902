// TCTI configuration strings (which transport reaches the TPM), validated before
// anything is handed to Tss2_TctiLdr, so a typo is a clear kInvalidArgument and not
// an opaque loader error. Pure: string in, value out.
//
// Accepted forms (docs/tpm.md):
//   ""                              → device:/dev/tpmrm0 (the kernel resource manager)
//   device[:<absolute path>]        → tss2-tcti-device, default path /dev/tpmrm0
//   swtpm[:host=<h>,port=<n>]       → tss2-tcti-swtpm (control channel on port n+1)
//   mssim[:host=<h>,port=<n>]       → tss2-tcti-mssim (platform channel on port n+1)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "attest/core/error.h"

namespace bulwark::attest {

enum class TctiKind { kDevice, kSwtpm, kMssim };

struct TctiConfig {
  TctiKind kind = TctiKind::kDevice;
  std::string device_path = "/dev/tpmrm0";  // kDevice only
  std::string host = "127.0.0.1";           // kSwtpm / kMssim
  std::uint16_t port = 2321;                // kSwtpm / kMssim

  // The "name:conf" string Tss2_TctiLdr_Initialize understands.
  std::string loaderString() const;
};

inline constexpr std::string_view kDefaultTcti = "device:/dev/tpmrm0";

// Parses and validates a TCTI configuration string. kInvalidArgument names the
// offending part (unknown TCTI, unknown key, bad port, relative device path, ...).
[[nodiscard]] Result<TctiConfig> parseTctiConfig(std::string_view text);

}  // namespace bulwark::attest
