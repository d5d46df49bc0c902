// Boot facts: what a replayed firmware log says about how the machine booted.
// Pure. A fact taken from event *data* is only reported as bound when the record's
// digests (every bank Bulwark can hash) equal the hash of that data in the form the
// measuring component hashed it; otherwise the data is just a label the firmware or
// an attacker wrote, and the facts say so. Digest-only facts (boot applications,
// files grub loaded) come from the digests themselves, which the replay binds.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/core/error.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"

namespace bulwark::attest::eventlog {

// Linux EFI stub EV_EVENT_TAG ids (drivers/firmware/efi/libstub): PCR 9.
inline constexpr std::uint32_t kInitrdEventTag = 0x8F3B22EC;
inline constexpr std::uint32_t kLoadOptionsEventTag = 0x8F3B22ED;

// A Secure Boot policy variable measured into PCR 7 (EV_EFI_VARIABLE_DRIVER_CONFIG).
struct SecureBootVariable {
  std::string name;  // "PK", "KEK", "db", "dbx"
  Guid vendor;
  std::size_t size = 0;     // bytes of VariableData (0: variable absent)
  Bytes data_sha256;        // SHA-256 of VariableData
  std::size_t event_index = 0;
};

// EV_EFI_BOOT_SERVICES_APPLICATION / _DRIVER / EV_EFI_RUNTIME_SERVICES_DRIVER: the
// record digests are the PE/COFF Authenticode hashes of the loaded image.
struct LoadedImage {
  std::uint32_t type = 0;
  std::uint32_t pcr = 0;
  std::size_t event_index = 0;
  std::map<HashAlg, Bytes> digests;
  std::string path;  // device path text: informational, not bound to the digest
};

struct KernelCmdline {
  std::string text;
  std::string source;  // "grub", "grub-rhel", "systemd-boot"
  std::uint32_t pcr = 0;
  std::size_t event_index = 0;
  bool bound = false;  // record digests == H(text as measured)
};

// A file measured by its content digest (grub PCR 9, Linux EFI stub tags).
struct MeasuredFile {
  std::string path;    // label from the log (not bound)
  std::string source;  // "grub", "grub-rhel", "efi-stub"
  std::size_t event_index = 0;
  std::map<HashAlg, Bytes> digests;
};

struct BootFacts {
  // nullopt: no SecureBoot variable was measured (state unknown).
  std::optional<bool> secure_boot;
  std::vector<SecureBootVariable> secure_boot_variables;  // PK, KEK, db, dbx, in log order
  std::vector<LoadedImage> boot_applications;             // EV_EFI_BOOT_SERVICES_APPLICATION
  std::vector<LoadedImage> drivers;                       // boot/runtime services drivers
  std::vector<KernelCmdline> kernel_cmdlines;
  std::vector<MeasuredFile> kernels;
  std::vector<MeasuredFile> initrds;
  std::array<bool, 8> separators{};                       // PCRs 0-7 saw an EV_SEPARATOR
  std::vector<std::uint32_t> error_separators;            // PCRs whose separator signals an error
  std::vector<std::string> inconsistencies;               // data/digest disagreements worth showing

  const SecureBootVariable* variable(std::string_view name) const;
  bool allSeparatorsPresent() const;
};

// Extracts the facts. Errors (kMalformed): a record the facts depend on does not
// decode, the SecureBoot variable is not bound to its digest, is measured twice
// with different values, or is measured after PCR 7's separator.
[[nodiscard]] Result<BootFacts> bootFacts(const EventLog& log);

// True when every digest of `ev` in a bank Bulwark can hash equals H(data), and at
// least one such bank exists.
bool digestsMatch(const Event& ev, ByteView data);

}  // namespace bulwark::attest::eventlog
