#include "agent/enroll/enrollment_state.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace bulwark::agent {

namespace {

using nlohmann::json;

constexpr int kStateVersion = 1;

constexpr std::array<std::pair<EnrollPhase, std::string_view>, 6> kPhaseNames{{
    {EnrollPhase::kUnenrolled, "unenrolled"},
    {EnrollPhase::kIdentityCreated, "identity-created"},
    {EnrollPhase::kChallengeReceived, "challenge-received"},
    {EnrollPhase::kActivated, "activated"},
    {EnrollPhase::kAwaitingApproval, "awaiting-approval"},
    {EnrollPhase::kEnrolled, "enrolled"},
}};

// Reads a typed field; records the first problem in `error`.
class Reader {
 public:
  explicit Reader(const json& j) : j_(j) {}
  std::string str(const char* key, bool required = true) {
    const json* v = find(key, required);
    if (v == nullptr) return {};
    if (!v->is_string()) return bad(key, "must be a string"), std::string();
    return v->get<std::string>();
  }
  std::int64_t num(const char* key, bool required = true) {
    const json* v = find(key, required);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) return bad(key, "must be an integer"), 0;
    return v->get<std::int64_t>();
  }
  Bytes hex(const char* key, bool required = true) {
    std::string s = str(key, required);
    auto b = fromHex(s);
    if (!b) return bad(key, "must be hex"), Bytes();
    return *b;
  }
  std::vector<Bytes> hexList(const char* key) {
    std::vector<Bytes> out;
    const json* v = find(key, false);
    if (v == nullptr) return out;
    if (!v->is_array()) return bad(key, "must be a list"), out;
    for (const auto& item : *v) {
      auto b =
          item.is_string() ? fromHex(item.get<std::string>()) : fail(ErrorCode::kMalformed, "");
      if (!b) return bad(key, "must be a list of hex strings"), out;
      out.push_back(*b);
    }
    return out;
  }
  std::vector<std::uint32_t> indices(const char* key) {
    std::vector<std::uint32_t> out;
    const json* v = find(key, false);
    if (v == nullptr) return out;
    if (!v->is_array()) return bad(key, "must be a list"), out;
    for (const auto& item : *v) {
      if (!item.is_number_unsigned() || item.get<std::uint64_t>() > 31) {
        return bad(key, "must be PCR indices 0..31"), out;
      }
      out.push_back(item.get<std::uint32_t>());
    }
    return out;
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  const json* find(const char* key, bool required) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (required) bad(key, "missing");
      return nullptr;
    }
    return &*it;
  }
  void bad(const char* key, const std::string& why) {
    if (!error_)
      error_ = Error(ErrorCode::kMalformed, std::string(key) + ": " + why, "enrollment.json");
  }
  const json& j_;
  std::optional<Error> error_;
};

json hexList(const std::vector<Bytes>& list) {
  json out = json::array();
  for (const auto& b : list) out.push_back(toHex(b));
  return out;
}

}  // namespace

std::string_view enrollPhaseName(EnrollPhase phase) {
  for (const auto& [p, name] : kPhaseNames) {
    if (p == phase) return name;
  }
  return "unknown";
}

std::optional<EnrollPhase> enrollPhaseFromName(std::string_view name) {
  for (const auto& [p, n] : kPhaseNames) {
    if (n == name) return p;
  }
  return std::nullopt;
}

EnrollStep nextEnrollStep(const EnrollmentState& state, std::int64_t now_unix_ms) {
  switch (state.phase) {
    case EnrollPhase::kUnenrolled:
      return EnrollStep::kCreateIdentity;
    case EnrollPhase::kIdentityCreated:
      return EnrollStep::kRequestChallenge;
    case EnrollPhase::kChallengeReceived:
      // An expired challenge cannot be activated: ask for a new one.
      if (state.challenge_expires_unix_ms != 0 && now_unix_ms >= state.challenge_expires_unix_ms) {
        return EnrollStep::kRequestChallenge;
      }
      return EnrollStep::kActivate;
    case EnrollPhase::kActivated:
      return EnrollStep::kFinalize;
    case EnrollPhase::kAwaitingApproval:
    case EnrollPhase::kEnrolled:
      return EnrollStep::kDone;
  }
  return EnrollStep::kCreateIdentity;
}

