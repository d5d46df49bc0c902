// Internal helpers of EsysTpm: TSS2_RC → Error translation, RAII for ESAPI-allocated
// outputs and transient handles, marshalling. Not part of the public seam.
#pragma once

#include <tss2/tss2_esys.h>

#include <memory>
#include <string_view>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::attest::esys {

// kTpm (or kUnavailable for transport failures)
// with "<Tss2_RC_Decode text> (0x<rc>)" as message and `operation` as context.
Error tssError(std::string_view operation, TSS2_RC rc);
bool isTransportError(TSS2_RC rc);
// TPM_RC_HANDLE (format 1, any handle number): the referenced entity does not exist.
bool isHandleError(TSS2_RC rc);
// TPM_RC_INTEGRITY (format 1, any parameter): a wrapped private area did not verify.
bool isIntegrityError(TSS2_RC rc);

// Frees ESAPI output structures (Esys_Free).
struct EsysFree {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree>;

// A transient object or session; flushed (TPM2_FlushContext) on destruction.
class ScopedHandle {
 public:
  ScopedHandle() = default;
  ScopedHandle(ESYS_CONTEXT* ctx, ESYS_TR tr) : ctx_(ctx), tr_(tr) {}
  ~ScopedHandle() { reset(); }
  ScopedHandle(ScopedHandle&& o) noexcept : ctx_(o.ctx_), tr_(o.release()) {}
  ScopedHandle& operator=(ScopedHandle&& o) noexcept {
    if (this != &o) {
      reset();
      ctx_ = o.ctx_;
      tr_ = o.release();
    }
    return *this;
  }
  ScopedHandle(const ScopedHandle&) = delete;
  ScopedHandle& operator=(const ScopedHandle&) = delete;

  ESYS_TR get() const { return tr_; }
  ESYS_TR release() {
    ESYS_TR t = tr_;
    tr_ = ESYS_TR_NONE;
    return t;
  }
  void reset() {
    if (ctx_ != nullptr && tr_ != ESYS_TR_NONE && tr_ != ESYS_TR_PASSWORD) {
      (void)Esys_FlushContext(ctx_, tr_);
    }
    tr_ = ESYS_TR_NONE;
  }

 private:
  ESYS_CONTEXT* ctx_ = nullptr;
  ESYS_TR tr_ = ESYS_TR_NONE;
};

// An ESYS_TR for an NV index (not flushable: Esys_TR_Close drops the metadata).
class ScopedNvHandle {
 public:
  ScopedNvHandle(ESYS_CONTEXT* ctx, ESYS_TR tr) : ctx_(ctx), tr_(tr) {}
  ~ScopedNvHandle() {
    if (tr_ != ESYS_TR_NONE) (void)Esys_TR_Close(ctx_, &tr_);
  }
  ScopedNvHandle(const ScopedNvHandle&) = delete;
  ScopedNvHandle& operator=(const ScopedNvHandle&) = delete;
  ESYS_TR get() const { return tr_; }

 private:
  ESYS_CONTEXT* ctx_;
  ESYS_TR tr_;
};

// Marshal with the libtss2-mu function for T.
template <typename T, typename Fn>
Result<Bytes> marshal(const T& value, Fn fn, std::string_view what) {
  Bytes out(sizeof(T) + 16);
  size_t off = 0;
  TSS2_RC rc = fn(&value, out.data(), out.size(), &off);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError(what, rc));
  out.resize(off);
  return out;
}

// Unmarshal exactly `bytes` (trailing bytes are kMalformed).
template <typename T, typename Fn>
Result<T> unmarshal(ByteView bytes, Fn fn, std::string_view what) {
  T value{};
  size_t off = 0;
  TSS2_RC rc = fn(bytes.data(), bytes.size(), &off, &value);
  if (rc != TSS2_RC_SUCCESS || off != bytes.size()) {
    return fail(ErrorCode::kMalformed, "not a valid " + std::string(what));
  }
  return value;
}

}  // namespace bulwark::attest::esys
