// Test support for the appraisal pipeline: the swtpm-made Evidence fixtures of
// tests/testdata/appraisal (README.md there), a SQLite Store in a temp dir with the
// fixture node enrolled under the fixture AK, a fixed clock and a deterministic RNG.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "attest/core/digest.h"
#include "attest/credential/rng.h"
#include "attest/ear/verifier_key.h"
#include "attest/tpm_public/tpm_public.h"
#include "server/appraisal/appraiser.h"
#include "server/store/sqlite_store.h"

namespace bulwark::server::test {

inline std::string sourceDir() {
  const char* d = std::getenv("BULWARK_SOURCE_DIR");
  return d ? d : ".";
}

inline std::string fixtureDir() { return sourceDir() + "/tests/testdata/appraisal"; }

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline Bytes fromHexOrDie(const std::string& hex) {
  auto b = fromHex(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or(Bytes{});
}

struct Fixtures {
  nlohmann::json manifest;
  std::string node;
  Bytes ak_public, ek_public, ek_cert;
  Millis generated = 0;

  static const Fixtures& get() {
    static const Fixtures f = [] {
      Fixtures x;
      x.manifest = nlohmann::json::parse(readText(fixtureDir() + "/manifest.json"), nullptr, false);
      EXPECT_TRUE(x.manifest.is_object()) << "missing " << fixtureDir() << "/manifest.json";
      if (!x.manifest.is_object()) return x;
      x.node = x.manifest["node"];
      x.ak_public = fromHexOrDie(x.manifest["ak_public"]);
      x.ek_public = fromHexOrDie(x.manifest["ek_public"]);
      x.ek_cert = fromHexOrDie(x.manifest["ek_cert"]);
      x.generated = x.manifest["generated_unix_ms"];
      return x;
    }();
    return f;
  }
  Bytes evidence(const std::string& name) const {
    std::string s = readText(fixtureDir() + "/" + name + ".pb");
    EXPECT_FALSE(s.empty()) << name;
    return Bytes(s.begin(), s.end());
  }
  Bytes nonce(const std::string& name) const {
    return fromHexOrDie(manifest["fixtures"][name]["nonce"]);
  }
  std::string selection(const std::string& name) const {
    return manifest["fixtures"][name]["selection"];
  }
};

// Seeded "randomness": reproducible runs, distinct values (nonces are unique keys).
class CountingRng final : public attest::Rng {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(gen_() >> 56);
    return {};
  }

 private:
  std::mt19937_64 gen_{20240501};
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "bulwark-appraisal-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline AppraiserOptions pipelineOptions(const std::string& selection = "sha256:15") {
  AppraiserOptions o;
  o.selection = *attest::PcrSelection::parse(selection);
  o.profiles["default"] = IsolationProfile{};
  return o;
}

// A SQLite store with the fixture node enrolled (approved) under `ak_public`.
struct Env {
  TempDir dir;
  std::unique_ptr<SqliteStore> store;
  CountingRng rng;
  Millis now = 0;
  std::shared_ptr<EVP_PKEY> ear_key;
  std::unique_ptr<Appraiser> appraiser;

  explicit Env(AppraiserOptions opts = pipelineOptions(), const Bytes* ak_public = nullptr) {
    auto s = SqliteStore::open(dir.path() + "/v.db");
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().toString());
    store = std::move(*s);
    const Fixtures& f = Fixtures::get();
    now = f.generated + 1000;
    auto key = attest::generateP256Key();
    EXPECT_TRUE(key.has_value());
    ear_key =
        std::shared_ptr<EVP_PKEY>(key->release(), [](EVP_PKEY* k) { attest::EvpPkeyDeleter{}(k); });
    appraiser = std::make_unique<Appraiser>(
        *store, ear_key, std::move(opts), [this] { return now; }, rng);
    enroll(f.node, ak_public ? *ak_public : f.ak_public);
  }

  static AppraiserOptions defaultOptions(const std::string& selection = "sha256:15") {
    return pipelineOptions(selection);
  }

  void enroll(const std::string& node, const Bytes& ak_public, bool approve = true) {
    const Fixtures& f = Fixtures::get();
    auto ak = attest::parseTpm2bPublic(ak_public);
    ASSERT_TRUE(ak.has_value());
    PendingEnrollment p;
    p.id = "enroll-" + node;
    p.node = node;
    p.ek_cert = f.ek_cert;
    p.ek_public = f.ek_public;
    p.ak_public = ak_public;
    p.ak_name = attest::objectName(*ak);
    p.secret_hash = sha256(asBytes(std::string_view("secret")));
    p.created_at = now - 10;
    p.expires_at = now + 300000;
    ASSERT_TRUE(store->createPendingEnrollment(p).has_value());
    auto done = store->completeEnrollment(p.id, {"", approve, now - 5});
    ASSERT_TRUE(done.has_value()) << done.error().toString();
  }

  // Issues `nonce` to `node` as the verifier would, valid `ttl_ms` from now.
  void issue(const Bytes& nonce, const std::string& node, Millis ttl_ms = 120000) {
    auto r = store->issueNonce({nonce, node, now - 1, now + ttl_ms, std::nullopt});
    ASSERT_TRUE(r.has_value()) << r.error().toString();
  }

  // Approves a reference value for every measurement (but images) of fixture `name`,
  // as an operator importing them would.
  void approveFrom(const std::string& name) {
    auto ev = parseEvidence(Fixtures::get().evidence(name));
    ASSERT_TRUE(ev.has_value()) << ev.error().toString();
    std::vector<ReferenceValue> values;
    auto add = [&](const MeasurementEntry& m) {
      if (!isReferenceKind(m.kind)) return;
      ReferenceValue v;
      v.kind = m.kind;
      v.subject = m.subject;
      v.sha256 = m.sha256;
      v.source = "manual";
      v.state = ReferenceState::kApproved;
      v.created_at = now;
      v.approved_by = "test";
      v.approved_at = now;
      values.push_back(v);
    };
    for (const auto& m : ev->logged) add(m);
    for (const auto& m : ev->measurements) add(m);
    auto r = store->addReferenceValues(values, now);
    ASSERT_TRUE(r.has_value()) << r.error().toString();
  }

  void allowImages() {
    ImageRule rule{0, ImageRuleKind::kAllowPrefix, "docker.io/library/alpine", now, "test"};
    ASSERT_TRUE(store->addImageRule(rule).has_value());
  }

  AgentIdentity who() const { return {Fixtures::get().node, ""}; }
};

}  // namespace bulwark::server::test