EnrollPhase phaseForVerifierState(std::string_view verifier_state) {
  return verifier_state == "awaiting-approval" ? EnrollPhase::kAwaitingApproval
                                               : EnrollPhase::kEnrolled;
}

EnrollmentState withoutChallenge(EnrollmentState state) {
  state.phase = EnrollPhase::kIdentityCreated;
  state.enrollment_id.clear();
  state.credential_blob.clear();
  state.encrypted_secret.clear();
  state.challenge_expires_unix_ms = 0;
  state.csr.clear();
  return state;
}

std::string enrollmentStateToJson(const EnrollmentState& s) {
  json j = {{"version", kStateVersion}, {"phase", enrollPhaseName(s.phase)},
            {"node", s.node},           {"verifier", s.verifier},
            {"ek_type", s.ek_type},     {"ak_type", s.ak_type}};
  if (s.phase == EnrollPhase::kChallengeReceived) {
    j["enrollment_id"] = s.enrollment_id;
    j["credential_blob"] = toHex(s.credential_blob);
    j["encrypted_secret"] = toHex(s.encrypted_secret);
    j["challenge_expires_unix_ms"] = s.challenge_expires_unix_ms;
    j["csr"] = toHex(s.csr);
  }
  if (s.phase >= EnrollPhase::kActivated) {
    j["verifier_state"] = s.verifier_state;
    j["client_certificate"] = toHex(s.client_certificate);
    j["ca_chain"] = hexList(s.ca_chain);
    j["first_nonce"] = toHex(s.first_nonce);
    j["first_nonce_expires_unix_ms"] = s.first_nonce_expires_unix_ms;
    j["pcr_bank"] = s.pcr.bank;
    j["pcr_selection"] = s.pcr.indices;
    j["enrolled_unix_ms"] = s.enrolled_unix_ms;
  }
  return j.dump(2) + "\n";
}

Result<EnrollmentState> enrollmentStateFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(ErrorCode::kMalformed, "not a JSON object", "enrollment.json");
  }
  Reader r(j);
  EnrollmentState s;
  if (r.num("version") != kStateVersion && !r.error()) {
    return fail(ErrorCode::kUnsupported, "unknown state version", "enrollment.json");
  }
  std::string phase = r.str("phase");
  auto p = enrollPhaseFromName(phase);
  if (!p && !r.error())
    return fail(ErrorCode::kMalformed, "unknown phase '" + phase + "'", "enrollment.json");
  s.phase = p.value_or(EnrollPhase::kUnenrolled);
  s.node = r.str("node");
  s.verifier = r.str("verifier");
  s.ek_type = r.str("ek_type");
  s.ak_type = r.str("ak_type");
  if (s.phase == EnrollPhase::kChallengeReceived) {
    s.enrollment_id = r.str("enrollment_id");
    s.credential_blob = r.hex("credential_blob");
    s.encrypted_secret = r.hex("encrypted_secret");
    s.challenge_expires_unix_ms = r.num("challenge_expires_unix_ms");
    s.csr = r.hex("csr");
  }
  if (s.phase >= EnrollPhase::kActivated) {
    s.verifier_state = r.str("verifier_state");
    s.client_certificate = r.hex("client_certificate");
    s.ca_chain = r.hexList("ca_chain");
    s.first_nonce = r.hex("first_nonce");
    s.first_nonce_expires_unix_ms = r.num("first_nonce_expires_unix_ms");
    s.pcr.bank = r.str("pcr_bank");
    s.pcr.indices = r.indices("pcr_selection");
    s.enrolled_unix_ms = r.num("enrolled_unix_ms");
  }
  if (r.error()) return std::unexpected(*r.error());
  if (s.phase >= EnrollPhase::kActivated && s.client_certificate.empty()) {
    return fail(ErrorCode::kMalformed, "client_certificate: empty", "enrollment.json");
  }
  return s;
}

}  // namespace bulwark::agent
