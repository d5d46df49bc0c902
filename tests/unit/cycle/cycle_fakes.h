// Fakes for the attestation cycle tests: a quoter that echoes the qualifying data,
// a source with fixed measurements, and a verifier with single-use nonces that
// checks the quote binds the exact report bytes and — when asked to — keeps a copy
// of each CEL log like the real verifier's incremental logs (docs/api.md
// "Incremental logs"): whole logs replace the copy, a log from the held offset
// extends it, anything else is 409 log-prefix-unknown with the nonce not consumed.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/cycle/attestation_cycle.h"
#include "agent/transport/verifier_error.h"
#include "attest/core/digest.h"

namespace bulwark::agent::testing {

inline std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }
inline Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// SHA-256(nonce || SHA-256(report)) computed here with OpenSSL's one-shot
// digest, not through attest/quote.
inline Bytes expectedQualifyingData(const std::string& nonce, const std::string& report) {
  Bytes inner = digest(HashAlg::kSha256, asBytes(report));
  Bytes outer_input = bytes(nonce);
  outer_input.insert(outer_input.end(), inner.begin(), inner.end());
  return digest(HashAlg::kSha256, outer_input);
}

class FakeQuoter final : public Quoter {
 public:
  std::vector<std::string> selections;
  std::vector<Bytes> qualifying;
  Result<attest::QuoteResult> quote(const attest::PcrSelection& selection, ByteView qd) override {
    selections.push_back(selection.toString());
    qualifying.emplace_back(qd.begin(), qd.end());
    attest::QuoteResult q;
    q.attest = Bytes(qd.begin(), qd.end());  // a real TPMS_ATTEST carries it as extraData
    q.signature = bytes("sig");
    for (const auto& bank : selection.banks()) {
      attest::PcrBankValues values{bank.alg, {}};
      for (std::uint32_t i = 0; i < 24; ++i) {
        if (bank.mask & (1u << i))
          values.values.push_back({i, Bytes(hashAlgSize(bank.alg), std::uint8_t(i))});
      }
      q.pcrs.push_back(values);
    }
    return q;
  }
};

inline bulwark::v1::Measurement measurement(const std::string& kind, const std::string& subject,
                                            std::map<std::string, std::string> attributes = {}) {
  bulwark::v1::Measurement m;
  m.set_kind(kind);
  m.set_subject(subject);
  m.set_sha256(std::string(32, 'a'));
  for (auto& [k, v] : attributes) (*m.mutable_attributes())[k] = v;
  return m;
}

class FakeSource final : public MeasurementSource {
 public:
  std::vector<std::uint32_t> masks;
  Result<Collected> collect(std::uint32_t selected) override {
    masks.push_back(selected);
    Collected c;
    c.measurements.push_back(measurement("host-file", "/etc/os-release"));
    c.measurements.push_back(measurement("runtime-process", "/usr/bin/runc", {{"pids", "7"}}));
    bulwark::v1::EventLog log;
    log.set_format(bulwark::v1::EventLog::CEL_JSON);
    log.set_source("/var/lib/bulwark/measure.log");
    log.set_content("{}");
    c.logs.push_back(log);
    return c;
  }
};

// Single-use nonces like the verifier (docs/api.md), and checks that the quote
// binds the exact report bytes to the nonce.
class FakeAttestVerifier final : public VerifierClient {
 public:
  std::set<std::string> live;  // issued, unused
  std::vector<bulwark::v1::Report> reports;
  int nonce_calls = 0, attest_calls = 0;
  bulwark::v1::Status status = bulwark::v1::STATUS_AFFIRMING;
  bool lose_next_answer = false;
  std::string next_bank = "sha256";
  int issued = 0;
  std::int64_t now = 1'700'000'000'000;
  // Incremental logs: keep copies of CEL logs and answer with cursors.
  bool issue_cursors = false;
  std::map<std::string, std::string> copies;  // source → verified bytes held
  std::vector<std::string> refusals;          // error codes answered, in order

