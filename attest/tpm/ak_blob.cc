#include "attest/tpm/ak_blob.h"

#include <tss2/tss2_mu.h>

#include <algorithm>

#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

namespace {

constexpr std::uint8_t kMagic[4] = {'B', 'W', 'A', 'K'};
// An AK blob is a few hundred bytes; anything larger is not one of ours.
constexpr std::size_t kMaxBlobSize = 4096;

void putU16(Bytes& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void putSized(Bytes& out, ByteView data) {
  putU16(out, data.size());
  out.insert(out.end(), data.begin(), data.end());
}

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool take(std::size_t n, ByteView& out) {
    if (in_.size() - pos_ < n) return false;
    out = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool u16(std::uint16_t& v) {
    ByteView b;
    if (!take(2, b)) return false;
    v = static_cast<std::uint16_t>((b[0] << 8) | b[1]);
    return true;
  }
  // A 2-byte size and that many bytes; returns size prefix + body (the TPM2B).
  bool tpm2b(ByteView& whole) {
    std::size_t start = pos_;
    std::uint16_t n = 0;
    ByteView body;
    if (!u16(n) || !take(n, body)) return false;
    whole = in_.subspan(start, 2u + n);
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  ByteView in_;
  std::size_t pos_ = 0;
};

Result<void> checkAkPublic(ByteView tpm2b_public, AkType type) {
  auto pub = parseTpm2bPublic(tpm2b_public);
  if (!pub) return fail(ErrorCode::kMalformed, "AK public area: " + pub.error().message());
  bool type_ok = type == AkType::kRsa2048
                     ? pub->type == KeyType::kRsa && pub->rsa_bits == 2048
                     : pub->type == KeyType::kEcc && pub->curve == kEccNistP256;
  if (!type_ok) return fail(ErrorCode::kMalformed, "AK public area is not the recorded key type");
  if (!pub->has(object_attr::kRestricted | object_attr::kSign | object_attr::kFixedTpm |
                object_attr::kFixedParent | object_attr::kSensitiveDataOrigin)) {
    return fail(ErrorCode::kMalformed, "AK public area is not a restricted, fixed signing key");
  }
  return {};
}

}  // namespace

Bytes encodeAkBlob(const AkBlob& blob) {
  Bytes out(std::begin(kMagic), std::end(kMagic));
  putU16(out, kAkBlobVersion);
  out.push_back(static_cast<std::uint8_t>(blob.ek_type));
  out.push_back(static_cast<std::uint8_t>(blob.ak_type));
  putSized(out, blob.ek_name);
  // tpm2b_public / tpm2b_private already carry their own size prefix.
  out.insert(out.end(), blob.tpm2b_public.begin(), blob.tpm2b_public.end());
  out.insert(out.end(), blob.tpm2b_private.begin(), blob.tpm2b_private.end());
  return out;
}

Result<AkBlob> decodeAkBlob(ByteView bytes) {
  if (bytes.size() > kMaxBlobSize) return fail(ErrorCode::kMalformed, "AK blob too large");
  Reader r(bytes);
  ByteView magic;
  std::uint16_t version = 0;
  ByteView types;
  if (!r.take(4, magic) || !std::equal(magic.begin(), magic.end(), std::begin(kMagic))) {
    return fail(ErrorCode::kMalformed, "not a Bulwark AK blob (bad magic)");
  }
  if (!r.u16(version)) return fail(ErrorCode::kMalformed, "AK blob truncated in header");
  if (version != kAkBlobVersion) {
    return fail(ErrorCode::kUnsupported, "AK blob version " + std::to_string(version));
  }
  if (!r.take(2, types)) return fail(ErrorCode::kMalformed, "AK blob truncated in header");
  if (types[0] < 1 || types[0] > 3 || types[1] < 1 || types[1] > 2) {
    return fail(ErrorCode::kUnsupported, "AK blob names an unknown EK or AK type");
  }
  AkBlob blob;
  blob.ek_type = static_cast<EkType>(types[0]);
  blob.ak_type = static_cast<AkType>(types[1]);
  ByteView name, pub, priv;
  if (!r.tpm2b(name) || !r.tpm2b(pub) || !r.tpm2b(priv)) {
    return fail(ErrorCode::kMalformed, "AK blob truncated");
  }
  if (!r.done()) return fail(ErrorCode::kMalformed, "trailing bytes after AK blob");
  blob.ek_name.assign(name.begin() + 2, name.end());
  blob.tpm2b_public.assign(pub.begin(), pub.end());
  blob.tpm2b_private.assign(priv.begin(), priv.end());
  if (blob.ek_name.size() < 2 || blob.ek_name.size() > sizeof(TPMU_NAME)) {
    return fail(ErrorCode::kMalformed, "AK blob EK name has a bad size");
  }
  TPM2B_PRIVATE p{};
  std::size_t off = 0;
  if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv.data(), priv.size(), &off, &p) != TSS2_RC_SUCCESS ||
      off != priv.size() || p.size == 0) {
    return fail(ErrorCode::kMalformed, "AK blob private area is not a TPM2B_PRIVATE");
  }
  if (auto ok = checkAkPublic(blob.tpm2b_public, blob.ak_type); !ok) {
    return std::unexpected(ok.error());
  }
  return blob;
}

Result<void> saveAkBlobFile(const std::string& path, ByteView blob) {
  if (auto ok = decodeAkBlob(blob); !ok) return std::unexpected(ok.error().within(path));
  return writeFileAtomic(path, blob, 0600);
}

Result<Bytes> readAkBlobFile(const std::string& path) {
  auto bytes = readFile(path, kMaxBlobSize);
  if (!bytes) return bytes;
  if (auto ok = decodeAkBlob(*bytes); !ok) return std::unexpected(ok.error().within(path));
  return bytes;
}

}  // namespace bulwark::attest
