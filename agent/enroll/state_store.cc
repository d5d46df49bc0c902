#include "agent/enroll/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/enroll/client_key.h"

namespace bulwark::agent {

namespace {
using nlohmann::json;
constexpr std::size_t kMaxStateBytes = 1u << 20;
}  // namespace

std::string attestationStateToJson(const AttestationState& s) {
  json j = {{"version", 1},
            {"nonce", toHex(s.nonce)},
            {"nonce_expires_unix_ms", s.nonce_expires_unix_ms},
            {"pcr_bank", s.pcr.bank},
            {"pcr_selection", s.pcr.indices},
            {"last_status", s.last_status},
            {"last_attest_unix_ms", s.last_attest_unix_ms}};
  return j.dump(2) + "\n";
}

Result<AttestationState> attestationStateFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  auto bad = [](const std::string& why) {
    return fail(ErrorCode::kMalformed, why, "attestation.json");
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  AttestationState s;
  try {
    if (j.at("version").get<int>() != 1) return bad("unknown version");
    auto nonce = fromHex(j.at("nonce").get<std::string>());
    if (!nonce) return bad("nonce: not hex");
    s.nonce = *nonce;
    s.nonce_expires_unix_ms = j.at("nonce_expires_unix_ms").get<std::int64_t>();
    s.pcr.bank = j.at("pcr_bank").get<std::string>();
    for (const auto& i : j.at("pcr_selection")) {
      if (!i.is_number_unsigned() || i.get<std::uint64_t>() > 31)
        return bad("pcr_selection: not PCR indices");
      s.pcr.indices.push_back(i.get<std::uint32_t>());
    }
    s.last_status = j.value("last_status", "");
    s.last_attest_unix_ms = j.value("last_attest_unix_ms", std::int64_t{0});
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  return s;
}

Result<void> StateStore::ensureDir() const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create the state directory: " + ec.message(), dir_);
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0)
    return fail(ErrorCode::kIo, "cannot stat the state directory", dir_);
  if ((st.st_mode & 0022) != 0) {
    return fail(ErrorCode::kPermission,
                "state directory is writable by group or others; chmod 0700 it", dir_);
  }
  if ((st.st_mode & 0777) != 0700 && st.st_uid == ::geteuid()) {
    // Created by us just now with the umask's mode: tighten it.
    if (::chmod(dir_.c_str(), 0700) != 0) return fail(ErrorCode::kIo, "cannot chmod 0700", dir_);
  }
  return {};
}

Result<EnrollmentState> StateStore::loadEnrollment() const {
  std::error_code ec;
  if (!std::filesystem::exists(enrollmentPath(), ec)) return EnrollmentState{};
  auto bytes = readFile(enrollmentPath(), kMaxStateBytes);
  if (!bytes) return std::unexpected(bytes.error());
  auto state = enrollmentStateFromJson(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!state) {
    Error e = state.error();
    e.within(enrollmentPath());
    return std::unexpected(e);
  }
  return state;
}

Result<void> StateStore::saveEnrollment(const EnrollmentState& state) const {
  return writeFileAtomic(enrollmentPath(), asBytes(enrollmentStateToJson(state)), 0600);
}

Result<AttestationState> StateStore::loadAttestation() const {
  std::error_code ec;
  if (!std::filesystem::exists(attestationPath(), ec)) {
    return fail(ErrorCode::kNotFound, "no attestation state: run `bulwark-agent enroll` first",
                attestationPath());
  }
  auto bytes = readFile(attestationPath(), kMaxStateBytes);
  if (!bytes) return std::unexpected(bytes.error());
  return attestationStateFromJson(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
}

Result<void> StateStore::saveAttestation(const AttestationState& state) const {
  return writeFileAtomic(attestationPath(), asBytes(attestationStateToJson(state)), 0600);
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Result<StateLock> StateStore::lockCycle() const {
  std::string path = dir_ + "/cycle.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == ENOENT) {
      return fail(ErrorCode::kNotFound, "no state directory: run `bulwark-agent enroll` first",
                  dir_);
    }
    return fail(ErrorCode::kIo, std::strerror(errno), path);
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return fail(ErrorCode::kIo, std::string("flock: ") + std::strerror(err), path);
  }
  return StateLock(fd);
}

Result<void> StateStore::writeCertificates(ByteView client_der,
                                           const std::vector<Bytes>& ca_chain_der) const {
  auto client_pem = certificateDerToPem(client_der);
  if (!client_pem) return std::unexpected(client_pem.error());
  std::string chain;
  for (const Bytes& der : ca_chain_der) {
    auto pem = certificateDerToPem(der);
    if (!pem) return std::unexpected(pem.error());
    chain += *pem;
  }
  if (auto r = writeFileAtomic(clientCertPath(), asBytes(*client_pem), 0644); !r) return r;
  return writeFileAtomic(agentCaPath(), asBytes(chain), 0644);
}

}  // namespace bulwark::agent
