// ValidatingAdmissionWebhook (admission.k8s.io/v1 AdmissionReview, DESIGN §7): refuses
// to place a pod on a node that is not trusted now. Pure: body + snapshot + time → answer.
//
// Placement requests, judged by the target node's trust at the time of the question:
//   CREATE pods/binding (what kube-scheduler sends)          node = Binding.target.name
//   CREATE bindings (legacy /api/v1/namespaces/NS/bindings)  node = Binding.target.name
//   CREATE pods with spec.nodeName set (bypasses the scheduler) node = spec.nodeName
// Exception: a mirror pod (annotation kubernetes.io/config.mirror) created by that
// node's own kubelet (user system:node:NAME): the static pod runs whatever we answer,
// refusing only hides it from the API. Everything else is allowed.
#pragma once

#include <string>
#include <string_view>

#include "attest/core/error.h"
#include "server/sched/verdict_snapshot.h"

namespace bulwark::server::sched {

struct AdmissionRequest {
  std::string uid;
  bool places_pod = false;  // one of the placement requests above
  std::string node;         // target node when places_pod ("" = binding without target)
  std::string subject;      // "binding of pod NS/NAME" / "pod NS/NAME", for messages
  bool own_mirror_pod = false;
};

// kMalformed for: not JSON, not apiVersion admission.k8s.io/v1 kind AdmissionReview, no
// request or request.uid, wrong member types, ambiguous key spellings.
[[nodiscard]] Result<AdmissionRequest> parseAdmissionReview(std::string_view body);

struct AdmissionDecision {
  bool allowed = true;
  std::string message;  // status.message when refused
};

// `snapshot` nullptr: verdicts unavailable → placements refused (fail closed).
AdmissionDecision admit(const AdmissionRequest& request, const VerdictSnapshot* snapshot,
                        Millis now);

// The AdmissionReview answer: same apiVersion/kind, response.uid echoed, status code 403
// and the message when refused.
std::string admissionReviewResponse(const AdmissionRequest& request,
                                    const AdmissionDecision& decision);

}  // namespace bulwark::server::sched
