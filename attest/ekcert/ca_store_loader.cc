#include "attest/ekcert/ca_store_loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace bulwark::attest {
namespace {

namespace fs = std::filesystem;

bool certificateFileName(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".pem" || ext == ".crt" || ext == ".cer" || ext == ".der";
}

// The files a config entry stands for, sorted so loading is deterministic.
Result<std::vector<std::string>> expand(const std::string& entry) {
  std::error_code ec;
  auto status = fs::status(entry, ec);
  if (ec || !fs::exists(status)) return fail(ErrorCode::kNotFound, "no such file or directory", entry);
  if (!fs::is_directory(status)) return std::vector<std::string>{entry};
  std::vector<std::string> files;
  for (fs::directory_iterator it(entry, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && certificateFileName(it->path())) {
      files.push_back(it->path().string());
    }
  }
  if (ec) return fail(ErrorCode::kIo, ec.message(), entry);
  std::sort(files.begin(), files.end());
  return files;
}

template <typename Add>
Result<void> loadAll(const std::vector<std::string>& entries, Add add) {
  for (const auto& entry : entries) {
    auto files = expand(entry);
    if (!files) return std::unexpected(files.error());
    for (const auto& file : *files) {
      auto bytes = readFile(file, 16u << 20);
      if (!bytes) return std::unexpected(bytes.error());
      auto added = add(*bytes);
      if (!added) return std::unexpected(added.error().within(file));
    }
  }
  return {};
}

}  // namespace

Result<CaStore> loadCaStore(const CaStoreConfig& config) {
  CaStore store;
  auto trusted = loadAll(config.trusted, [&](ByteView b) { return store.addTrusted(b); });
  if (!trusted) return std::unexpected(trusted.error());
  auto inter = loadAll(config.intermediates, [&](ByteView b) { return store.addIntermediates(b); });
  if (!inter) return std::unexpected(inter.error());
  if (store.trustedCount() == 0) {
    return fail(ErrorCode::kInvalidArgument, "EK CA store has no trusted certificate");
  }
  return store;
}

}  // namespace bulwark::attest
