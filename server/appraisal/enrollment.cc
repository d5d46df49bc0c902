#include "server/appraisal/enrollment.h"

#include <chrono>

#include "attest/core/digest.h"
#include "attest/credential/ak_attributes.h"
#include "attest/credential/make_credential.h"
#include "attest/ekcert/ek_cert.h"
#include "server/appraisal/evidence.h"

namespace bulwark::server {

namespace {
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kMaxPendingCsrs = 10000;

Bytes toBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string toString(ByteView b) { return std::string(b.begin(), b.end()); }

// "<32 hex random>.<64 hex SHA-256(csr)>": opaque to agents, and binds the CSR so a
// replica that did not see the EnrollRequest can accept it resent (docs/api.md).
std::string csrHashOf(std::string_view id) {
  auto dot = id.find('.');
  return dot == std::string_view::npos ? std::string() : std::string(id.substr(dot + 1));
}

std::string joinEkReasons(const attest::EkCertVerdict& v) {
  std::string out;
  for (const auto& r : v.reasons) out += (out.empty() ? "" : "; ") + r.code + ": " + r.detail;
  return out;
}

ApiError ekCertError(const Error& e) {
  if (e.code() == ErrorCode::kUnsupported) return {400, "ek-unsupported", e.message()};
  if (e.code() == ErrorCode::kMalformed) return {400, "ek-cert-malformed", e.message()};
  return {500, "internal-error", "EK certificate check failed"};
}
}  // namespace

EnrollmentService::EnrollmentService(Store& store, const attest::CaStore& ek_cas,
                                     const AgentCa& agent_ca, Appraiser& appraiser,
                                     EnrollmentOptions options, NowFn now, attest::Rng& rng)
    : store_(store),
      ek_cas_(ek_cas),
      agent_ca_(agent_ca),
      appraiser_(appraiser),
      options_(options),
      now_(std::move(now)),
      rng_(rng) {}

ApiResult<void> EnrollmentService::checkExisting(const std::string& node, const Bytes& ek_tpmt) {
  auto existing = store_.getNode(node);
  if (!existing) {
    if (existing.error().code() == ErrorCode::kNotFound) return {};
    return std::unexpected(fromStoreError(existing.error()));
  }
  // Revocation is sticky (docs/storage.md): neither the revoked TPM nor a new one gets
  // the name back until an admin deletes the node (DELETE /v1/nodes/{name}), so no
  // unauthenticated enrollment request can erase a revoked node's audit history.
  if (existing->state == NodeState::kRevoked) {
    return apiFail(403, "node-revoked",
                   "node '" + node +
                       "' was revoked; an admin must delete it before the name can enroll again");
  }
  auto old_ek = attest::parseTpm2bPublic(existing->ek_public);
  if (!old_ek || old_ek->tpmt_public != ek_tpmt) {
    return apiFail(409, "node-name-taken",
                   "node '" + node +
                       "' is enrolled with another EK; an admin must revoke and delete it first");
  }
  return {};  // same TPM: re-enrollment with a new AK (TPM clear, reinstall)
}

ApiResult<bulwark::v1::EnrollChallenge> EnrollmentService::enroll(
    const bulwark::v1::EnrollRequest& req) {
  if (!isNodeName(req.node())) {
    return apiFail(400, "node-name-invalid",
                   "node must be 1..253 of [A-Za-z0-9._-], not starting with . or -");
  }
  auto ek = attest::parseTpm2bPublic(toBytes(req.ek_public()));
  if (!ek) return apiFail(400, "ek-public-malformed", ek.error().message());
  auto ak = attest::parseTpm2bPublic(toBytes(req.ak_public()));
  if (!ak) return apiFail(400, "ak-public-malformed", ak.error().message());
  if (req.ek_certificate().empty())
    return apiFail(403, "ek-cert-missing", "an EK certificate is required");
  Millis now = now_();
  auto verdict = attest::validateEkCertificate(
      toBytes(req.ek_certificate()), *ek, ek_cas_,
      std::chrono::system_clock::time_point(std::chrono::milliseconds(now)));
  if (!verdict) return std::unexpected(ekCertError(verdict.error()));
  if (!verdict->trusted())
    return apiFail(403, verdict->reasons.front().code, joinEkReasons(*verdict));
  attest::AkAttributeCheck akc = attest::checkAkAttributes(*ak);
  if (!akc.accepted()) {
    std::string detail;
    for (const auto& r : akc.reasons)
      detail += (detail.empty() ? "" : "; ") + r.code + ": " + r.detail;
    return apiFail(403, akc.reasons.front().code, detail);
  }
  if (auto c = checkCsr(toBytes(req.csr())); !c)
    return apiFail(400, "csr-invalid", c.error().message());
  if (auto e = checkExisting(req.node(), ek->tpmt_public); !e) return std::unexpected(e.error());

  Bytes secret(kSecretBytes);
  if (auto r = rng_.fill(secret); !r)
    return apiFail(500, "internal-error", "random: " + r.error().message());
  Bytes ak_name = attest::objectName(*ak);
  auto cred = attest::makeCredential(*ek, ak_name, secret, rng_);
  if (!cred) {
    int status = cred.error().code() == ErrorCode::kCrypto ? 500 : 400;
    return apiFail(status, status == 500 ? "internal-error" : "ek-unsupported",
                   cred.error().message());
  }
  Bytes id_random(16);
  if (auto r = rng_.fill(id_random); !r) return apiFail(500, "internal-error", "random");
  PendingEnrollment p;
  p.id = toHex(id_random) + "." + toHex(sha256(asBytes(req.csr())));
  p.node = req.node();
  p.ek_cert = toBytes(req.ek_certificate());
  p.ek_public = toBytes(req.ek_public());
  p.ak_public = toBytes(req.ak_public());
  p.ak_name = ak_name;
  p.secret_hash = sha256(secret);
  p.created_at = now;
  p.expires_at = now + options_.ttl.count() * 1000;
  if (auto r = store_.createPendingEnrollment(p); !r)
    return std::unexpected(fromStoreError(r.error()));
  rememberCsr(p.id, req.csr(), p.expires_at);

  bulwark::v1::EnrollChallenge out;
  out.set_enrollment_id(p.id);
  out.set_credential_blob(toString(cred->id_object));
  out.set_encrypted_secret(toString(cred->encrypted_secret));
  out.set_expires_unix_ms(p.expires_at);
  return out;
}

void EnrollmentService::rememberCsr(const std::string& id, const std::string& csr, Millis expires) {
  std::lock_guard lock(mu_);
  Millis now = now_();
  std::erase_if(csrs_, [now](const auto& kv) { return kv.second.expires <= now; });
  if (csrs_.size() >= kMaxPendingCsrs) return;  // the agent can resend it (ActivateRequest.csr)
  csrs_[id] = {csr, expires};
}

ApiResult<Bytes> EnrollmentService::csrFor(const std::string& id, const std::string& resent) {
  if (!resent.empty()) {
    if (toHex(sha256(asBytes(resent))) != csrHashOf(id)) {
      return apiFail(400, "csr-invalid", "the resent CSR is not the one of the enrollment request");
    }
    return toBytes(resent);
  }
  std::lock_guard lock(mu_);
  auto it = csrs_.find(id);
  if (it == csrs_.end()) {
    return apiFail(400, "csr-missing",
                   "this replica has not seen the CSR; resend it in ActivateRequest.csr");
  }
  return toBytes(it->second.csr);
}

ApiResult<bulwark::v1::EnrollResult> EnrollmentService::activate(
    const bulwark::v1::ActivateRequest& req, std::string_view path_id) {
  std::string id = req.enrollment_id().empty() ? std::string(path_id) : req.enrollment_id();
  if (id.empty() || id.size() > 128)
    return apiFail(400, "malformed-request", "enrollment_id missing");
  Millis now = now_();
  auto pending = store_.recordEnrollmentAttempt(id, now);
  if (!pending) {
    if (pending.error().code() == ErrorCode::kInvalidArgument) {
      return apiFail(404, "enrollment-unknown", "unknown or expired enrollment; enroll again");
    }
    return std::unexpected(fromStoreError(pending.error(), "enrollment-unknown"));
  }
  if (pending->attempts > options_.max_attempts) {
    return apiFail(404, "enrollment-unknown", "too many activation attempts; enroll again");
  }
  // TPM 2.0 Part 1 §24: only the TPM holding the EK releases the secret, and only for
  // the AK whose Name the credential binds.
  if (!constantTimeEqual(sha256(asBytes(req.secret())), pending->secret_hash)) {
    return apiFail(403, "activation-failed", "the activation proof does not match the credential");
  }
  auto csr = csrFor(id, req.csr());
  if (!csr) return std::unexpected(csr.error());
  auto ek = attest::parseTpm2bPublic(pending->ek_public);
  if (!ek) return apiFail(500, "internal-error", "stored EK does not parse");
  if (auto e = checkExisting(pending->node, ek->tpmt_public); !e) return std::unexpected(e.error());
  auto cert = agent_ca_.issue(*csr, pending->node, options_.cert_validity, now, rng_);
  if (!cert) return apiFail(400, "csr-invalid", cert.error().message());
  auto node = store_.completeEnrollment(id, {cert->serial_hex, options_.auto_approve, now});
  if (!node) {
    if (node.error().code() == ErrorCode::kInvalidArgument)
      return apiFail(403, "node-revoked", node.error().message());
    return std::unexpected(fromStoreError(node.error(), "enrollment-unknown"));
  }
  {
    std::lock_guard lock(mu_);
    csrs_.erase(id);
  }
  auto nonce = appraiser_.issueNonce(pending->node);
  if (!nonce) return std::unexpected(nonce.error());
  const auto& opts = appraiser_.options();
  bulwark::v1::EnrollResult out;
  out.set_node(pending->node);
  out.set_state(options_.auto_approve ? "trusted-pending-attestation" : "awaiting-approval");
  out.set_client_certificate(toString(cert->der));
  out.add_ca_chain(toString(agent_ca_.certificateDer()));
  out.set_nonce(toString(nonce->nonce));
  out.set_nonce_expires_unix_ms(nonce->expires_at);
  const auto& bank = opts.selection.banks()[0];
  out.set_pcr_bank(std::string(hashAlgName(bank.alg)));
  for (std::uint32_t i : selectedPcrs(opts.selection)) out.add_pcr_selection(i);
  return out;
}

}  // namespace bulwark::server
