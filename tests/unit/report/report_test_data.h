// Report inputs shared by the report unit tests: a node with three appraisals (warning,
// contraindicated, affirming), findings and details holding hostile markup, and real
// bulwark.v1.Evidence bytes with hostile host facts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "attest/core/digest.h"
#include "bulwark/v1/evidence.pb.h"
#include "server/report/report_model.h"

namespace bulwark::server::report::test {

inline constexpr Millis kT0 = 1714564800000;  // 2024-05-01T12:00:00Z
inline constexpr std::string_view kHostile = "<script>alert(1)</script>\"'&<img src=x onerror=y>";

inline std::string evidenceBytes(std::size_t containers) {
  bulwark::v1::Report r;
  r.set_schema_version(1);
  r.set_node("node-a");
  r.set_created_unix_ms(kT0 + 2000);
  r.set_measurement_pcr(15);
  r.mutable_host()->set_hostname(std::string(kHostile));
  r.mutable_host()->set_kernel("6.1.0-18-amd64");
  r.mutable_host()->set_os_release("Debian GNU/Linux 12 (bookworm)");
  r.mutable_host()->set_boot_id("0b7c5b0e-boot");
  for (const char* kind : {"runtime-binary", "runtime-binary", "host-file"}) {
    auto* m = r.add_measurements();
    m->set_kind(kind);
    m->set_subject("/usr/bin/runc");
    m->set_sha256(std::string(32, 'a'));
  }
  auto* log = r.add_logs();
  log->set_format(bulwark::v1::EventLog::CEL_JSON);
  log->set_source("/run/bulwark/measure.log");
  log->set_content("{}");
  for (std::size_t i = 0; i < containers; ++i)
    r.add_containers()->set_name("c" + std::to_string(i));
  bulwark::v1::Evidence ev;
  ev.set_report(r.SerializeAsString());
  auto* bank = ev.mutable_quote()->add_pcrs();
  bank->set_hash_alg("sha256");
  for (unsigned i : {0u, 7u, 15u}) {
    auto* p = bank->add_pcrs();
    p->set_index(i);
    p->set_digest(std::string(32, '\0'));
  }
  return ev.SerializeAsString();
}

inline AppraisalRecord appraisal(std::int64_t id, Millis at, AppraisalStatus status,
                                 nlohmann::json reasons, nlohmann::json vector) {
  AppraisalRecord a;
  a.id = id;
  a.node = "node-a";
  a.appraised_at = at;
  a.fresh_until = at + 600000;
  a.status = status;
  a.reasons_json = reasons.dump();
  a.trust_vector_json = vector.dump();
  a.ear = "ear-token-" + std::to_string(id);
  a.evidence_digest = sha256(asBytes(std::string_view("evidence")));
  a.policy_version = id + 10;
  a.reset_count = 3;
  a.restart_count = 0;
  return a;
}

inline nlohmann::json hostileReasons() {
  std::string h(kHostile);
  return nlohmann::json::array(
      {{{"kind", "failure"},
        {"code", "isolation-violation"},
        {"claim", "configuration"},
        {"detail", "privileged " + h},
        {"container", h},
        {"control", "privileged"},
        {"severity", "critical"}},
       {{"kind", "finding"},
        {"code", "rootfs-writable"},
        {"detail", "rw rootfs"},
        {"container", "web"},
        {"control", "rootfs-writable"},
        {"severity", "medium"}},
       {{"kind", "finding"},
        {"code", "x"},
        {"detail", "made-up control"},
        {"container", "web"},
        {"control", "made-up-control:" + h},
        {"severity", "low"}},
       {{"kind", "failure"},
        {"code", "unknown-file"},
        {"claim", "file-system"},
        {"detail", "/etc/" + h}},
       {{"kind", "event"}, {"code", "reboot-detected"}, {"detail", "resetCount 2 -> 3"}}});
}

inline nlohmann::json contraVector() {
  return {{"instance-identity", 2}, {"hardware", 2},       {"executables", 2},
          {"file-system", 96},      {"configuration", 32}, {"sourced-data", 2}};
}

// Three appraisals, newest first; the newest is the current verdict.
inline NodeReportInput hostileInput(std::size_t containers = 2) {
  NodeReportInput in;
  in.node = {"node-a", NodeState::kUntrusted, "web", kT0 - 60000, kT0 - 50000, kT0};
  in.history = {appraisal(3, kT0 + 120000, AppraisalStatus::kContraindicated, hostileReasons(),
                          contraVector()),
                appraisal(2, kT0 + 60000, AppraisalStatus::kWarning, nlohmann::json::array(),
                          {{"instance-identity", 2}, {"configuration", 32}}),
                appraisal(1, kT0, AppraisalStatus::kAffirming, nlohmann::json::array(),
                          {{"instance-identity", 2}, {"hardware", 2}})};
  in.latest = in.history.front();
  std::string bytes = evidenceBytes(containers);
  in.evidence = StoredEvidence{"node-a", kT0 + 119000, in.latest->evidence_digest,
                               Bytes(bytes.begin(), bytes.end())};
  in.policy_version = 13;
  in.now = kT0 + 180000;
  return in;
}

}  // namespace bulwark::server::report::test
