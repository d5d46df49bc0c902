#include "agent/cycle/report_builder.h"

#include "agent/measure/measurement.h"

namespace bulwark::agent {

bool reportsMeasurement(const bulwark::v1::Measurement& m) {
  return m.kind() == kKindImage || m.kind() == kKindRuntimeProcess || !m.attributes().empty();
}

Result<std::string> buildReport(const ReportInputs& in, const Collected& collected,
                                const std::vector<bulwark::v1::EventLog>& logs) {
  if (in.nonce.empty()) return fail(ErrorCode::kInvalidArgument, "no nonce for the report");
  bulwark::v1::Report report;
  report.set_schema_version(kReportSchemaVersion);
  report.set_node(in.node);
  report.set_nonce(std::string(in.nonce.begin(), in.nonce.end()));
  report.set_created_unix_ms(in.created_unix_ms);
  *report.mutable_host() = in.host;
  for (const auto& m : collected.measurements) {
    if (reportsMeasurement(m)) *report.add_measurements() = m;
  }
  for (const auto& l : logs) *report.add_logs() = l;
  for (const auto& c : collected.containers) *report.add_containers() = c;
  report.set_measurement_pcr(in.measurement_pcr);
  std::string bytes;
  if (!report.SerializeToString(&bytes)) {
    return fail(ErrorCode::kInternal, "cannot serialize the report");
  }
  return bytes;
}

bulwark::v1::Evidence buildEvidence(std::string report_bytes, const attest::QuoteResult& quote) {
  bulwark::v1::Evidence evidence;
  evidence.set_report(std::move(report_bytes));
  bulwark::v1::Quote* q = evidence.mutable_quote();
  q->set_attest(std::string(quote.attest.begin(), quote.attest.end()));
  q->set_signature(std::string(quote.signature.begin(), quote.signature.end()));
  for (const attest::PcrBankValues& bank : quote.pcrs) {
    bulwark::v1::PcrBank* out = q->add_pcrs();
    out->set_hash_alg(std::string(hashAlgName(bank.alg)));
    for (const attest::PcrValue& v : bank.values) {
      bulwark::v1::PcrValue* pv = out->add_pcrs();
      pv->set_index(v.index);
      pv->set_digest(std::string(v.value.begin(), v.value.end()));
    }
  }
  return evidence;
}

}  // namespace bulwark::agent
