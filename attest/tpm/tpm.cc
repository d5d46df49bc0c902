#include "attest/tpm/tpm.h"

#include <utility>

namespace bulwark::attest {

std::string_view ekTypeName(EkType type) {
  switch (type) {
    case EkType::kRsa2048:
      return "rsa2048";
    case EkType::kEccP256:
      return "ecc-p256";
    case EkType::kEccP384:
      return "ecc-p384";
  }
  return "unknown";
}

std::string_view akTypeName(AkType type) {
  switch (type) {
    case AkType::kRsa2048:
      return "rsa2048";
    case AkType::kEccP256:
      return "ecc-p256";
  }
  return "unknown";
}

std::uint32_t ekCertNvIndex(EkType type) {
  switch (type) {
    case EkType::kRsa2048:
      return 0x01c00002;
    case EkType::kEccP256:
      return 0x01c0000a;
    case EkType::kEccP384:
      return 0x01c00016;
  }
  return 0;
}

TpmObject::TpmObject(std::weak_ptr<TpmObjectOwner> owner, std::uint32_t handle, Bytes tpm2b_public,
                     Bytes name)
    : owner_(std::move(owner)),
      handle_(handle),
      public_(std::move(tpm2b_public)),
      name_(std::move(name)) {
  if (auto locked = owner_.lock()) owner_id_ = locked.get();
}

TpmObject::~TpmObject() { reset(); }

TpmObject::TpmObject(TpmObject&& other) noexcept
    : owner_(std::move(other.owner_)),
      owner_id_(std::exchange(other.owner_id_, nullptr)),
      handle_(other.handle_),
      public_(std::move(other.public_)),
      name_(std::move(other.name_)) {}

TpmObject& TpmObject::operator=(TpmObject&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::move(other.owner_);
    owner_id_ = std::exchange(other.owner_id_, nullptr);
    handle_ = other.handle_;
    public_ = std::move(other.public_);
    name_ = std::move(other.name_);
  }
  return *this;
}

void TpmObject::reset() noexcept {
  if (owner_id_ == nullptr) return;
  if (auto locked = owner_.lock()) locked->flushObject(handle_);
  owner_.reset();
  owner_id_ = nullptr;
}

}  // namespace bulwark::attest
