#include "agent/enroll/enroller.h"

#include <openssl/crypto.h>

#include <filesystem>

#include "agent/enroll/client_key.h"
#include "agent/enroll/pcr_choice.h"
#include "agent/transport/verifier_error.h"

namespace bulwark::agent {

namespace {

// A challenge the verifier forgot (expired, used up) is re-requested; more than
// this many in one run means something else is wrong.
constexpr int kMaxChallengeRestarts = 2;

std::string asString(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes asBytesCopy(const std::string& s) { return Bytes(s.begin(), s.end()); }

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace

Enroller::Enroller(EnrollOptions options, EnrollEnvironment env)
    : options_(std::move(options)), env_(std::move(env)) {}

void Enroller::say(std::string_view line) const {
  if (env_.progress) env_.progress(line);
}

Result<EnrollmentState> Enroller::reset(std::string_view why) {
  say(why);
  EnrollmentState fresh;
  if (auto r = env_.store->saveEnrollment(fresh); !r) return std::unexpected(r.error());
  return fresh;
}

Result<EnrollmentState> Enroller::prepare(EnrollmentState state) {
  if (state.phase == EnrollPhase::kUnenrolled) return state;
  if (options_.force) return reset("--force: forgetting the previous enrollment, starting over");
  if (state.node != options_.node || state.verifier != options_.verifier_url) {
    return fail(ErrorCode::kInvalidArgument,
                "this agent is enrolled (or enrolling) as '" + state.node + "' with " +
                    state.verifier + "; to enroll as '" + options_.node + "' with " +
                    options_.verifier_url + " run `bulwark-agent enroll --force`",
                env_.store->enrollmentPath());
  }
  if (!exists(env_.store->clientKeyPath()) || !exists(env_.store->akBlobPath())) {
    return reset("the AK blob or client key is gone from " + env_.store->dir() + ": starting over");
  }
  if (nextEnrollStep(state, 0) != EnrollStep::kDone) return state;
  // Finished before: is the AK still usable? TPM2_Clear voids it (docs/tpm.md).
  auto identity = env_.identity->load();
  if (!identity) {
    if (identity.error().code() == ErrorCode::kTpm ||
        identity.error().code() == ErrorCode::kNotFound ||
        identity.error().code() == ErrorCode::kMalformed) {
      return reset("the attestation key no longer loads (" + identity.error().message() +
                   "; TPM cleared?): re-enrolling");
    }
    return std::unexpected(identity.error());
  }
  return state;
}

Result<EnrollStep> Enroller::step() {
  auto state = env_.store->loadEnrollment();
  if (!state) return std::unexpected(state.error());
  if (!prepared_) {
    if (auto r = env_.store->ensureDir(); !r) return std::unexpected(r.error());
    state = prepare(std::move(*state));
    if (!state) return std::unexpected(state.error());
    prepared_ = true;
  }
  EnrollStep next = nextEnrollStep(*state, env_.now_unix_ms());
  Result<EnrollmentState> after = *state;
  switch (next) {
    case EnrollStep::kCreateIdentity:
      after = createIdentity(std::move(*state));
      break;
    case EnrollStep::kRequestChallenge:
      after = requestChallenge(std::move(*state));
      break;
    case EnrollStep::kActivate:
      after = activate(std::move(*state));
      break;
    case EnrollStep::kFinalize:
      after = finalize(std::move(*state));
      break;
    case EnrollStep::kDone:
      return next;
  }
  if (!after) return std::unexpected(after.error());
  if (auto r = env_.store->saveEnrollment(*after); !r) return std::unexpected(r.error());
  return next;
}

Result<EnrollmentState> Enroller::run() {
  for (int i = 0; i < 4 + 2 * kMaxChallengeRestarts + 1; ++i) {
    auto done = step();
    if (!done) return std::unexpected(done.error());
    if (*done == EnrollStep::kDone) return env_.store->loadEnrollment();
  }
  return fail(ErrorCode::kInternal, "enrollment did not converge", env_.store->enrollmentPath());
}

Result<EnrollmentState> Enroller::createIdentity(EnrollmentState state) {
  say("[1/4] creating the TPM identity (EK " + options_.ek_type + ", AK " + options_.ak_type + ")");
  auto material = env_.identity->create(options_.ek_type, options_.ak_type);
  if (!material) return std::unexpected(material.error());
  if (auto r = createClientKey(env_.store->clientKeyPath()); !r) return std::unexpected(r.error());
  say("      EK " + material->ek_type + " with a " +
      std::to_string(material->ek_certificate.size()) + "-byte certificate; AK " +
      material->ak_type + " saved to " + env_.store->akBlobPath() + "; client key " +
      env_.store->clientKeyPath());
  state.phase = EnrollPhase::kIdentityCreated;
  state.node = options_.node;
  state.verifier = options_.verifier_url;
  state.ek_type = material->ek_type;
  state.ak_type = material->ak_type;
  return state;
}

Result<EnrollmentState> Enroller::requestChallenge(EnrollmentState state) {
  state = withoutChallenge(std::move(state));
  say("[2/4] sending EK certificate and AK to " + options_.verifier_url + " (POST /v1/enroll)");
  auto material = env_.identity->load();
  if (!material) return std::unexpected(material.error());
  auto csr = makeCsr(env_.store->clientKeyPath(), options_.node);
  if (!csr) return std::unexpected(csr.error());
  bulwark::v1::EnrollRequest request;
  request.set_node(options_.node);
  request.set_ek_certificate(asString(material->ek_certificate));
  request.set_ek_public(asString(material->ek_public));
  request.set_ak_public(asString(material->ak_public));
  request.set_csr(asString(*csr));
  *request.mutable_host() = env_.host_facts ? env_.host_facts() : bulwark::v1::HostFacts{};
  auto challenge = env_.verifier->enroll(request);
  if (!challenge) return std::unexpected(challenge.error());
  if (challenge->enrollment_id().empty() || challenge->credential_blob().empty() ||
      challenge->encrypted_secret().empty()) {
    return fail(ErrorCode::kMalformed, "verifier sent an incomplete challenge", "POST /v1/enroll");
  }
  state.phase = EnrollPhase::kChallengeReceived;
  state.enrollment_id = challenge->enrollment_id();
  state.credential_blob = asBytesCopy(challenge->credential_blob());
  state.encrypted_secret = asBytesCopy(challenge->encrypted_secret());
  state.challenge_expires_unix_ms = challenge->expires_unix_ms();
  state.csr = std::move(*csr);
  say("      challenge received: enrollment " + state.enrollment_id);
  return state;
}

Result<EnrollmentState> Enroller::activate(EnrollmentState state) {
  say("[3/4] activating the credential in the TPM and proving it (POST /v1/enroll/activate)");
  auto secret = env_.identity->activate(state.credential_blob, state.encrypted_secret);
  if (!secret) return std::unexpected(secret.error());
  bulwark::v1::ActivateRequest request;
  request.set_enrollment_id(state.enrollment_id);
  request.set_secret(asString(*secret));
  request.set_csr(asString(state.csr));
  OPENSSL_cleanse(secret->data(), secret->size());
  auto result = env_.verifier->activate(request);
  if (!result) {
    if (verifierErrorCode(result.error()) == "enrollment-unknown" &&
        ++challenge_restarts_ <= kMaxChallengeRestarts) {
      say("      the verifier no longer knows enrollment " + state.enrollment_id +
          " (expired or already used): requesting a new challenge");
      return withoutChallenge(std::move(state));
    }
    return std::unexpected(result.error());
  }
  Bytes cert = asBytesCopy(result->client_certificate());
  if (auto r = checkCertificateMatchesKey(cert, env_.store->clientKeyPath()); !r) {
    return std::unexpected(r.error().within("EnrollResult.client_certificate"));
  }
  auto pcr = pcrChoiceFrom(result->pcr_bank(), result->pcr_selection());
  if (!pcr) return std::unexpected(pcr.error());
  state = withoutChallenge(std::move(state));
  state.phase = EnrollPhase::kActivated;
  state.verifier_state = result->state();
  state.client_certificate = std::move(cert);
  for (const auto& der : result->ca_chain()) state.ca_chain.push_back(asBytesCopy(der));
  state.first_nonce = asBytesCopy(result->nonce());
  state.first_nonce_expires_unix_ms = result->nonce_expires_unix_ms();
  state.pcr = *pcr;
  state.enrolled_unix_ms = env_.now_unix_ms();
  return state;
}

Result<EnrollmentState> Enroller::finalize(EnrollmentState state) {
  say("[4/4] storing the client certificate in " + env_.store->clientCertPath());
  if (auto r = env_.store->writeCertificates(state.client_certificate, state.ca_chain); !r) {
    return std::unexpected(r.error());
  }
  AttestationState attestation;
  attestation.nonce = state.first_nonce;
  attestation.nonce_expires_unix_ms = state.first_nonce_expires_unix_ms;
  attestation.pcr = state.pcr;
  if (auto r = env_.store->saveAttestation(attestation); !r) return std::unexpected(r.error());
  state.phase = phaseForVerifierState(state.verifier_state);
  return state;
}

std::string enrollNextStepHint(const Error& error) {
  auto code = verifierErrorCode(error).value_or("");
  if (code == "node-name-taken") {
    return "another TPM is enrolled under this name: choose another --node, or have an admin "
           "revoke the old node (POST /v1/nodes/NAME/revoke) first";
  }
  if (code == "node-revoked") {
    return "this node was revoked: an admin must delete it (DELETE /v1/nodes/NAME) before it "
           "can enroll again";
  }
  if (code.starts_with("ek-cert") || code == "ek-unsupported") {
    return "the verifier does not accept this TPM's EK certificate: add the TPM vendor's CA to "
           "the verifier's enrollment.ek_ca, then re-run `bulwark-agent enroll`";
  }
  if (code.starts_with("ak-") || code == "csr-invalid" || code == "activation-failed") {
    return "re-run `bulwark-agent enroll --force` to create a new AK and client key";
  }
  if (code == "node-name-invalid") return "pass a valid --node (A-Z a-z 0-9 . _ -)";
  if (code.empty() && (error.context().find("tcti") != std::string::npos ||
                       error.message().find("Tss2_Tcti") != std::string::npos)) {
    return "cannot reach the TPM: check tpm.tcti / --tpm (is /dev/tpmrm0 there and readable by "
           "this user? is swtpm running?), then re-run `bulwark-agent enroll`";
  }
  if (error.code() == ErrorCode::kUnavailable && code.empty()) {
    return "check verifier.url, verifier.ca_file and the network (or the TPM, tpm.tcti), then "
           "re-run `bulwark-agent enroll`: it resumes where it stopped";
  }
  if (error.code() == ErrorCode::kUnavailable) {
    return "the verifier is busy or down: re-run `bulwark-agent enroll` later; it resumes";
  }
  if (error.code() == ErrorCode::kTpm) {
    return "the TPM refused an operation: check tpm.tcti / --tpm; after a TPM clear run "
           "`bulwark-agent enroll --force`";
  }
  if (error.code() == ErrorCode::kNotFound && code.empty()) {
    return "provision an EK certificate in the TPM's NV (the vendor's or swtpm_setup "
           "--create-ek-cert) or check the file named above";
  }
  return "fix the problem above and re-run `bulwark-agent enroll`: it resumes where it stopped";
}

}  // namespace bulwark::agent
