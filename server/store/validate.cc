#include "server/store/validate.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace bulwark::server {

namespace {

std::unexpected<Error> bad(std::string message) {
  return fail(ErrorCode::kInvalidArgument, std::move(message), "store");
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool allOf(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }

// Printable ASCII without spaces: what may appear in sources, versions, prefixes.
bool isToken(char c) { return c > 0x20 && c < 0x7f; }

Result<void> checkToken(std::string_view what, std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max || !allOf(s, isToken)) {
    return bad(std::string(what) + " must be 1.." + std::to_string(max) +
               " printable characters without spaces");
  }
  return {};
}

Result<void> checkBlob(std::string_view what, ByteView b, std::size_t min, std::size_t max) {
  if (b.size() < min || b.size() > max) {
    return bad(std::string(what) + " must be " + std::to_string(min) + ".." + std::to_string(max) +
               " bytes, got " + std::to_string(b.size()));
  }
  return {};
}

Result<void> checkJson(std::string_view what, std::string_view text, std::size_t max,
                       bool want_array) {
  if (text.size() > max) return bad(std::string(what) + " larger than " + std::to_string(max));
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return bad(std::string(what) + " is not valid JSON");
  if (want_array ? !parsed.is_array() : !parsed.is_object()) {
    return bad(std::string(what) +
               (want_array ? " must be a JSON array" : " must be a JSON object"));
  }
  return {};
}

// RFC 3629 well-formedness (no overlongs, no surrogates, max U+10FFFF). PostgreSQL
// rejects malformed UTF-8 in TEXT while SQLite stores it; checking here keeps both
// engines behaving the same.
bool validUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    // Continuation bytes that follow the lead byte c.
    std::size_t n = c < 0x80           ? 0
                    : (c >> 5) == 0x6  ? 1
                    : (c >> 4) == 0xe  ? 2
                    : (c >> 3) == 0x1e ? 3
                                       : 4;
    if (n == 4 || i + n >= s.size()) return false;
    std::uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

Result<void> validateNodeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNodeName || !allOf(name, isNameChar)) {
    return bad("node name must be 1..253 characters of [A-Za-z0-9._-]");
  }
  return {};
}

Result<void> validateGroup(std::string_view group) {
  if (group.size() > 64 || !allOf(group, isNameChar)) {
    return bad("node group must be 0..64 characters of [A-Za-z0-9._-]");
  }
  return {};
}

Result<void> validateEnrollmentId(std::string_view id) {
  if (id.empty() || id.size() > 128 || !allOf(id, isNameChar)) {
    return bad("enrollment id must be 1..128 characters of [A-Za-z0-9._-]");
  }
  return {};
}

Result<void> validateClientCertSerial(std::string_view serial) {
  if (serial.size() > 128 || !allOf(serial, isNameChar)) {
    return bad("client certificate serial must be 0..128 characters of [A-Za-z0-9._-]");
  }
  return {};
}

Result<void> validatePendingEnrollment(const PendingEnrollment& p) {
  if (auto r = validateEnrollmentId(p.id); !r) return r;
  if (auto r = validateNodeName(p.node); !r) return r;
  if (auto r = validateGroup(p.group); !r) return r;
  if (auto r = checkBlob("EK certificate", p.ek_cert, 0, kMaxCertBlob); !r) return r;
  if (auto r = checkBlob("EK public", p.ek_public, 1, kMaxKeyBlob); !r) return r;
  if (auto r = checkBlob("AK public", p.ak_public, 1, kMaxKeyBlob); !r) return r;
  if (auto r = checkBlob("AK name", p.ak_name, 2, kMaxKeyBlob); !r) return r;
  if (auto r = checkBlob("secret hash (SHA-256)", p.secret_hash, 32, 32); !r) return r;
  if (p.expires_at <= p.created_at) return bad("enrollment expires before it is created");
  if (p.attempts < 0) return bad("negative attempt count");
  return {};
}

Result<void> validateNonce(const NonceRecord& n) {
  if (auto r = checkBlob("nonce", n.value, kMinNonce, kMaxNonce); !r) return r;
  if (auto r = validateNodeName(n.node); !r) return r;
  if (n.expires_at <= n.issued_at) return bad("nonce expires before it is issued");
  return {};
}

