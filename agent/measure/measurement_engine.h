// The measurement engine (DESIGN §3 step 2, §4): one cycle collects the host OS,
// the container runtime binaries and processes and the images of running
// containers, hashes files through an incremental cache on every core, and, when
// something new was measured, appends ONE batch record to the CEL log (preceded by
// batch-part records when it is too large for one) and extends the PCR once
// (attest/cel/cel_writer.h protocol). A cycle with nothing new
// extends nothing. Between cycles a ChangeWatcher (inotify on measured paths and on
// runtime state directories) calls back, debounced, so a change is attested
// promptly. Privileged side only (docs/agent.md): reads /proc, files and local
// sockets, never the network.
//
// Thread-safety: runCycle() from one thread at a time (the cycle thread); the
// change callback runs on the watcher's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/measure/measurement.h"
#include "attest/cel/cel_writer.h"
#include "attest/core/error.h"

namespace bulwark::agent {

class SystemdManager;
class ContainerImageSource;

struct MeasureOptions {
  std::uint32_t pcr = 15;
  bool debug = false;  // allows the resettable PCRs 16 and 23
  std::string log_path = "/var/lib/bulwark/measure.log";
  std::vector<std::string> include;  // files, directories (recursive) and glob(3) patterns
  std::vector<std::string> runtime_binaries{
      "containerd", "containerd-shim*", "runc", "crun", "dockerd", "crio", "cri-o", "kubelet"};
  // Directories holding runc/crun state (<root>/<id>/state.json or <root>/<ns>/<id>/...),
  // and containerd's task state (<root>/<ns>/<id>/config.json).
  std::vector<std::string> oci_state_roots{"/run/runc", "/run/crun",
                                           "/run/docker/runtime-runc/moby", "/run/containerd/runc"};
  std::vector<std::string> containerd_task_roots{"/run/containerd/io.containerd.runtime.v2.task"};
  unsigned debounce_ms = 500;
  // Canonical bytes per CEL record; a larger batch is split into batch-part records
  // that the one extending batch record lists (attest/cel/cel_writer.h). Tests lower it.
  std::size_t max_batch_content_bytes = 900u << 10;
  unsigned hash_threads = 0;  // 0 = one per online CPU
  // Host collector: kernel, cmdline, os-release, modules (false: only `include`);
  // roots that tests point at fixtures.
  bool host = true;
  std::string proc_root = "/proc";
  std::string boot_dir = "/boot";
  std::string modules_root = "/lib/modules";
  std::string os_release = "/etc/os-release";
  std::string boot_id_path = "/proc/sys/kernel/random/boot_id";
};

// What the engine talks to. Every pointer may be null: no systemd (the /proc scan
// still finds runtimes), no container runtime, no TPM (measure and report, never
// extend, no log written). Pointees must outlive the engine.
struct MeasureDeps {
  attest::PcrExtender* extender = nullptr;
  std::vector<HashAlg> banks{HashAlg::kSha256};  // banks `extender` extends
  SystemdManager* systemd = nullptr;
  std::vector<ContainerImageSource*> image_sources;
};

struct CycleStats {
  std::size_t files = 0;         // files looked at (stat)
  std::size_t files_hashed = 0;  // cache misses: read and hashed
  std::uint64_t bytes_hashed = 0;
  double seconds = 0;
};

// Progress of the hashing phase: files done of total, bytes hashed so far.
using ProgressFn = std::function<void(std::size_t done, std::size_t total, std::uint64_t bytes)>;

struct CycleReport {
  std::vector<Measurement> measurements;  // the current state, sorted (sortMeasurements)
  std::vector<Measurement> logged;        // what this cycle's batch record lists
  bool extended = false;                  // the PCR was extended this cycle
  // Batch records appended = PCR extends: 1 with news, 0 without, however many
  // entries (docs/measurement-log.md §3).
  std::size_t records = 0;
  // No-action batch-part records before that batch record (a batch beyond one
  // record's size limit, e.g. the first cycle over a large tree).
  std::size_t parts = 0;
  std::uint32_t pcr = 15;
  std::string log_path;            // "" when no log is written (no TPM)
  std::vector<std::string> notes;  // non-fatal problems, one line each
  CycleStats stats;
};

class MeasurementEngine {
 public:
  // Validates the options (PCR 16/23 only with debug). With an extender: starts or
  // continues this boot's log (a log of another boot becomes <log>.prev) and
  // recovers what it already lists, so a restarted agent does not extend the same
  // state twice.
  [[nodiscard]] static Result<std::unique_ptr<MeasurementEngine>> create(MeasureOptions options,
                                                                         MeasureDeps deps);
  ~MeasurementEngine();

  // One cycle. Unreadable files, vanished processes and containers and unreachable
  // runtimes become notes; an Error means the log/extend step failed (nothing new
  // is recorded as logged, so the next cycle retries).
  [[nodiscard]] Result<CycleReport> runCycle(const ProgressFn& progress = {});

  // Starts the change watcher: `on_change(reason)` is called (debounced by
  // options.debounce_ms) after a measured file or a runtime state directory changed.
  // The watched set follows the last cycle's measurements. Idempotent.
  [[nodiscard]] Result<void> startWatching(std::function<void(std::string_view reason)> on_change);
  void stopWatching();

  const MeasureOptions& options() const;

  class Impl;

 private:
  explicit MeasurementEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::agent
