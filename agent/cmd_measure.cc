// bulwark-agent measure — one measurement cycle (docs/agent.md "Measurement").
// Wiring only: agent/config/ loads the configuration, agent/measure/ measures.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "agent/command.h"
#include "agent/config/agent_config.h"
#include "agent/measure/measure_setup.h"
#include "attest/tpm/esys_tpm.h"

namespace bulwark::agent {
namespace {

struct MeasureFlags {
  bool json = false;
  std::vector<std::string> include;
  std::string tcti;
};

nlohmann::json toJson(const CycleReport& r, std::uint64_t extends) {
  nlohmann::json ms = nlohmann::json::array();
  for (const auto& m : r.measurements) {
    nlohmann::json j{{"kind", m.kind}, {"subject", m.subject}, {"sha256", toHex(m.sha256)}};
    if (!m.attributes.empty()) j["attributes"] = m.attributes;
    if (!m.extend) j["extend"] = false;
    ms.push_back(std::move(j));
  }
  return {{"measurements", std::move(ms)},
          {"pcr", r.pcr},
          {"log", r.log_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.log_path)},
          {"extended", r.extended},
          {"logged", r.logged.size()},
          {"tpm_extends", extends},
          {"notes", r.notes},
          {"stats",
           {{"files", r.stats.files},
            {"files_hashed", r.stats.files_hashed},
            {"bytes_hashed", r.stats.bytes_hashed},
            {"seconds", r.stats.seconds}}}};
}

void printTable(const CycleReport& r) {
  for (const auto& m : r.measurements) {
    std::string extra;
    if (auto it = m.attributes.find("mismatch"); it != m.attributes.end()) {
      extra = "  MISMATCH " + it->second;
    }
    std::printf("%-16s %s  %s%s\n", m.kind.c_str(), toHex(m.sha256).substr(0, 16).c_str(),
                m.subject.c_str(), extra.c_str());
  }
  std::printf("%zu measurements; %s (PCR %u%s%s)\n", r.measurements.size(),
              r.extended ? ("extended once, " + std::to_string(r.logged.size()) + " new").c_str()
                         : "nothing extended",
              r.pcr, r.log_path.empty() ? "" : ", log ", r.log_path.c_str());
}

// Files, bytes and rate on stderr, redrawn at most every 100 ms (TTY only).
ProgressFn ttyProgress() {
  if (!::isatty(STDERR_FILENO)) return {};
  auto start = std::chrono::steady_clock::now();
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [start, last](std::size_t done, std::size_t total, std::uint64_t bytes) {
    auto now = std::chrono::steady_clock::now();
    if (done != total && now - *last < std::chrono::milliseconds(100)) return;
    *last = now;
    double secs = std::max(1e-3, std::chrono::duration<double>(now - start).count());
    double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
    std::fprintf(stderr, "\rmeasuring: %zu/%zu files, %.1f MiB, %.1f MiB/s   %s", done, total, mib,
                 mib / secs, done == total ? "\n" : "");
  };
}

int runMeasure(const MeasureFlags& flags, const GlobalOptions& globals) {
  bool explicit_config = globals.config_option && globals.config_option->count() > 0;
  auto config = loadAgentConfig(globals.config_path, explicit_config);
  if (!config) {
    std::fprintf(stderr, "error: configuration: %s\n", config.error().toString().c_str());
    return kExitError;
  }
  for (const auto& i : flags.include) config->measure.include.push_back(i);
  std::string tcti = flags.tcti.empty() ? config->tpm.tcti : flags.tcti;
  std::unique_ptr<attest::EsysTpm> tpm;
  if (!tcti.empty()) {
    auto opened = attest::EsysTpm::open({tcti, ""});
    if (!opened) {
      std::fprintf(stderr, "error: TPM %s: %s\n", tcti.c_str(), opened.error().toString().c_str());
      return kExitError;
    }
    tpm = std::move(*opened);
  }
  auto stack = buildMeasureStack(*config, tpm.get());
  if (!stack) {
    std::fprintf(stderr, "error: %s\n", stack.error().toString().c_str());
    return kExitError;
  }
  auto report = (*stack)->engine->runCycle(ttyProgress());
  if (!report) {
    std::fprintf(stderr, "error: %s\n", report.error().toString().c_str());
    return kExitError;
  }
  report->notes.insert(report->notes.begin(), (*stack)->notes.begin(), (*stack)->notes.end());
  if (flags.json) {
    std::fputs((toJson(*report, (*stack)->extendCount()).dump(2) + "\n").c_str(), stdout);
  } else {
    printTable(*report);
  }
  for (const auto& n : report->notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  return kExitOk;
}

void registerMeasure(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
  auto flags = std::make_shared<MeasureFlags>();
  CLI::App* cmd = app.add_subcommand(
      "measure",
      "Run one measurement cycle: host OS, container runtime binaries and processes, images of "
      "running containers. With a TPM (--tpm or tpm.tcti) new measurements are appended to the "
      "CEL log as one batch record and the PCR is extended once; without one, nothing is "
      "extended.");
  cmd->fallthrough();  // --config may follow the subcommand
  cmd->add_flag("--json", flags->json, "Machine-readable output");
  cmd->add_option("--include", flags->include,
                  "Also measure this file, directory (recursive) or glob; repeatable");
  cmd->add_option("--tpm", flags->tcti,
                  "TCTI of the TPM to extend (e.g. device:/dev/tpmrm0, swtpm:port=2321); "
                  "overrides tpm.tcti");
  cmd->callback([flags, &globals, &exit_code] { exit_code = runMeasure(*flags, globals); });
}

const RegisterCommand kRegister{registerMeasure};

}  // namespace
}  // namespace bulwark::agent
