#include "server/sched/stored_reasons.h"

#include <nlohmann/json.hpp>

namespace bulwark::server::sched {

namespace {
using nlohmann::json;

std::string clip(std::string_view s) {
  if (s.size() <= kMaxDetail) return std::string(s);
  std::size_t cut = kMaxDetail;
  // Never split a UTF-8 sequence: back off over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

// Measurement kinds (agent/measure/measurement.h) as a person names them.
std::string_view kindLabel(std::string_view kind) {
  if (kind == "runtime-binary") return "runtime binary";
  if (kind == "runtime-process") return "running runtime process";
  if (kind == "host-file") return "host file";
  if (kind == "cmdline") return "kernel command line";
  if (kind == "module") return "kernel module";
  return kind;
}

// Details of the measurement checks read "<kind> <subject> sha256:<hex> <what>"
// (server/appraisal/pipeline_policy.cc describe()): split off kind and subject.
bool splitMeasurement(std::string_view detail, std::string_view& kind, std::string_view& subject) {
  auto space = detail.find(' ');
  auto digest = detail.rfind(" sha256:");
  if (space == std::string_view::npos || digest == std::string_view::npos || digest <= space) {
    return false;
  }
  kind = detail.substr(0, space);
  subject = detail.substr(space + 1, digest - space - 1);
  return !subject.empty();
}

std::string failureSentence(std::string_view code, std::string_view detail) {
  std::string_view kind, subject;
  if ((code == "measurement-unknown" || code == "measurement-revoked") &&
      splitMeasurement(detail, kind, subject)) {
    std::string what = std::string(kindLabel(kind)) + " " + clip(subject);
    return code == "measurement-unknown" ? what + " not in reference values"
                                         : what + " matches only revoked reference values";
  }
  // "<kind> <subject> was sha256:<A> earlier this boot, now sha256:<B>: ..."
  // (pipeline_policy.cc): the file was modified and measured, then replaced.
  if (code == "measurement-superseded-unknown") {
    auto space = detail.find(' ');
    auto was = detail.find(" was sha256:");
    if (space != std::string_view::npos && was != std::string_view::npos && was > space + 1) {
      return std::string(kindLabel(detail.substr(0, space))) + " " +
             clip(detail.substr(space + 1, was - space - 1)) +
             " was modified earlier this boot (node needs re-approval)";
    }
  }
  if (code.empty()) return clip(detail);
  return std::string(code) + (detail.empty() ? "" : ": " + clip(detail));
}

// Which failure a person should read first: integrity failures (quote, logs,
// measurements) before container isolation findings, and among findings the most
// severe (unknown severities count as critical, as the pipeline does).
int failureRank(const json& r) {
  auto container = r.find("container");
  if (container == r.end()) return 100;
  auto sev = r.find("severity");
  std::string s = sev != r.end() && sev->is_string() ? sev->get<std::string>() : "";
  if (s == "low") return 10;
  if (s == "medium") return 20;
  if (s == "high") return 30;
  return 40;
}
}  // namespace

StoredReasons summarizeReasons(std::string_view reasons_json, AppraisalStatus status) {
  StoredReasons out;
  std::string first;
  int failures = 0;
  int best_rank = -1;
  if (reasons_json != "[]") {
    json all = json::parse(reasons_json, nullptr, false);
    if (all.is_array()) {
      for (const json& r : all) {
        if (!r.is_object()) continue;
        auto kind = r.find("kind");
        std::string k = kind != r.end() && kind->is_string() ? kind->get<std::string>() : "failure";
        if (k == "finding") ++out.findings;
        if (k != "failure") continue;
        ++failures;
        const int rank = failureRank(r);
        if (rank <= best_rank) continue;
        best_rank = rank;
        auto code = r.find("code");
        auto detail = r.find("detail");
        first = failureSentence(
            code != r.end() && code->is_string() ? code->get<std::string>() : "",
            detail != r.end() && detail->is_string() ? detail->get<std::string>() : "");
      }
    }
  }
  if (failures == 0) {
    if (status == AppraisalStatus::kAffirming) return out;
    out.sentence = "last appraisal " + std::string(appraisalStatusName(status));
    return out;
  }
  out.sentence = std::move(first);
  if (failures > 1) out.sentence += " (+" + std::to_string(failures - 1) + " more)";
  return out;
}

}  // namespace bulwark::server::sched