  std::string issue() {
    std::string n = "nonce-" + std::to_string(++issued);
    live.insert(n);
    return n;
  }
  Result<bulwark::v1::EnrollChallenge> enroll(const bulwark::v1::EnrollRequest&) override {
    return fail(ErrorCode::kInternal, "unused");
  }
  Result<bulwark::v1::EnrollResult> activate(const bulwark::v1::ActivateRequest&) override {
    return fail(ErrorCode::kInternal, "unused");
  }
  Result<bulwark::v1::NonceResponse> nonce() override {
    ++nonce_calls;
    bulwark::v1::NonceResponse r;
    r.set_nonce(issue());
    r.set_nonce_expires_unix_ms(now + 120000);
    r.set_pcr_bank("sha256");
    r.add_pcr_selection(0);
    r.add_pcr_selection(15);
    return r;
  }
  Result<bulwark::v1::AttestResponse> attest(const bulwark::v1::Evidence& e) override {
    ++attest_calls;
    bulwark::v1::Report report;
    if (!report.ParseFromString(e.report())) return refuse(400, "evidence-malformed");
    if (!live.contains(report.nonce())) return refuse(409, "nonce-replayed");
    std::map<std::string, std::string> updated = copies;
    if (issue_cursors && !applyLogs(report, updated)) return refuse(409, "log-prefix-unknown");
    live.erase(report.nonce());
    copies = std::move(updated);
    reports.push_back(report);
    Bytes qd = expectedQualifyingData(report.nonce(), e.report());
    bulwark::v1::AttestResponse r;
    r.mutable_result()->set_node(report.node());
    r.mutable_result()->set_status(
        e.quote().attest() == str(qd) ? status : bulwark::v1::STATUS_CONTRAINDICATED);
    if (status != bulwark::v1::STATUS_AFFIRMING) {
      auto* reason = r.mutable_result()->add_reasons();
      reason->set_code("measurement-unknown");
      reason->set_detail("/etc/os-release");
    }
    r.set_next_nonce(issue());
    r.set_nonce_expires_unix_ms(now + 120000);
    r.set_pcr_bank(next_bank);
    r.add_pcr_selection(0);
    r.add_pcr_selection(15);
    if (issue_cursors) addCursors(r);
    if (lose_next_answer) {
      lose_next_answer = false;
      return fail(ErrorCode::kUnavailable, "connection reset", "read response");
    }
    return r;
  }

 private:
  static std::uint64_t records(const std::string& bytes) {
    return static_cast<std::uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
  }
  bool applyLogs(const bulwark::v1::Report& report, std::map<std::string, std::string>& out) {
    for (const auto& log : report.logs()) {
      if (log.format() != bulwark::v1::EventLog::CEL_JSON) continue;
      if (log.offset() == 0 && log.entries_before() == 0) {
        out[log.source()] = log.content();
        continue;
      }
      auto held = out.find(log.source());
      if (held == out.end() || held->second.size() != log.offset() ||
          records(held->second) != log.entries_before()) {
        return false;
      }
      held->second += log.content();
    }
    return true;
  }
  void addCursors(bulwark::v1::AttestResponse& r) const {
    for (const auto& [source, held] : copies) {
      auto* c = r.add_log_cursors();
      c->set_source(source);
      c->set_offset(held.size());
      c->set_entries(records(held));
      c->set_prefix_sha256(str(sha256(asBytes(held))));
    }
  }
  std::unexpected<Error> refuse(int http_status, const std::string& code) {
    refusals.push_back(code);
    bulwark::v1::ErrorBody body;
    body.set_error(code);
    return std::unexpected(verifierError(
        "POST /v1/attest", {http_status, "application/x-protobuf", body.SerializeAsString()}));
  }
};

}  // namespace bulwark::agent::testing
