#include "attest/cel/cel_record.h"

namespace bulwark::attest {

const Bytes* CelRecord::digestFor(HashAlg alg) const {
  for (const auto& d : digests) {
    if (d.alg == alg) return &d.value;
  }
  return nullptr;
}

std::string formatCelRecord(std::uint32_t pcr, std::span<const CelDigest> digests,
                            std::string_view content_type, std::string_view content_json) {
  // ordered_json keeps systemd's member order; a plain json would sort the keys.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& d : digests) {
    nlohmann::ordered_json entry;
    entry["hashAlg"] = std::string(hashAlgName(d.alg));
    entry["digest"] = toHex(d.value);
    list.push_back(std::move(entry));
  }
  std::string out;
  out.reserve(64 + list.size() * 96 + content_type.size() + content_json.size());
  out.push_back(static_cast<char>(kCelRecordSeparator));
  out += "{\"pcr\":";
  out += std::to_string(pcr);
  out += ",\"digests\":";
  out += list.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  out += ",\"content_type\":";
  // replace: never throws on invalid UTF-8 (callers pass fixed ASCII types anyway).
  out += nlohmann::json(std::string(content_type))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += ",\"content\":";
  out += content_json;
  out += "}";
  out.push_back(static_cast<char>(kCelRecordTerminator));
  return out;
}

}  // namespace bulwark::attest
