// Test harness: a private, freshly manufactured swtpm per suite.
//
// start() creates a temp dir, writes a private swtpm_localca configuration (its own
// root CA + intermediate "issuer" CA, so tests never touch /var/lib/swtpm-localca),
// manufactures a TPM 2.0 with swtpm_setup (RSA-2048 EK and ECC EK with certificates
// in NV, the requested PCR banks) and starts `swtpm socket` on two consecutive free
// loopback ports (the tss2 swtpm TCTI uses port and port+1). The destructor stops the
// process and removes every file it created.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "attest/core/error.h"

namespace bulwark::testing {

struct SwtpmOptions {
  std::string pcr_banks = "sha1,sha256";
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

class Swtpm {
 public:
  static Result<std::unique_ptr<Swtpm>> start(const SwtpmOptions& options = {});
  ~Swtpm();
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  // TCTI config string for both our EsysTpm and tpm2-tools ("swtpm:host=127.0.0.1,port=N").
  std::string tcti() const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }     // private temp dir (scratch files welcome)
  std::string stateDir() const { return dir_ + "/state"; }
  std::string rootCaPem() const { return dir_ + "/ca/swtpm-localca-rootca-cert.pem"; }
  std::string issuerCaPem() const { return dir_ + "/ca/issuercert.pem"; }

  // Simulates a reboot: stops swtpm and starts it again on the same state
  // (TPM2_Startup(CLEAR) → resetCount increments, PCRs 0-15 reset).
  Result<void> restart();

  // Runs `sh -c cmd` with TPM2TOOLS_TCTI pointing at this swtpm and cwd = dir().
  CommandResult run(const std::string& cmd) const;

 private:
  Swtpm() = default;
  Result<void> launch();
  void stop();

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Runs `sh -c cmd` (no TPM environment), capturing output.
CommandResult runCommand(const std::string& cmd, const std::string& cwd = {});

}  // namespace bulwark::testing
