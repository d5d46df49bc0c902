#include "agent/cycle/tpm_quoter.h"

namespace bulwark::agent {

Result<attest::QuoteResult> TpmQuoter::quote(const attest::PcrSelection& selection,
                                             ByteView qualifying_data) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!loaded_) {
      auto ak = loadPersistedAk(tpm_, ak_blob_path_);
      if (!ak) return std::unexpected(ak.error());
      loaded_ = std::move(*ak);
    }
    auto q = tpm_.quote(loaded_->ak, selection, qualifying_data);
    if (q || attempt == 1 || q.error().code() == ErrorCode::kInvalidArgument) return q;
    loaded_.reset();  // stale handles (TPM reset, resource manager restart): reload
  }
  return fail(ErrorCode::kInternal, "unreachable", "TpmQuoter::quote");
}

}  // namespace bulwark::agent
