// Builds synthetic firmware event logs byte by byte (PFP §10.2 layouts) for the
// malformed-input and replay-semantics tables. Digests of known algorithms are the
// real hash of the event data; unknown algorithms get a filler pattern.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/eventlog/event_log.h"

namespace bulwark::attest::eventlog::testing {

inline void putU8(Bytes& b, std::uint8_t v) { b.push_back(v); }
inline void putU16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void putU32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void putU64(Bytes& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void putBytes(Bytes& b, ByteView v) { b.insert(b.end(), v.begin(), v.end()); }
inline void putStr(Bytes& b, std::string_view s) { putBytes(b, asBytes(s)); }

// "Spec ID Event03" data with the given algorithm table.
inline Bytes specIdData(const std::vector<AlgorithmSize>& algs, std::uint8_t major = 2) {
  Bytes d;
  putBytes(d, asBytes(std::string_view("Spec ID Event03\0", 16)));
  putU32(d, 0);      // platformClass
  putU8(d, 0);       // specVersionMinor
  putU8(d, major);   // specVersionMajor
  putU8(d, 0);       // specErrata
  putU8(d, 2);       // uintnSize
  putU32(d, static_cast<std::uint32_t>(algs.size()));
  for (const auto& a : algs) {
    putU16(d, a.alg_id);
    putU16(d, a.digest_size);
  }
  putU8(d, 0);  // vendorInfoSize
  return d;
}

class LogBuilder {
 public:
  // A crypto-agile log: the TCG_PCClientPCREvent header carrying `spec` as its data.
  static LogBuilder agile(std::vector<AlgorithmSize> algs) {
    LogBuilder b;
    b.algs_ = algs;
    b.agile_ = true;
    b.legacyRecord(0, 3, Bytes(20, 0), specIdData(algs));
    return b;
  }
  static LogBuilder legacy() { return LogBuilder(); }

  // A record with the right digest for every algorithm of the log.
  LogBuilder& event(std::uint32_t pcr, std::uint32_t type, ByteView data) {
    if (!agile_) return legacyRecord(pcr, type, digest(HashAlg::kSha1, data), data);
    std::vector<EventDigest> ds;
    for (const auto& a : algs_) {
      auto alg = hashAlgFromId(a.alg_id);
      ds.push_back({a.alg_id, alg ? digest(*alg, data) : Bytes(a.digest_size, 0xAB)});
    }
    return agileRecord(pcr, type, ds, data);
  }
  LogBuilder& event(std::uint32_t pcr, std::uint32_t type, std::string_view text) {
    return event(pcr, type, asBytes(text));
  }

  LogBuilder& agileRecord(std::uint32_t pcr, std::uint32_t type, const std::vector<EventDigest>& ds,
                          ByteView data) {
    putU32(bytes_, pcr);
    putU32(bytes_, type);
    putU32(bytes_, static_cast<std::uint32_t>(ds.size()));
    for (const auto& d : ds) {
      putU16(bytes_, d.alg_id);
      putBytes(bytes_, d.digest);
    }
    putU32(bytes_, static_cast<std::uint32_t>(data.size()));
    putBytes(bytes_, data);
    return *this;
  }

  LogBuilder& legacyRecord(std::uint32_t pcr, std::uint32_t type, ByteView sha1, ByteView data) {
    putU32(bytes_, pcr);
    putU32(bytes_, type);
    putBytes(bytes_, sha1);
    putU32(bytes_, static_cast<std::uint32_t>(data.size()));
    putBytes(bytes_, data);
    return *this;
  }

  LogBuilder& raw(ByteView b) {
    putBytes(bytes_, b);
    return *this;
  }

  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
  std::vector<AlgorithmSize> algs_;
  bool agile_ = false;
};

inline const std::vector<AlgorithmSize> kSha1Sha256 = {{0x0004, 20}, {0x000B, 32}};

inline Bytes startupLocality(std::uint8_t locality) {
  Bytes d;
  putBytes(d, asBytes(std::string_view("StartupLocality\0", 16)));
  d.push_back(locality);
  return d;
}

}  // namespace bulwark::attest::eventlog::testing
