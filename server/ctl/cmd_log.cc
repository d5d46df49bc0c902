// bulwarkctl log replay — replays a CEL-JSON measurement log (Bulwark's, or the
// /run/log/systemd/tpm2-measure.log systemd writes) and prints the final value of
// every PCR it extends, per bank:
//   bulwarkctl log replay FILE [--json] [--bank sha256]... [--allow-torn]
//   sha256 pcr15 0x<hex>
// Exit 0: replayed. 1: replayed, but a "bulwark" record fails its checks (content
// digest mismatch, schema) — values are still printed, each reason goes to stderr as
// "REJECTED ...". 2: one "ERROR ..." line on stderr: unreadable or malformed log (with
// the byte offset), a torn final record (unless --allow-torn), or a bank that cannot
// be replayed. Format: docs/measurement-log.md.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_file.h"
#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_replay.h"
#include "server/ctl/command.h"

namespace bulwark::ctl {
namespace {

using attest::CelLog;
using attest::CelReplay;

struct LogReplayOptions {
  std::string file;
  std::vector<std::string> banks;
  bool json = false;
  bool allow_torn = false;
};

struct LogReport {
  CelLog log;
  CelReplay replay;
  std::vector<attest::CelFinding> findings;
};

Result<LogReport> replayFile(const LogReplayOptions& o) {
  auto bytes = attest::readCelFile(o.file);
  if (!bytes) return std::unexpected(bytes.error());
  auto log = attest::parseCel(*bytes);
  if (!log) return std::unexpected(log.error().within(o.file));
  if (log->torn && !o.allow_torn) {
    return fail(ErrorCode::kMalformed,
                "torn final record at offset " + std::to_string(log->torn->offset) + " (" +
                    std::to_string(log->torn->size) + " bytes): " + log->torn->reason +
                    " (--allow-torn replays the complete records)",
                o.file);
  }
  attest::CelReplayOptions replay_options;
  for (const auto& name : o.banks) {
    auto alg = hashAlgFromName(name);
    if (!alg) return fail(ErrorCode::kInvalidArgument, "unknown bank \"" + name + "\"", "--bank");
    replay_options.banks.push_back(*alg);
  }
  LogReport report{std::move(*log), {}, {}};
  report.replay = attest::replayCel(report.log, replay_options);
  for (const auto& [alg, values] : report.replay.banks) {
    if (!values) return std::unexpected(Error(values.error()).within(o.file));
  }
  report.findings = attest::checkBulwarkRecords(report.log);
  return report;
}

std::string textOutput(const LogReport& r) {
  std::string out;
  for (const auto& [alg, values] : r.replay.banks) {
    for (const auto& [pcr, value] : *values) {
      out += std::string(hashAlgName(alg)) + " pcr" + std::to_string(pcr) + " 0x" + toHex(value) +
             "\n";
    }
  }
  return out;
}

std::string jsonOutput(const LogReport& r) {
  nlohmann::ordered_json banks = nlohmann::ordered_json::object();
  for (const auto& [alg, values] : r.replay.banks) {
    nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
    for (const auto& [pcr, value] : *values) pcrs[std::to_string(pcr)] = toHex(value);
    banks[std::string(hashAlgName(alg))] = std::move(pcrs);
  }
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const auto& f : r.findings) {
    findings.push_back({{"record", f.record_index}, {"offset", f.offset}, {"reason", f.reason}});
  }
  nlohmann::ordered_json out;
  out["records"] = r.log.records.size();
  out["extend_records"] = r.replay.extend_records;
  out["no_action_records"] = r.replay.no_action_records;
  out["nv_records"] = r.replay.nv_records;
  out["torn"] = r.log.torn ? nlohmann::ordered_json{{"offset", r.log.torn->offset},
                                                    {"size", r.log.torn->size},
                                                    {"reason", r.log.torn->reason}}
                           : nlohmann::ordered_json(nullptr);
  out["banks"] = std::move(banks);
  out["findings"] = std::move(findings);
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

int runReplay(const LogReplayOptions& o) {
  auto report = replayFile(o);
  if (!report) {
    std::fprintf(stderr, "ERROR %s\n", report.error().toString().c_str());
    return kExitError;
  }
  std::string out = o.json ? jsonOutput(*report) : textOutput(*report);
  std::fputs(out.c_str(), stdout);
  if (report->log.torn) {
    std::fprintf(stderr, "WARNING torn final record at offset %zu (%zu bytes) ignored\n",
                 report->log.torn->offset, report->log.torn->size);
  }
  for (const auto& f : report->findings) std::fprintf(stderr, "REJECTED %s\n", f.reason.c_str());
  return report->findings.empty() ? kExitOk : kExitRejected;
}

void registerLog(CLI::App& app, int& exit_code) {
  CLI::App* log = app.add_subcommand("log", "Inspect CEL-JSON measurement logs");
  log->require_subcommand(1);
  CLI::App* replay = log->add_subcommand(
      "replay", "Replay a CEL-JSON log (Bulwark's or systemd's tpm2-measure.log) into PCR values");
  auto opts = std::make_shared<LogReplayOptions>();
  replay->add_option("FILE", opts->file, "the log file")->required();
  replay->add_flag("--json", opts->json, "machine-readable output");
  replay->add_option("--bank", opts->banks,
                     "replay only these banks (sha1, sha256, ...); repeatable");
  replay->add_flag("--allow-torn", opts->allow_torn,
                   "replay the complete records when the final one is torn (warns)");
  replay->callback([opts, &exit_code] { exit_code = runReplay(*opts); });
}

const RegisterCommand kRegisterLog{registerLog};

}  // namespace
}  // namespace bulwark::ctl
