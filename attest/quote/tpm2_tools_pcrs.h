// The PCR file `tpm2_quote -o` writes and `tpm2_checkquote -f` reads (tpm2-tools
// 5.x "serialized" pcrs format, its default). tpm2-tools dumps its in-memory
// structs, so the layout is tpm2-tss's C layout on a little-endian host:
//
//   TPML_PCR_SELECTION   132 bytes: u32 count, 16 x TPMS_PCR_SELECTION
//                        (u16 hash, u8 sizeofSelect, u8 pcrSelect[4], 1 pad byte)
//   u32 n                number of TPML_DIGEST records that follow (<= 32)
//   n x TPML_DIGEST      532 bytes each: u32 count (<= 8), 8 x TPM2B_DIGEST
//                        (u16 size, u8 buffer[64])
//
// All integers little-endian; array slots past a count and padding are ignored.
// The digests, flattened in order, are the selected PCR values bank by bank in
// selection order, indices ascending.
#pragma once

#include <span>

#include "attest/core/bytes.h"
#include "attest/quote/pcr_selection.h"

namespace bulwark::attest {

struct Tpm2ToolsPcrs {
  PcrSelection selection;
  PcrValues values;  // exactly the selected PCRs, in selection order
};

// Parses the file; any size or count inconsistency, unknown bank or digest of the
// wrong size is kMalformed (kUnsupported for a bank hash we do not handle).
[[nodiscard]] Result<Tpm2ToolsPcrs> parseTpm2ToolsPcrs(ByteView bytes);

// Writes the same format (8 digests per TPML_DIGEST, zeroed slots), e.g. for
// tpm2_checkquote -f. Requires checkPcrValuesMatch(selection, values).
[[nodiscard]] Result<Bytes> serializeTpm2ToolsPcrs(const PcrSelection& selection,
                                                   std::span<const PcrBankValues> values);

}  // namespace bulwark::attest