Result<void> validateAppraisal(const AppraisalRecord& a) {
  if (auto r = validateNodeName(a.node); !r) return r;
  if (auto r = checkJson("reasons", a.reasons_json, kMaxReasonsJson, true); !r) return r;
  if (auto r = checkJson("trust vector", a.trust_vector_json, kMaxTrustVectorJson, false); !r) {
    return r;
  }
  // A compact JWS is base64url segments joined by '.'.
  if (a.ear.empty() || a.ear.size() > kMaxEar || !allOf(a.ear, isNameChar)) {
    return bad("EAR must be a compact JWS (base64url and '.') of 1 byte..64 KiB");
  }
  if (auto r = checkBlob("evidence digest (SHA-256)", a.evidence_digest, 32, 32); !r) return r;
  if (a.fresh_until < a.appraised_at) return bad("freshness deadline before the appraisal");
  for (const auto& c : {a.reset_count, a.restart_count, a.clock}) {
    if (c && *c < 0) return bad("negative TPM clock counter");
  }
  if (a.policy_version < 0) return bad("negative policy version");
  return {};
}

Result<void> validateEvidence(ByteView evidence) {
  return checkBlob("evidence", evidence, 1, kMaxEvidence);
}

Result<void> validateReferenceSource(std::string_view source) {
  if (source == "manual") return {};
  if (source.starts_with("learned:")) return validateNodeName(source.substr(8));
  if (source.starts_with("package:")) {
    std::string_view rest = source.substr(8);
    auto eq = rest.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == rest.size()) {
      return bad("package source must be package:NAME=VERSION");
    }
    return checkToken("package source", rest, 512);
  }
  return bad("reference source must be learned:NODE, package:NAME=VERSION or manual");
}

Result<void> validateReferenceValue(const ReferenceValue& v) {
  auto kindChar = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  };
  if (v.kind.empty() || v.kind.size() > 32 ||
      !std::all_of(v.kind.begin(), v.kind.end(), kindChar)) {
    return bad("reference kind must be 1..32 characters of [a-z0-9_.-]");
  }
  if (v.subject.empty() || v.subject.size() > kMaxSubject ||
      v.subject.find('\0') != std::string::npos || !validUtf8(v.subject)) {
    return bad("reference subject must be 1..4096 bytes of UTF-8 without NUL");
  }
  if (auto r = checkBlob("reference sha256", v.sha256, 32, 32); !r) return r;
  if (auto r = validateReferenceSource(v.source); !r) return r;
  if (v.state == ReferenceState::kRevoked) return bad("cannot add a revoked reference value");
  if (v.state == ReferenceState::kApproved) return validateActor(v.approved_by);
  return {};
}

Result<void> validateReferenceFilter(const ReferenceFilter& f) {
  if (f.ids.size() > 10000) return bad("too many ids in one filter");
  if (f.source) {
    if (auto r = validateReferenceSource(*f.source); !r) return r;
  }
  if (f.subject && (f.subject->size() > kMaxSubject)) return bad("subject too long");
  if (f.kind && f.kind->size() > 32) return bad("kind too long");
  return {};
}

Result<void> validateActor(std::string_view who) { return checkToken("approver", who, 128); }

Result<void> validateImageRule(const ImageRule& rule) {
  if (rule.kind == ImageRuleKind::kAllowPrefix) {
    if (auto r = checkToken("image prefix", rule.value, 512); !r) return r;
  } else {
    std::string_view v = rule.value;
    if (!v.starts_with("sha256:") || v.size() != 7 + 64 || !allOf(v.substr(7), isLowerHex)) {
      return bad("image digest must be sha256:<64 lower-case hex>");
    }
  }
  if (!rule.created_by.empty()) return checkToken("rule author", rule.created_by, 128);
  return {};
}

Result<void> validateApiToken(const ApiToken& token) {
  if (token.name.empty() || token.name.size() > 128 || !allOf(token.name, isNameChar)) {
    return bad("token name must be 1..128 characters of [A-Za-z0-9._-]");
  }
  return checkBlob("token hash (SHA-256)", token.token_hash, 32, 32);
}

}  // namespace bulwark::server
