// bulwarkctl eventlog — inspect and check TCG PC Client firmware event logs
// (/sys/kernel/security/tpm0/binary_bios_measurements) and IMA measurement lists:
//   bulwarkctl eventlog show FILE [--json]            every record, decoded
//   bulwarkctl eventlog replay FILE [--json]          final PCR values per bank
//   bulwarkctl eventlog replay --ima FILE [--json]    IMA ascii list → PCR 10 per bank
//   bulwarkctl eventlog facts FILE [--json]           Secure Boot, boot apps, cmdline, ...
//   bulwarkctl eventlog appraise FILE --pcrs P.json [--policy B.json] [--json]
// Exit 0: done (appraise: affirming). 1: checked and rejected (appraise not affirming;
// IMA entries whose template hash does not match or violations — printed as REJECTED
// lines on stderr). 2: could not check (unreadable or malformed input: one ERROR line
// with the byte offset). Formats: docs/boot-policy.md.
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/eventlog/boot_facts.h"
#include "attest/eventlog/boot_policy.h"
#include "attest/eventlog/event_data.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_log_json.h"
#include "attest/eventlog/replay.h"
#include "attest/ima/ima_log.h"
#include "server/ctl/command.h"

namespace bulwark::ctl {
namespace {

namespace el = attest::eventlog;
namespace ima = attest::ima;
using Json = nlohmann::ordered_json;

struct Options {
  std::string file;
  std::string pcrs_file;
  std::string policy_file;
  bool json = false;
  bool ima = false;
};

int error(const Error& e) {
  std::fprintf(stderr, "ERROR %s\n", e.toString().c_str());
  return kExitError;
}

void print(const Json& j) {
  std::fputs((j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n").c_str(), stdout);
}

Result<el::EventLog> loadLog(const std::string& file) {
  auto bytes = readFile(file);
  if (!bytes) return std::unexpected(bytes.error());
  auto log = el::parseEventLog(*bytes);
  if (!log) return std::unexpected(log.error().within(file));
  return log;
}

std::string preferredDigest(const el::Event& ev) {
  for (HashAlg alg : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512, HashAlg::kSha1}) {
    if (const Bytes* d = ev.digestFor(alg)) return std::string(hashAlgName(alg)) + ":" + toHex(*d);
  }
  return ev.digests.empty() ? "-" : toHex(ev.digests[0].digest);
}

int runShow(const Options& o) {
  auto log = loadLog(o.file);
  if (!log) return error(log.error());
  if (o.json) {
    print(el::eventLogToJson(*log));
    return kExitOk;
  }
  std::printf("# %s log, %zu records\n", el::logFormatName(log->format).c_str(), log->events.size());
  for (const auto& ev : log->events) {
    auto data = el::decodeEventData(ev);
    std::string desc = data ? el::describe(*data) : "<decode error: " + data.error().toString() + ">";
    std::printf("#%-4zu PCR %-2u %-34s %s %s\n", ev.index, ev.pcr, el::eventTypeName(ev.type).c_str(),
                ev.type == el::ev::kNoAction ? "(not extended)" : preferredDigest(ev).c_str(), desc.c_str());
  }
  return kExitOk;
}

int runFirmwareReplay(const Options& o) {
  auto log = loadLog(o.file);
  if (!log) return error(log.error());
  auto rep = el::replay(*log);
  if (!rep) return error(rep.error().within(o.file));
  if (o.json) {
    print(el::replayToJson(*rep));
    return kExitOk;
  }
  // Text: the PCRs some record extended (the rest hold their initial values).
  for (const auto& [alg, values] : rep->banks) {
    for (std::uint32_t pcr : rep->extended_pcrs) {
      std::printf("%s pcr%u 0x%s\n", std::string(hashAlgName(alg)).c_str(), pcr, toHex(values.at(pcr)).c_str());
    }
  }
  for (auto id : rep->skipped_alg_ids) std::fprintf(stderr, "WARNING bank 0x%04x not replayed\n", id);
  return kExitOk;
}

int runImaReplay(const Options& o) {
  auto bytes = readFile(o.file);
  if (!bytes) return error(bytes.error());
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  auto log = ima::parseImaLog(text, {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512});
  if (!log) return error(log.error().within(o.file));
  std::vector<std::string> rejected;
  std::size_t violations = 0;
  for (const auto& e : log->entries) {
    if (e.isViolation()) {
      ++violations;
      rejected.push_back("entry " + std::to_string(e.index) + " " + e.path + ": measurement violation");
    } else if (!e.template_hash_ok) {
      rejected.push_back("entry " + std::to_string(e.index) + " " + e.path + ": template hash mismatch");
    }
  }
  if (o.json) {
    Json banks = Json::object();
    for (const auto& [alg, values] : log->state.pcrs) {
      Json pcrs = Json::object();
      for (const auto& [pcr, v] : values) pcrs[std::to_string(pcr)] = toHex(v);
      banks[std::string(hashAlgName(alg))] = pcrs;
    }
    print({{"entries", log->entries.size()}, {"violations", violations},
           {"template_hash_mismatches", rejected.size() - violations}, {"banks", banks}, {"rejected", rejected}});
  } else {
    for (const auto& [alg, values] : log->state.pcrs) {
      for (const auto& [pcr, v] : values) {
        std::printf("%s pcr%u 0x%s\n", std::string(hashAlgName(alg)).c_str(), pcr, toHex(v).c_str());
      }
    }
  }
  for (const auto& r : rejected) std::fprintf(stderr, "REJECTED %s\n", r.c_str());
  return rejected.empty() ? kExitOk : kExitRejected;
}

int runFacts(const Options& o) {
  auto log = loadLog(o.file);
  if (!log) return error(log.error());
  auto facts = el::bootFacts(*log);
  if (!facts) return error(facts.error().within(o.file));
  Json j = el::bootFactsToJson(*facts);
  if (o.json) {
    print(j);
    return kExitOk;
  }
  std::printf("secure boot: %s\n", !facts->secure_boot ? "unknown" : (*facts->secure_boot ? "enabled" : "disabled"));
  for (const auto& v : facts->secure_boot_variables) {
    std::printf("variable %-4s %6zu bytes sha256:%s\n", v.name.c_str(), v.size, toHex(v.data_sha256).c_str());
  }
  for (const auto& a : facts->boot_applications) {
    std::printf("boot application (event %zu) %s %s\n", a.event_index, a.path.c_str(),
                a.digests.contains(HashAlg::kSha256) ? ("sha256:" + toHex(a.digests.at(HashAlg::kSha256))).c_str() : "");
  }
  for (const auto& c : facts->kernel_cmdlines) {
    std::printf("kernel cmdline (event %zu, %s, %s): %s\n", c.event_index, c.source.c_str(),
                c.bound ? "bound" : "NOT bound to its digest", c.text.c_str());
  }
  for (const auto& k : facts->kernels) std::printf("kernel (event %zu) %s\n", k.event_index, k.path.c_str());
  for (const auto& i : facts->initrds) std::printf("initrd (event %zu) %s\n", i.event_index, i.path.c_str());
  std::printf("separators PCR 0-7: %s\n", facts->allSeparatorsPresent() ? "all present" : "MISSING");
  for (const auto& s : facts->inconsistencies) std::printf("inconsistent: %s\n", s.c_str());
  return kExitOk;
}

// pcrs.json: {"sha256": {"0": "hex", ...}, ...} — the values of a verified quote.
Result<el::PcrBanks> loadPcrs(const std::string& file) {
  auto bytes = readFile(file, 1u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  auto doc = Json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return fail(ErrorCode::kInvalidArgument, "not a JSON object", file);
  el::PcrBanks out;
  for (const auto& [bank, pcrs] : doc.items()) {
    auto alg = hashAlgFromName(bank);
    if (!alg || !pcrs.is_object()) return fail(ErrorCode::kInvalidArgument, "bad bank \"" + bank + "\"", file);
    for (const auto& [pcr, hex] : pcrs.items()) {
      auto value = hex.is_string() ? fromHex(hex.get<std::string>()) : fail(ErrorCode::kInvalidArgument, "");
      std::uint32_t index = el::kNumPcrs;
      auto [end, ec] = std::from_chars(pcr.data(), pcr.data() + pcr.size(), index);
      if (ec != std::errc() || end != pcr.data() + pcr.size() || !value || index >= el::kNumPcrs ||
          value->size() != hashAlgSize(*alg)) {
        return fail(ErrorCode::kInvalidArgument, "bad value for " + bank + " PCR " + pcr, file);
      }
      out[*alg][index] = *value;
    }
  }
  return out;
}

int runAppraise(const Options& o) {
  auto bytes = readFile(o.file);
  if (!bytes) return error(bytes.error());
  auto pcrs = loadPcrs(o.pcrs_file);
  if (!pcrs) return error(pcrs.error());
  el::BootPolicy policy;
  if (!o.policy_file.empty()) {
    auto text = readFile(o.policy_file, 1u << 20);
    if (!text) return error(text.error());
    auto parsed = el::parseBootPolicyJson(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
    if (!parsed) return error(parsed.error().within(o.policy_file));
    policy = std::move(*parsed);
  }
  auto compiled = el::compileBootPolicy(std::move(policy));
  if (!compiled) return error(compiled.error());
  el::BootAppraisal a = el::appraiseBootLog(*bytes, *pcrs, *compiled);
  if (o.json) {
    print(el::bootAppraisalToJson(a));
  } else {
    for (const auto& c : a.claims) {
      std::printf("%-9s %-40s %s%s%s\n", c.passed() ? "ok" : "REJECTED", c.rule.c_str(),
                  c.passed() ? "" : std::string(el::bootReasonName(c.reason)).c_str(), c.passed() ? "" : ": ",
                  c.detail.c_str());
    }
  }
  return a.affirming() ? kExitOk : kExitRejected;
}

void registerEventlog(CLI::App& app, int& exit_code) {
  CLI::App* group = app.add_subcommand("eventlog", "Inspect and check firmware event logs and IMA lists");
  group->require_subcommand(1);
  auto add = [&](const char* name, const char* help, int (*run)(const Options&)) {
    auto opts = std::make_shared<Options>();
    CLI::App* cmd = group->add_subcommand(name, help);
    cmd->add_option("FILE", opts->file, "binary_bios_measurements (or IMA ascii list with --ima)")->required();
    cmd->add_flag("--json", opts->json, "machine-readable output");
    cmd->callback([opts, run, &exit_code] { exit_code = run(*opts); });
    return std::make_pair(cmd, opts);
  };
  add("show", "List every record with its decoded data", runShow);
  auto [replay, ropts] = add("replay", "Replay into final PCR values per bank", [](const Options& o) {
    return o.ima ? runImaReplay(o) : runFirmwareReplay(o);
  });
  replay->add_flag("--ima", ropts->ima, "FILE is an IMA ascii_runtime_measurements list");
  add("facts", "Boot facts: Secure Boot, PCR 7 variables, boot applications, kernel cmdline", runFacts);
  auto [appraise, aopts] = add("appraise", "Replay against quoted PCRs and evaluate a boot policy", runAppraise);
  appraise->add_option("--pcrs", aopts->pcrs_file, "quoted PCR values: {\"sha256\": {\"0\": \"hex\"}}")->required();
  appraise->add_option("--policy", aopts->policy_file, "boot policy JSON (default: require Secure Boot and separators)");
}

const RegisterCommand kRegisterEventlog{registerEventlog};

}  // namespace
}  // namespace bulwark::ctl
