// Agent endpoints: enrollment (no credentials: the TPM authenticates) and the
// attestation cycle (agent role, node = client certificate CN).
#include <nlohmann/json.hpp>

#include "attest/ear/ar4si.h"
#include "bulwark/v1/enrollment.pb.h"
#include "server/api/routes.h"
#include "server/api/wire.h"
#include "server/http/content_type.h"

namespace bulwark::server {

namespace {
std::string toString(ByteView b) { return std::string(b.begin(), b.end()); }

ApiResult<AgentIdentity> agentOf(const RouteContext& ctx) {
  // The router admitted the agent role only for a verified certificate under the agent CA.
  if (ctx.principal == nullptr || !ctx.principal->roles.has(Role::kAgent) || !ctx.request.peer) {
    return apiFail(403, "node-mismatch", "agent endpoints need the node's client certificate");
  }
  return AgentIdentity{ctx.principal->name, ctx.request.peer->serial_hex};
}

bulwark::v1::Status statusOf(AppraisalStatus s) {
  switch (s) {
    case AppraisalStatus::kAffirming:
      return bulwark::v1::STATUS_AFFIRMING;
    case AppraisalStatus::kWarning:
      return bulwark::v1::STATUS_WARNING;
    case AppraisalStatus::kContraindicated:
      return bulwark::v1::STATUS_CONTRAINDICATED;
    case AppraisalStatus::kNone:
      return bulwark::v1::STATUS_NONE;
  }
  return bulwark::v1::STATUS_NONE;
}

void fillSelection(const Appraiser& a, std::string* bank,
                   google::protobuf::RepeatedField<std::uint32_t>* pcrs) {
  const attest::PcrSelection& sel = a.options().selection;
  *bank = std::string(hashAlgName(sel.banks()[0].alg));
  for (std::uint32_t p : selectedPcrs(sel)) pcrs->Add(p);
}

bulwark::v1::AttestResponse attestResponse(const Appraiser& a, const AttestOutcome& o) {
  bulwark::v1::AttestResponse out;
  auto* r = out.mutable_result();
  r->set_node(o.record.node);
  r->set_status(statusOf(o.record.status));
  for (const Reason& reason : o.verdict.reasons()) {
    if (reason.kind != ReasonKind::kFailure) continue;
    auto* pr = r->add_reasons();
    pr->set_code(reason.code);
    pr->set_claim(std::string(attest::trustClaimName(reason.claim)));
    pr->set_detail(reason.detail);
  }
  for (attest::TrustClaim c : attest::kAllTrustClaims) {
    if (auto v = o.verdict.vector().get(c))
      (*r->mutable_trust_vector())[std::string(attest::trustClaimName(c))] = *v;
  }
  r->set_appraised_unix_ms(o.record.appraised_at);
  r->set_fresh_until_unix_ms(o.record.fresh_until);
  r->set_ear(o.record.ear);
  out.set_next_nonce(toString(o.next.nonce));
  out.set_nonce_expires_unix_ms(o.next.expires_at);
  fillSelection(a, out.mutable_pcr_bank(), out.mutable_pcr_selection());
  if (o.cursor) {
    auto* cursor = out.add_log_cursors();
    cursor->set_source(o.cursor->source);
    cursor->set_offset(o.cursor->offset);
    cursor->set_entries(o.cursor->entries);
    cursor->set_prefix_sha256(toString(o.cursor->sha256));
  }
  return out;
}

Handler enrollHandler(const ApiServices& s) {
  return [s](const RouteContext& ctx) {
    if (s.enrollment == nullptr) {
      return errorResponse(ctx.request, {503, "enrollment-disabled", "agent_ca is not configured"});
    }
    bulwark::v1::EnrollRequest req;
    if (auto p = parseProtoBody(ctx.request, req); !p) return errorResponse(ctx.request, p.error());
    auto out = s.enrollment->enroll(req);
    return out ? protoResponse(ctx.request, *out) : errorResponse(ctx.request, out.error());
  };
}

Handler activateHandler(const ApiServices& s) {
  return [s](const RouteContext& ctx) {
    if (s.enrollment == nullptr) {
      return errorResponse(ctx.request, {503, "enrollment-disabled", "agent_ca is not configured"});
    }
    bulwark::v1::ActivateRequest req;
    if (auto p = parseProtoBody(ctx.request, req); !p) return errorResponse(ctx.request, p.error());
    auto id = ctx.params.find("id");
    auto out =
        s.enrollment->activate(req, id == ctx.params.end() ? std::string_view{} : id->second);
    return out ? protoResponse(ctx.request, *out) : errorResponse(ctx.request, out.error());
  };
}

Handler nonceHandler(const ApiServices& s) {
  return [s](const RouteContext& ctx) {
    auto who = agentOf(ctx);
    if (!who) return errorResponse(ctx.request, who.error());
    auto grant = s.appraiser->nonceFor(*who);
    if (!grant) return errorResponse(ctx.request, grant.error());
    bulwark::v1::NonceResponse out;
    out.set_nonce(toString(grant->nonce));
    out.set_nonce_expires_unix_ms(grant->expires_at);
    fillSelection(*s.appraiser, out.mutable_pcr_bank(), out.mutable_pcr_selection());
    return protoResponse(ctx.request, out);
  };
}

Handler attestHandler(const ApiServices& s) {
  return [s](const RouteContext& ctx) {
    auto who = agentOf(ctx);
    if (!who) return errorResponse(ctx.request, who.error());
    // Body parsing is the appraiser's (400 evidence-malformed names the field).
    if (!isMediaType(ctx.request.header("content-type"), kProtobuf)) {
      return errorResponse(ctx.request, {415, "unsupported-media-type",
                                         "send Content-Type: application/x-protobuf"});
    }
    auto out = s.appraiser->attest(*who, asBytes(ctx.request.body));
    return out ? protoResponse(ctx.request, attestResponse(*s.appraiser, *out))
               : errorResponse(ctx.request, out.error());
  };
}
}  // namespace

void addAgentHandlers(std::map<std::string, Handler>& out, const ApiServices& s) {
  out["POST /v1/enroll"] = enrollHandler(s);
  out["POST /v1/enroll/activate"] = activateHandler(s);
  out["POST /v1/enroll/{id}/activate"] = activateHandler(s);
  out["GET /v1/nonce"] = nonceHandler(s);
  out["POST /v1/attest"] = attestHandler(s);
}

std::map<std::string, Handler> makeApiHandlers(const ApiServices& services) {
  std::map<std::string, Handler> out;
  addAgentHandlers(out, services);
  addNodeHandlers(out, services);
  addPolicyHandlers(out, services);
  addSchedulingHandlers(out, services);
  addReportHandlers(out, services);
  return out;
}

}  // namespace bulwark::server
