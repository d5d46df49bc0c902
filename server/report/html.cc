#include "server/report/html.h"

#include <nlohmann/json.hpp>

#include "server/report/html_escape.h"
#include "server/report/timeline.h"

namespace bulwark::server::report {

namespace {
using nlohmann::json;

constexpr std::string_view kCss = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:24px;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.nw{white-space:nowrap}.meta{color:#57606a}code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;color:#fff;background:#57606a}
.trusted,.pass,.affirming{background:#1a7f37}.stale,.warning{background:#9a6700}
.untrusted,.fail,.contraindicated,.revoked{background:#cf222e}.enrolling,.not-evaluated,.none,.absent{background:#57606a}
.counts span{margin-right:14px}svg.timeline{border:1px solid #d0d7de;background:#fff}
svg .lane{font-size:11px;fill:#57606a}svg .axis{font-size:10px;fill:#57606a}svg .grid{stroke:#eaeef2}svg .now{stroke:#0969da;stroke-dasharray:3 3}
@media print{body{margin:0;max-width:none;font-size:11px}a{color:inherit;text-decoration:none}nav{display:none}
.badge,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}tr,svg{page-break-inside:avoid;break-inside:avoid}}
)css";

std::string esc(const json& v) {
  if (v.is_null()) return "&#8212;";
  if (v.is_string())
    return v.get_ref<const std::string&>().empty() ? "&#8212;" : htmlEscape(v.get<std::string>());
  return htmlEscape(v.dump());
}

std::string field(const json& o, const char* key) {
  return o.is_object() && o.contains(key) ? esc(o[key]) : "&#8212;";
}

std::string badge(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : "none";
  return "<span class=\"badge " + htmlEscape(s) + "\">" + htmlEscape(s) + "</span>";
}

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width\">"
         "<title>" +
         htmlEscape(title) + "</title><style>" + std::string(kCss) + "</style></head><body>" +
         body + "</body></html>\n";
}

std::string row(std::initializer_list<std::string> cells) {
  std::string r = "<tr>";
  for (const std::string& c : cells) r += "<td>" + c + "</td>";
  return r + "</tr>";
}

std::string head(std::initializer_list<std::string_view> names) {
  std::string r = "<tr>";
  for (std::string_view n : names) r += "<th>" + std::string(n) + "</th>";
  return r + "</tr>";
}

std::string refsCell(const json& refs) {
  return "NIST SP 800-190 " + field(refs, "nist_800_190") + "<br>CIS Docker " +
         field(refs, "cis_docker") +
         (refs.value("pss", "").empty() ? "" : "<br>PSS " + field(refs, "pss"));
}

std::string generated(const json& r) {
  return "<p class=\"meta\">Generated " + field(r, "generated_at") +
         " by the Bulwark verifier; "
         "current policy version " +
         field(r, "policy_version") + ". States (stale included) are evaluated at that time.</p>";
}
}  // namespace

std::string renderFleetPage(const json& r) {
  std::string b = "<h1>Bulwark fleet compliance report</h1>" + generated(r);
  b += "<h2>Nodes per state</h2><p class=\"counts\">";
  const json& counts = r["counts"];
  for (const char* state : {"trusted", "stale", "untrusted", "enrolling", "revoked"}) {
    b += "<span>" + badge(json(state)) + " " + field(counts, state) + "</span>";
  }
  b += "</p><h2>Nodes</h2><table>" +
       head({"Node", "Group", "State", "Status", "Last attestation", "Fresh until", "Failures",
             "Findings (violations)", "Report"});
  for (const json& n : r["nodes"]) {
    std::string name = n.value("name", "");
    b += row({"<b class=\"nw\">" + htmlEscape(name) + "</b>", field(n, "group"), badge(n["state"]),
              n["status"].is_null() ? "&#8212;" : badge(n["status"]),
              "<span class=\"nw\">" + field(n, "last_attestation") + "</span>",
              "<span class=\"nw\">" + field(n, "fresh_until") + "</span>", field(n, "failures"),
              field(n, "findings") + " (" + field(n, "violations") + ")",
              "<a href=\"/reports/nodes/" + htmlEscape(urlSegment(name)) + "\">node report</a>"});
  }
  b += "</table><p class=\"meta\">JSON: <code>/v1/reports/fleet</code>; signed bundle: "
       "<code>bulwarkctl report export --fleet</code>.</p>";
  return page("Bulwark fleet report", b);
}

namespace {
std::string verdictSection(const json& v) {
  if (v.is_null()) return "<h2>Verdict</h2><p>No verdict: the node has not been appraised.</p>";
  std::string b =
      "<h2>Verdict</h2><table>" + row({"EAR status", badge(v["status"])}) +
      row({"Appraisal", "#" + field(v, "appraisal_id") + " at " + field(v, "appraised_at")}) +
      row({"Fresh until", field(v, "fresh_until")}) +
      row({"Policy version", field(v, "policy_version")}) +
      row({"EAR digest (SHA-256)", "<span class=\"mono\">" + field(v, "ear_sha256") + "</span>"}) +
      row({"Evidence digest (SHA-256)",
           "<span class=\"mono\">" + field(v, "evidence_sha256") + "</span>"}) +
      "</table><h2>AR4SI trustworthiness vector</h2><table>" + head({"Claim", "Value", "Tier"});
  for (const json& c : v["trust_claims"]) {
    b += row({esc(c["claim"]), esc(c["value"]), badge(c["tier"])});
  }
  return b + "</table>";
}

std::string controlsSection(const json& controls) {
  std::string b =
      "<h2>Controls</h2><table>" + head({"Status", "Control", "Severity", "References", "Notes"});
  for (const json& c : controls) {
    std::string note = c.value("note", "");
    std::string notes = c.value("violations", 0) > 0 ? esc(c["violations"]) + " violation(s)" : "";
    if (!note.empty()) notes += (notes.empty() ? "" : "; ") + htmlEscape(note);
    if (notes.empty()) notes = "&#8212;";
    b += row({badge(c["status"]), "<b>" + esc(c["id"]) + "</b><br>" + esc(c["title"]),
              field(c, "severity"), refsCell(c["refs"]), notes});
  }
  return b + "</table>";
}

std::string findingsSection(const json& findings) {
  std::string b = "<h2>Container findings</h2>";
  if (findings.empty()) return b + "<p>None.</p>";
  b += "<table>" + head({"Container", "Control", "Severity", "Outcome", "Detail", "References"});
  for (const json& f : findings) {
    std::string outcome = f.value("violation", false)
                              ? badge(json("fail")) + " violation"
                              : badge(json("pass")) + " accepted by profile";
    b += row({esc(f["container"]), esc(f["control"]), esc(f["severity"]), outcome, esc(f["detail"]),
              refsCell(f["refs"])});
  }
  return b + "</table>";
}

std::string reasonsSection(const json& failures, const json& events) {
  std::string b = "<h2>Failure reasons</h2>";
  if (failures.empty()) {
    b += "<p>None.</p>";
  } else {
    b += "<table>" + head({"Code", "Claim", "Detail"});
    for (const json& f : failures) b += row({esc(f["code"]), esc(f["claim"]), esc(f["detail"])});
    b += "</table>";
  }
  if (events.empty()) return b;
  b += "<h2>Events</h2><table>" + head({"Code", "Detail"});
  for (const json& e : events) b += row({esc(e["code"]), esc(e["detail"])});
  return b + "</table>";
}

std::string timelineSection(const json& timeline, Millis now) {
  std::string b =
      "<h2>Trust timeline</h2>" + timelineSvg(timeline, now) + "<table>" +
      head({"Appraisal", "Time", "Status", "Fresh until", "Policy", "Failures", "EAR digest"});
  for (auto it = timeline.rbegin(); it != timeline.rend(); ++it) {
    const json& t = *it;
    b += row({"#" + field(t, "appraisal_id"), field(t, "appraised_at"), badge(t["status"]),
              field(t, "fresh_until"), field(t, "policy_version"), field(t, "failures"),
              "<span class=\"mono\">" + field(t, "ear_sha256") + "</span>"});
  }
  return b + "</table>";
}

std::string evidenceSection(const json& e) {
  std::string b = "<h2>Evidence summary</h2>";
  if (e.is_null()) return b + "<p>No evidence stored for the current verdict.</p>";
  const json host = e.value("host", json::object());
  const json tpm = e.value("tpm", json::object());
  std::string banks, logs, kinds;
  for (const json& bank : e.value("pcr_banks", json::array())) {
    banks += field(bank, "hash_alg") + ": PCR " + esc(bank["pcrs"]) + " ";
  }
  for (const json& l : e.value("logs", json::array())) {
    bool incremental = l.value("offset", 0) > 0;
    logs += field(l, "format") + " " + field(l, "source") + " (" + field(l, "bytes") + " bytes" +
            (incremental ? " appended after byte " + field(l, "offset") +
                               "; the verifier holds the verified log before it"
                         : std::string()) +
            ")<br>";
  }
  const json by_kind = e.value("measurements_by_kind", json::object());
  for (const auto& [kind, n] : by_kind.items()) {
    kinds += (kinds.empty() ? "" : "; ") + htmlEscape(kind) + " " + esc(n);
  }
  b +=
      "<table>" +
      row({"Evidence digest (SHA-256)", "<span class=\"mono\">" + field(e, "sha256") + "</span>"}) +
      row({"Received", field(e, "received_at") + " (" + field(e, "bytes") + " bytes)"}) +
      row({"Host", field(host, "hostname") + " &#8212; " + field(host, "os_release") + ", kernel " +
                       field(host, "kernel")}) +
      row({"Boot", "boot id " + field(host, "boot_id") + "; TPM resetCount " +
                       field(tpm, "reset_count") + ", restartCount " +
                       field(tpm, "restart_count")}) +
      row({"Agent", field(host, "agent_version") + ", machine id " + field(host, "machine_id")}) +
      row({"Measurements",
           field(e, "measurements") + " (" + kinds + ") into PCR " + field(e, "measurement_pcr")}) +
      row({"Quoted PCR bank", banks.empty() ? "&#8212;" : banks}) +
      row({"Event logs", logs.empty() ? "&#8212;" : logs}) +
      row({"Containers inspected",
           field(e, "containers") + " (" + field(e, "container_findings") + " findings)"});
  if (e.contains("error")) b += row({"Decoding", field(e, "error")});
  return b + "</table>";
}
}  // namespace

std::string renderNodePage(const json& r) {
  const json& n = r["node"];
  std::string name = n.value("name", "");
  std::string b = "<nav><a href=\"/reports\">&#8592; fleet report</a></nav><h1>Node " +
                  htmlEscape(name) + " " + badge(n["state"]) + "</h1>" + generated(r) + "<table>" +
                  row({"Group", field(n, "group")}) + row({"Enrolled", field(n, "enrolled_at")}) +
                  row({"Approved", field(n, "approved_at")}) +
                  row({"Fresh until", field(n, "fresh_until")}) + "</table>";
  b += verdictSection(r["verdict"]);
  b += controlsSection(r["controls"]);
  b += findingsSection(r["findings"]);
  b += reasonsSection(r["failures"], r["events"]);
  b += timelineSection(r["timeline"], r.value("generated_at_unix_ms", Millis{0}));
  b += evidenceSection(r["evidence"]);
  b += "<p class=\"meta\">JSON: <code>/v1/reports/nodes/" + htmlEscape(urlSegment(name)) +
       "</code>; signed bundle: <code>bulwarkctl report export " + htmlEscape(name) +
       "</code>.</p>";
  return page("Bulwark report: " + name, b);
}

}  // namespace bulwark::server::report
