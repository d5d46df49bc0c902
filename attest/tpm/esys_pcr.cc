// EsysTpm: PCR read/extend and quotes.
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstring>

#include "attest/tpm/esys_core.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

using esys::EsysPtr;
using esys::tssError;

namespace {

// Part 2 §10.6.2: pcrSelect is sizeofSelect bytes, bit i%8 of byte i/8 selects PCR i.
// Three bytes (PCR_SELECT_MIN of the PC Client platform) unless PCR 24+ is asked for.
TPMS_PCR_SELECTION toTpms(const PcrBankSelection& bank) {
  TPMS_PCR_SELECTION s{};
  s.hash = static_cast<TPMI_ALG_HASH>(bank.alg);
  s.sizeofSelect = (bank.mask >> 24) != 0 ? 4 : 3;
  for (unsigned i = 0; i < s.sizeofSelect; ++i) {
    s.pcrSelect[i] = static_cast<BYTE>(bank.mask >> (8 * i));
  }
  return s;
}

TPML_PCR_SELECTION toTpml(const PcrSelection& selection) {
  TPML_PCR_SELECTION list{};
  for (const PcrBankSelection& bank : selection.banks()) {
    list.pcrSelections[list.count++] = toTpms(bank);
  }
  return list;
}

bool anySelected(const TPML_PCR_SELECTION& list) {
  for (UINT32 b = 0; b < list.count; ++b) {
    for (unsigned i = 0; i < list.pcrSelections[b].sizeofSelect; ++i) {
      if (list.pcrSelections[b].pcrSelect[i] != 0) return true;
    }
  }
  return false;
}

// Moves the digests of one TPM2_PCR_Read response into `out` and clears their bits in
// `remaining`. Part 3 §22.4: the TPM returns at most 8 digests, in selection order,
// and pcrSelectionOut says which.
Result<std::size_t> takeDigests(const TPML_PCR_SELECTION& got, const TPML_DIGEST& values,
                                TPML_PCR_SELECTION& remaining, PcrValues& out) {
  std::size_t k = 0;
  for (UINT32 b = 0; b < got.count && b < TPM2_NUM_PCR_BANKS; ++b) {
    const TPMS_PCR_SELECTION& s = got.pcrSelections[b];
    auto bank = std::find_if(out.begin(), out.end(), [&](const PcrBankValues& v) {
      return static_cast<TPMI_ALG_HASH>(v.alg) == s.hash;
    });
    TPMS_PCR_SELECTION* rem = nullptr;
    for (UINT32 r = 0; r < remaining.count; ++r) {
      if (remaining.pcrSelections[r].hash == s.hash) rem = &remaining.pcrSelections[r];
    }
    for (unsigned i = 0; i < s.sizeofSelect * 8u && i < TPM2_PCR_SELECT_MAX * 8u; ++i) {
      if ((s.pcrSelect[i / 8] & (1u << (i % 8))) == 0) continue;
      if (bank == out.end() || rem == nullptr || k >= values.count ||
          (rem->pcrSelect[i / 8] & (1u << (i % 8))) == 0) {
        return fail(ErrorCode::kTpm, "PCR_Read returned a selection that was not asked for",
                    "Esys_PCR_Read");
      }
      const TPM2B_DIGEST& d = values.digests[k++];
      bank->values.push_back(PcrValue{i, Bytes(d.buffer, d.buffer + d.size)});
      rem->pcrSelect[i / 8] &= static_cast<BYTE>(~(1u << (i % 8)));
    }
  }
  if (k != values.count) {
    return fail(ErrorCode::kTpm, "PCR_Read digest count does not match its selection",
                "Esys_PCR_Read");
  }
  return k;
}

// One consistent pass: every call must report the same pcrUpdateCounter, otherwise a
// PCR changed between the chunks and the caller starts over (Part 3 §22.4.1).
Result<bool> readPass(ESYS_CONTEXT* ctx, const PcrSelection& selection, PcrValues& out) {
  out.clear();
  for (const PcrBankSelection& bank : selection.banks()) out.push_back(PcrBankValues{bank.alg, {}});
  TPML_PCR_SELECTION remaining = toTpml(selection);
  bool first = true;
  UINT32 counter0 = 0;
  while (anySelected(remaining)) {
    UINT32 counter = 0;
    TPML_PCR_SELECTION* sel_raw = nullptr;
    TPML_DIGEST* val_raw = nullptr;
    TSS2_RC rc = Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &remaining, &counter,
                               &sel_raw, &val_raw);
    EsysPtr<TPML_PCR_SELECTION> sel(sel_raw);
    EsysPtr<TPML_DIGEST> values(val_raw);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_PCR_Read", rc));
    if (!first && counter != counter0) return false;
    first = false;
    counter0 = counter;
    auto took = takeDigests(*sel, *values, remaining, out);
    if (!took) return std::unexpected(took.error());
    if (*took == 0) {
      // Nothing returned although PCRs remain: that bank is not allocated (or the
      // index does not exist on this TPM).
      return fail(ErrorCode::kNotFound, "PCR bank not allocated or PCR index out of range",
                  selection.toString());
    }
  }
  for (PcrBankValues& bank : out) {
    std::sort(bank.values.begin(), bank.values.end(),
              [](const PcrValue& a, const PcrValue& b) { return a.index < b.index; });
  }
  return true;
}

}  // namespace

