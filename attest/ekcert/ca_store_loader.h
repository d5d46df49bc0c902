// Edge: builds a CaStore from files and directories named in the verifier config.
#pragma once

#include <string>
#include <vector>

#include "attest/ekcert/ca_store.h"

namespace bulwark::attest {

struct CaStoreConfig {
  // Each entry is a file (PEM bundle or one DER certificate) or a directory whose
  // regular files ending in .pem, .crt, .cer or .der are read (not recursive;
  // other files such as README are ignored).
  std::vector<std::string> trusted;        // trust anchors (vendor roots, or pinned CAs)
  std::vector<std::string> intermediates;  // chain-building only, no trust
};

// Every named path must exist and every candidate file must parse: a CA store
// that silently lost a vendor CA would reject that vendor's TPMs, and one that
// loaded the wrong file must be noticed at startup (kNotFound, kIo, kMalformed
// with the path as context). A configuration with no trusted certificate at all
// is kInvalidArgument.
[[nodiscard]] Result<CaStore> loadCaStore(const CaStoreConfig& config);

}  // namespace bulwark::attest
