#include "attest/ear/verifier_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "attest/ear/es256.h"

namespace bulwark::attest {

namespace {
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string errnoText() { return std::strerror(errno); }

// Writes `data` to a fresh temp file next to `path`, then link()s it into
// place: link fails with EEXIST instead of replacing, and readers never see a
// partially written key.
Result<bool> createExclusive(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return fail(ErrorCode::kIo, errnoText(), tmp);
  auto cleanup = [&tmp] { ::unlink(tmp.c_str()); };
  bool ok = ::fchmod(fd, 0600) == 0;
  for (std::size_t off = 0; ok && off < data.size();) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int close_rc = ::close(fd);
  if (!ok || close_rc != 0) {
    std::string why = errnoText();
    cleanup();
    return fail(ErrorCode::kIo, why, tmp);
  }
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    bool exists = errno == EEXIST;
    std::string why = errnoText();
    cleanup();
    if (exists) return false;  // somebody else created it first: load theirs
    return fail(ErrorCode::kIo, why, path);
  }
  cleanup();
  return true;
}

Result<void> checkMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(ErrorCode::kIo, errnoText(), path);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(ErrorCode::kPermission,
                std::string("verifier key is accessible by group/others (mode ") + mode +
                    "); chmod 600 it",
                path);
  }
  return {};
}
}  // namespace

Result<EvpPkeyPtr> generateP256Key() {
  EVP_PKEY* raw = EVP_EC_gen("P-256");
  if (raw == nullptr) return fail(ErrorCode::kCrypto, opensslErrors(), "EVP_EC_gen");
  return EvpPkeyPtr(raw);
}

Result<std::string> privateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<EvpPkeyPtr> parsePrivateKeyPem(ByteView pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail(ErrorCode::kCrypto, opensslErrors(), "BIO_new_mem_buf");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return fail(ErrorCode::kMalformed, "not a PEM private key: " + opensslErrors());
  }
  EvpPkeyPtr key(raw);
  if (!isP256Key(key.get())) {
    return fail(ErrorCode::kUnsupported, "verifier key must be an EC P-256 key (ES256)");
  }
  return key;
}

Result<LoadedKey> loadOrCreateVerifierKey(const std::string& path) {
  bool created = false;
  if (::access(path.c_str(), F_OK) != 0) {
    if (errno != ENOENT) return fail(ErrorCode::kIo, errnoText(), path);
    auto key = generateP256Key();
    if (!key) return std::unexpected(key.error());
    auto pem = privateKeyPem(key->get());
    if (!pem) return std::unexpected(pem.error());
    auto wrote = createExclusive(path, *pem);
    OPENSSL_cleanse(pem->data(), pem->size());
    if (!wrote) return std::unexpected(wrote.error().within("create verifier key"));
    if (*wrote) return LoadedKey{std::move(*key), true};
  }
  if (auto mode = checkMode(path); !mode) return std::unexpected(mode.error());
  auto bytes = readFile(path, 64 * 1024);
  if (!bytes) return std::unexpected(bytes.error());
  auto key = parsePrivateKeyPem(*bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  if (!key) return std::unexpected(key.error().within(path));
  return LoadedKey{std::move(*key), created};
}

}  // namespace bulwark::attest