Result<PcrValues> EsysTpm::readPcrs(const PcrSelection& selection) {
  if (selection.empty()) return fail(ErrorCode::kInvalidArgument, "empty PCR selection");
  PcrValues out;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto consistent = readPass(core_->ctx, selection, out);
    if (!consistent) return std::unexpected(consistent.error());
    if (*consistent) return out;
  }
  return fail(ErrorCode::kTpm, "PCRs kept changing while being read", "Esys_PCR_Read");
}

Result<void> EsysTpm::extendPcr(std::uint32_t index, std::span<const TaggedDigest> digests) {
  if (index >= TPM2_MAX_PCRS) {
    return fail(ErrorCode::kInvalidArgument,
                "PCR index " + std::to_string(index) + " out of range");
  }
  if (digests.empty() || digests.size() > TPM2_NUM_PCR_BANKS) {
    return fail(ErrorCode::kInvalidArgument, "extendPcr needs 1..16 bank digests");
  }
  TPML_DIGEST_VALUES values{};
  for (const TaggedDigest& d : digests) {
    if (d.digest.size() != hashAlgSize(d.alg)) {
      return fail(ErrorCode::kInvalidArgument, std::string(hashAlgName(d.alg)) +
                                                   " digest must be " +
                                                   std::to_string(hashAlgSize(d.alg)) + " bytes");
    }
    TPMT_HA& ha = values.digests[values.count++];
    ha.hashAlg = static_cast<TPMI_ALG_HASH>(d.alg);
    std::memcpy(&ha.digest, d.digest.data(), d.digest.size());
  }
  // ESYS_TR_PCR0..PCR31 are consecutive; PCR auth is the empty password (Part 3 §22.2).
  TSS2_RC rc = Esys_PCR_Extend(core_->ctx, ESYS_TR_PCR0 + index, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &values);
  if (rc != TSS2_RC_SUCCESS) {
    return std::unexpected(tssError("Esys_PCR_Extend", rc).within("PCR " + std::to_string(index)));
  }
  return {};
}

Result<QuoteResult> EsysTpm::quoteOnce(const TpmObject& ak, const PcrSelection& selection,
                                       ByteView qualifying_data) {
  TPM2B_DATA qualifying{};
  qualifying.size = static_cast<UINT16>(qualifying_data.size());
  std::memcpy(qualifying.buffer, qualifying_data.data(), qualifying_data.size());
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // the AK's own scheme (restricted keys fix it)
  TPML_PCR_SELECTION pcr_select = toTpml(selection);
  TPM2B_ATTEST* attest_raw = nullptr;
  TPMT_SIGNATURE* sig_raw = nullptr;
  TSS2_RC rc = Esys_Quote(core_->ctx, ak.handle(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                          &qualifying, &scheme, &pcr_select, &attest_raw, &sig_raw);
  EsysPtr<TPM2B_ATTEST> attest(attest_raw);
  EsysPtr<TPMT_SIGNATURE> signature(sig_raw);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_Quote", rc));
  auto sig = esys::marshal(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal, "TPMT_SIGNATURE");
  if (!sig) return std::unexpected(sig.error());
  QuoteResult out;
  out.attest.assign(attest->attestationData, attest->attestationData + attest->size);
  out.signature = std::move(*sig);
  return out;
}

Result<QuoteResult> EsysTpm::quote(const TpmObject& ak, const PcrSelection& selection,
                                   ByteView qualifying_data) {
  if (auto ok = checkOwned(ak, "AK"); !ok) return std::unexpected(ok.error());
  if (selection.empty()) return fail(ErrorCode::kInvalidArgument, "empty PCR selection");
  if (qualifying_data.size() > sizeof(TPMU_HA)) {
    return fail(ErrorCode::kInvalidArgument, "qualifyingData longer than 64 bytes");
  }
  auto ak_pub = parseTpm2bPublic(ak.tpm2bPublic());
  if (!ak_pub) return std::unexpected(ak_pub.error());
  // pcrDigest uses the hash of the signing scheme (Part 3 §18.4.1).
  auto digest_alg = hashAlgFromId(ak_pub->scheme_hash);
  if (!digest_alg) return fail(ErrorCode::kUnsupported, "AK has no signing scheme hash");
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto q = quoteOnce(ak, selection, qualifying_data);
    if (!q) return q;
    auto attest =
        esys::unmarshal<TPMS_ATTEST>(q->attest, Tss2_MU_TPMS_ATTEST_Unmarshal, "TPMS_ATTEST");
    if (!attest) return std::unexpected(attest.error().within("Esys_Quote"));
    if (attest->magic != TPM2_GENERATED_VALUE || attest->type != TPM2_ST_ATTEST_QUOTE) {
      return fail(ErrorCode::kTpm, "TPM returned something other than a quote", "Esys_Quote");
    }
    const TPM2B_DIGEST& want = attest->attested.quote.pcrDigest;
    auto pcrs = readPcrs(selection);
    if (!pcrs) return std::unexpected(pcrs.error());
    auto have = computePcrDigest(*digest_alg, selection, *pcrs);
    if (!have) return std::unexpected(have.error());
    if (have->size() == want.size && std::equal(have->begin(), have->end(), want.buffer)) {
      q->pcrs = std::move(*pcrs);
      return q;
    }
    // A PCR was extended between the quote and the read: quote again.
  }
  return fail(ErrorCode::kTpm, "PCRs kept changing around the quote", "Esys_Quote");
}

}  // namespace bulwark::attest
