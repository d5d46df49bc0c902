#include "server/appraisal/appraiser.h"

#include <nlohmann/json.hpp>

#include "attest/core/digest.h"

namespace bulwark::server {

namespace {
// EAR size stays far below the Store's 64 KiB bound whatever the verdict holds.
constexpr std::size_t kMaxEarReasons = 32;
constexpr std::size_t kMaxEarDetail = 256;

std::string nonceCode(NonceRejection r) {
  std::string code(nonceRejectionName(r));
  for (char& c : code) c = c == '_' ? '-' : c;
  return code;
}

std::string nonceDetail(NonceRejection r) {
  switch (r) {
    case NonceRejection::kUnknown:
      return "the verifier never issued this nonce (or it was purged)";
    case NonceRejection::kForeign:
      return "this nonce was issued to another node";
    case NonceRejection::kExpired:
      return "this nonce expired";
    case NonceRejection::kReplayed:
      return "this nonce was already used";
  }
  return "nonce refused";
}

std::optional<TpmCounters> countersOf(const NodeRecord& n) {
  if (!n.reset_count || !n.restart_count || !n.clock) return std::nullopt;
  return TpmCounters{*n.reset_count, *n.restart_count, *n.clock};
}

std::vector<attest::Reason> earReasons(const Verdict& verdict) {
  std::vector<attest::Reason> out;
  std::size_t skipped = 0;
  for (const Reason& r : verdict.reasons()) {
    if (r.kind == ReasonKind::kFinding) continue;
    if (out.size() >= kMaxEarReasons) {
      ++skipped;
      continue;
    }
    std::string claim =
        r.kind == ReasonKind::kEvent ? "verifier" : std::string(attest::trustClaimName(r.claim));
    std::string detail = r.detail.substr(0, kMaxEarDetail);
    out.push_back({std::move(claim), r.code, std::move(detail)});
  }
  if (skipped > 0) {
    out.push_back({"verifier", "more-reasons",
                   std::to_string(skipped) + " more reasons in the verifier's appraisal record"});
  }
  return out;
}
}  // namespace

AppraisalStatus toAppraisalStatus(attest::Tier tier) {
  switch (tier) {
    case attest::Tier::kAffirming:
      return AppraisalStatus::kAffirming;
    case attest::Tier::kWarning:
      return AppraisalStatus::kWarning;
    case attest::Tier::kContraindicated:
      return AppraisalStatus::kContraindicated;
    case attest::Tier::kNone:
      return AppraisalStatus::kNone;
  }
  return AppraisalStatus::kNone;
}

Result<attest::Ear> makeEar(const std::string& node, const Verdict& verdict, ByteView nonce,
                            Millis appraised_at, Millis fresh_until, std::int64_t policy_version,
                            const attest::VerifierId& verifier_id) {
  attest::Ear ear;
  ear.iat = appraised_at / 1000;
  ear.exp = fresh_until / 1000;
  if (ear.exp <= ear.iat)
    return fail(ErrorCode::kInvalidArgument, "freshness deadline not after issue time");
  ear.verifier_id = verifier_id;
  ear.nonce = Bytes(nonce.begin(), nonce.end());
  attest::Appraisal a;
  a.status = verdict.status();
  a.vector = verdict.vector();
  a.policy_id = "bulwark:policy:v" + std::to_string(policy_version);
  a.reasons = earReasons(verdict);
  ear.submods.emplace(node, std::move(a));
  return ear;
}

Appraiser::Appraiser(Store& store, std::shared_ptr<EVP_PKEY> ear_key, AppraiserOptions options,
                     NowFn now, attest::Rng& rng)
    : store_(store),
      ear_key_(std::move(ear_key)),
      options_(std::move(options)),
      now_(std::move(now)),
      rng_(rng) {
  if (auto it = options_.profiles.find("default"); it != options_.profiles.end())
    default_profile_ = it->second;
}

void Appraiser::clearCaches() {
  std::lock_guard lock(mu_);
  ak_cache_.clear();
  policy_.reset();
  node_logs_.clear();
}

const IsolationProfile& Appraiser::profileFor(const std::string& group) const {
  auto it = options_.profiles.find(group.empty() ? "default" : group);
  return it == options_.profiles.end() ? default_profile_ : it->second;
}

// The caller alone (its client certificate's node), before a byte of evidence is parsed:
// a revoked or superseded certificate costs the verifier one point read, not a parse.
ApiResult<NodeRecord> Appraiser::authenticate(const AgentIdentity& who) {
  auto node = store_.getNode(who.node);
  if (!node) {
    if (node.error().code() == ErrorCode::kNotFound) {
      return apiFail(403, "node-unknown", "no enrolled node '" + who.node + "'; enroll again");
    }
    return std::unexpected(fromStoreError(node.error()));
  }
  if (node->state == NodeState::kRevoked)
    return apiFail(403, "node-revoked", "node was revoked by an admin");
  if (node->state == NodeState::kEnrolling) {
    return apiFail(403, "node-awaiting-approval",
                   "enrollment awaits approval (bulwarkctl approve " + who.node + ")");
  }
  if (!node->client_cert_serial.empty() && node->client_cert_serial != who.cert_serial) {
    return apiFail(
        403, "client-certificate-superseded",
        "a newer enrollment of this node holds another client certificate; enroll again");
  }
  return *node;
}

ApiResult<std::shared_ptr<const attest::AkKey>> Appraiser::akFor(const NodeRecord& node) {
  {
    std::lock_guard lock(mu_);
    if (auto it = ak_cache_.find(node.ak_name); it != ak_cache_.end()) return it->second;
  }
  // Parsed once per AK (its name is a hash of the public area, so the cache can never
  // hand out another key for the same name).
  auto pub = attest::parseTpm2bPublic(node.ak_public);
  if (!pub || attest::objectName(*pub) != node.ak_name) {
    return apiFail(500, "internal-error", "stored AK of node " + node.name + " does not parse");
  }
  auto key = attest::AkKey::fromTpm2bPublic(node.ak_public);
  if (!key)
    return apiFail(500, "internal-error",
                   "stored AK of node " + node.name + ": " + key.error().message());
  auto shared = std::make_shared<const attest::AkKey>(std::move(*key));
  std::lock_guard lock(mu_);
  if (ak_cache_.size() >= 200000) ak_cache_.clear();  // bound memory under churn
  ak_cache_.emplace(node.ak_name, shared);
  return shared;
}

ApiResult<std::shared_ptr<const PolicySnapshot>> Appraiser::policy() {
  // Version first: a change racing with the reads below yields a snapshot labelled
  // older than its content, which the next call reloads; never the reverse.
  auto version = store_.policyVersion();
  if (!version) return std::unexpected(fromStoreError(version.error()));
  {
    std::lock_guard lock(mu_);
    if (policy_ && policy_->version() == *version) return policy_;
  }
  auto values = store_.listReferenceValues({});
  if (!values) return std::unexpected(fromStoreError(values.error()));
  auto rules = store_.listImageRules();
  if (!rules) return std::unexpected(fromStoreError(rules.error()));
  auto snap = std::make_shared<const PolicySnapshot>(*version, *values, std::move(*rules));
  std::lock_guard lock(mu_);
  policy_ = snap;
  return snap;
}

PipelineInput Appraiser::inputFor(const NodeRecord& node, const ParsedEvidence& ev,
                                  const attest::AkKey& ak, const PolicySnapshot& policy) const {
  PipelineInput in;
  in.evidence = &ev;
  in.ak = &ak;
  in.expected = &options_.selection;
  in.measurement_pcr = options_.measurement_pcr;
  in.previous = countersOf(node);
  in.policy = &policy;
  in.profile = &profileFor(node.group);
  in.ima_policy = options_.ima_policy ? &*options_.ima_policy : nullptr;
  in.boot_policy = options_.boot_policy.get();
  return in;
}

PipelineResult Appraiser::run(CheckLedger ledger, const NodeRecord& node, const ParsedEvidence& ev,
                              const attest::AkKey& ak, const PolicySnapshot& policy,
                              const std::vector<MeasurementAcknowledgment>& acknowledged) const {
  PipelineInput in = inputFor(node, ev, ak, policy);
  in.acknowledged = &acknowledged;
  return runPipeline(std::move(ledger), in);
}

ApiResult<std::vector<MeasurementAcknowledgment>> Appraiser::acknowledgments(
    const std::string& node) {
  auto acks = store_.listAcknowledgments(node);
  if (!acks) return std::unexpected(fromStoreError(acks.error(), "node-unknown"));
  return std::move(*acks);
}

ApiResult<AppraisalRecord> Appraiser::record(const NodeRecord& node, const ParsedEvidence& ev,
                                             const PipelineResult& result, Millis now,
                                             Millis fresh_until, std::int64_t policy_version,
                                             ByteView evidence, const LogCopy* copy,
                                             const NonceTurn* turn) {
  AppraisalRecord r;
  r.node = node.name;
  r.appraised_at = now;
  r.status = toAppraisalStatus(result.verdict.status());
  r.reasons_json = reasonsToJson(result.verdict.reasons())
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.trust_vector_json = result.verdict.vector().toJson().dump();
  r.evidence_digest = ev.digest;
  r.fresh_until = fresh_until;
  r.policy_version = policy_version;
  if (result.counters) {
    r.reset_count = result.counters->reset_count;
    r.restart_count = result.counters->restart_count;
    r.clock = result.counters->clock;
  }
  auto ear = makeEar(node.name, result.verdict, asBytes(ev.report.nonce()), now, fresh_until,
                     policy_version, options_.verifier_id);
  if (!ear) return apiFail(500, "internal-error", "EAR: " + ear.error().message());
  auto jws = attest::signEar(*ear, ear_key_.get());
  if (!jws) return apiFail(500, "internal-error", "EAR signing: " + jws.error().message());
  r.ear = std::move(*jws);
  Result<AppraisalRecord> stored = AppraisalRecord{};
  if (turn != nullptr) {
    auto attested = store_.recordAttestation(turn->used, now, r, evidence, copy, turn->next);
    if (attested && !*attested) {
      // Another request used this nonce since it was checked: nothing was stored.
      return apiFail(409, nonceCode(attested->error()), nonceDetail(attested->error()));
    }
    stored = attested ? Result<AppraisalRecord>(std::move(**attested))
                      : Result<AppraisalRecord>(std::unexpected(attested.error()));
  } else {
    stored = store_.recordAppraisal(r, evidence, copy);
  }
  if (!stored) {
    if (stored.error().code() == ErrorCode::kInvalidArgument) {
      return apiFail(403, "node-revoked", "node was revoked or re-enrolled during the appraisal");
    }
    return std::unexpected(fromStoreError(stored.error()));
  }
  return *stored;
}

void Appraiser::purgeExpired(Millis now) {
  Millis last = last_purge_.load();
  if (now - last < kPurgeEvery || !last_purge_.compare_exchange_strong(last, now)) return;
  // Best effort: a failed purge is retried next time; it never fails a request. Used
  // nonces are kept until they expire, so a replay within the TTL is named a replay.
  (void)store_.purgeNonces(now);
  (void)store_.purgeExpiredEnrollments(now);
}

ApiResult<NonceRecord> Appraiser::makeNonce(const std::string& node) {
  NonceRecord n;
  n.value.resize(32);
  if (auto r = rng_.fill(n.value); !r)
    return apiFail(500, "internal-error", "random: " + r.error().message());
  n.node = node;
  n.issued_at = now_();
  n.expires_at = n.issued_at + options_.nonce_ttl.count() * 1000;
  return n;
}

ApiResult<NonceGrant> Appraiser::issueNonce(const std::string& node) {
  purgeExpired(now_());
  auto n = makeNonce(node);
  if (!n) return std::unexpected(n.error());
  if (auto r = store_.issueNonce(*n); !r)
    return std::unexpected(fromStoreError(r.error(), "node-unknown"));
  return NonceGrant{std::move(n->value), n->expires_at};
}

ApiResult<NonceGrant> Appraiser::nonceFor(const AgentIdentity& who) {
  auto node = store_.getNode(who.node);
  if (!node) {
    if (node.error().code() == ErrorCode::kNotFound)
      return apiFail(403, "node-unknown", "no enrolled node '" + who.node + "'");
    return std::unexpected(fromStoreError(node.error()));
  }
  if (node->state == NodeState::kRevoked)
    return apiFail(403, "node-revoked", "node was revoked by an admin");
  if (!node->client_cert_serial.empty() && node->client_cert_serial != who.cert_serial) {
    return apiFail(403, "client-certificate-superseded",
                   "a newer enrollment holds another certificate");
  }
  return issueNonce(who.node);
}

ApiResult<AttestOutcome> Appraiser::attest(const AgentIdentity& who, ByteView evidence) {
  auto node = authenticate(who);
  if (!node) return std::unexpected(node.error());
  auto ev = parseEvidence(evidence);
  if (!ev) return apiFail(400, "evidence-malformed", ev.error().message());
  if (ev->report.node() != who.node) {
    return apiFail(403, "node-mismatch",
                   "report names node '" + ev->report.node().substr(0, 253) +
                       "' but the client certificate is for '" + who.node + "'");
  }
  auto pol = policy();
  if (!pol) return std::unexpected(pol.error());
  auto acks = acknowledgments(node->name);
  if (!acks) return std::unexpected(acks.error());
  CheckLedger ledger;
  ledger.passNode(NodeProof{});
  Millis now = now_();
  // Checked here, consumed in the transaction that stores the verdict (record()): a
  // verdict is never stored without consuming its nonce, and a nonce used meanwhile by
  // another request or replica makes this one store nothing (409). Checked before any
  // log copy is read, so a made-up nonce costs the verifier one indexed read.
  auto usable = store_.checkNonce(node->name, asBytes(ev->report.nonce()), now);
  if (!usable) return std::unexpected(fromStoreError(usable.error()));
  if (!*usable) return apiFail(409, nonceCode(usable->error()), nonceDetail(usable->error()));
  ledger.passNonce(NonceProof{});
  // Incremental logs are matched with the verifier's copies before the nonce is used.
  auto plan = prepareLogs(*node, *ev, (*pol)->version(), *acks);
  if (!plan) return std::unexpected(plan.error());
  auto ak = akFor(*node);
  if (!ak) return std::unexpected(ak.error());
  PipelineInput in = inputFor(*node, *ev, **ak, **pol);
  in.acknowledged = &*acks;
  in.resume = plan->resume;
  in.memo = plan->memo;
  PipelineResult result = runPipeline(std::move(ledger), in);
  concludeLogs(*node, *ev, result, (*pol)->version(), *acks, *plan);
  purgeExpired(now);
  auto next = makeNonce(node->name);
  if (!next) return std::unexpected(next.error());
  NonceTurn turn{asBytes(ev->report.nonce()), *next};
  auto rec = record(*node, *ev, result, now, now + options_.freshness_ttl.count() * 1000,
                    (*pol)->version(), evidence, plan->write ? &*plan->write : nullptr, &turn);
  if (!rec) {
    forgetLogs(node->name);
    return std::unexpected(rec.error());
  }
  if (plan->after) {
    std::lock_guard lock(mu_);
    node_logs_[node->name] = plan->after;
  } else if (plan->known) {
    forgetLogs(node->name);
  }
  return AttestOutcome{std::move(*rec), std::move(result.verdict),
                       NonceGrant{std::move(next->value), next->expires_at},
                       plan->after ? plan->after->copy : std::nullopt};
}

ApiResult<bool> Appraiser::reappraise(const std::string& name) {
  auto node = store_.getNode(name);
  if (!node) return std::unexpected(fromStoreError(node.error(), "node-unknown"));
  if (node->state != NodeState::kTrusted && node->state != NodeState::kUntrusted) return false;
  auto latest = store_.latestAppraisal(name);
  if (!latest)
    return latest.error().code() == ErrorCode::kNotFound
               ? ApiResult<bool>(false)
               : std::unexpected(fromStoreError(latest.error()));
  auto stored = store_.latestEvidence(name);
  if (!stored)
    return stored.error().code() == ErrorCode::kNotFound
               ? ApiResult<bool>(false)
               : std::unexpected(fromStoreError(stored.error()));
  Millis now = now_();
  // Re-appraisal keeps the original deadline: a policy change must not refresh old evidence.
  if (stored->digest != latest->evidence_digest || latest->fresh_until < now + 2000) return false;
  auto ev = parseEvidence(stored->bytes);
  if (!ev || !expandStored(name, *ev)) return false;
  CheckLedger ledger;
  ledger.passNode(NodeProof{});
  // This evidence's nonce was consumed when it was first appraised (the stored
  // appraisal carries its digest); the quote check below re-verifies the binding.
  ledger.passNonce(NonceProof{});
  auto ak = akFor(*node);
  if (!ak) return std::unexpected(ak.error());
  auto pol = policy();
  if (!pol) return std::unexpected(pol.error());
  auto acks = acknowledgments(name);
  if (!acks) return std::unexpected(acks.error());
  PipelineResult result = run(std::move(ledger), *node, *ev, **ak, **pol, *acks);
  auto rec = record(*node, *ev, result, now, latest->fresh_until, (*pol)->version(), stored->bytes);
  if (!rec) return std::unexpected(rec.error());
  return true;
}

ApiResult<Reapproval> Appraiser::reapprove(const std::string& name, const std::string& by) {
  auto node = store_.getNode(name);
  if (!node) return std::unexpected(fromStoreError(node.error(), "node-unknown"));
  if (node->state == NodeState::kRevoked)
    return apiFail(409, "node-revoked", "node was revoked by an admin; it must enroll again");
  auto latest = store_.latestAppraisal(name);
  auto stored = latest ? store_.latestEvidence(name)
                       : Result<StoredEvidence>(std::unexpected(latest.error()));
  if (!stored) {
    if (stored.error().code() != ErrorCode::kNotFound)
      return std::unexpected(fromStoreError(stored.error()));
    return apiFail(409, "no-evidence", "node " + name + " has no appraised evidence to re-approve");
  }
  auto ev = parseEvidence(stored->bytes);
  if (stored->digest != latest->evidence_digest || !ev)
    return apiFail(409, "no-evidence",
                   "node " + name + "'s latest evidence is not its latest verdict's");
  if (auto whole = expandStored(name, *ev); !whole) return std::unexpected(whole.error());
  auto ak = akFor(*node);
  if (!ak) return std::unexpected(ak.error());
  auto pol = policy();
  if (!pol) return std::unexpected(pol.error());
  // History is only as good as the quote and the log replay that carry it.
  PipelineInput in = inputFor(*node, *ev, **ak, **pol);
  CheckLedger proof;
  if (checkQuote(proof, in)) checkLogs(proof, in);
  if (!proof.passed(Check::kLogs)) {
    return apiFail(409, "evidence-not-verified",
                   "the node's latest evidence did not pass the quote and log checks");
  }
  Reapproval out;
  for (const auto& [m, replaced_by] : supersededEntries(*ev)) {
    if ((*pol)->match(m) != ReferenceMatch::kApproved)
      out.acknowledged.push_back({m.kind, m.subject, m.sha256});
  }
  if (!out.acknowledged.empty()) {
    auto added = store_.acknowledgeMeasurements(name, out.acknowledged, by, now_());
    if (!added) return std::unexpected(fromStoreError(added.error(), "node-unknown"));
  }
  auto re = reappraise(name);
  if (!re) return std::unexpected(re.error());
  out.reappraised = *re;
  return out;
}

}  // namespace bulwark::server
