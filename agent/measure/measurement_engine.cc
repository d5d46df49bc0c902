#include "agent/measure/measurement_engine.h"

#include <chrono>
#include <mutex>
#include <optional>

#include "agent/measure/change_watcher.h"
#include "agent/measure/container_image_source.h"
#include "agent/measure/file_digest_cache.h"
#include "agent/measure/host_collector.h"
#include "agent/measure/image_collector.h"
#include "agent/measure/logged_state.h"
#include "agent/measure/runtime_collector.h"
#include "attest/cel/cel_file.h"
#include "attest/cel/cel_parser.h"

namespace bulwark::agent {

class MeasurementEngine::Impl {
 public:
  Impl(MeasureOptions options, MeasureDeps deps)
      : options_(std::move(options)),
        deps_(std::move(deps)),
        cache_(options_.hash_threads),
        host_(HostCollectorOptions{options_.proc_root, options_.boot_dir, options_.modules_root,
                                   options_.os_release, "", options_.include, options_.host}),
        runtime_(RuntimeCollectorOptions{options_.runtime_binaries, options_.proc_root},
                 deps_.systemd) {}

  Result<void> openLog();
  Result<CycleReport> runCycle(const ProgressFn& progress);
  Result<void> startWatching(std::function<void(std::string_view)> on_change);
  void stopWatching() {
    std::lock_guard lock(watch_mu_);
    watcher_.reset();
  }

  MeasureOptions options_;

 private:
  Collection collect();
  // Moves kind, subject and attributes out of `c.files` (paths stay for the watches).
  void hash(Collection& c, const ProgressFn& progress, CycleReport& report);
  Result<void> log(CycleReport& report);
  void updateWatches(const Collection& c, CycleReport& report);
  bool isOwnLog(const std::string& path) const {
    return path == options_.log_path || path == options_.log_path + ".prev";
  }

  MeasureDeps deps_;
  FileDigestCache cache_;
  HostCollector host_;
  RuntimeCollector runtime_;
  std::optional<attest::CelWriter> writer_;
  LoggedState logged_;
  std::mutex watch_mu_;
  std::unique_ptr<ChangeWatcher> watcher_;
  std::vector<std::string> watch_files_, watch_dirs_;
};

Result<void> MeasurementEngine::Impl::openLog() {
  attest::CelWriterOptions wo;
  wo.path = options_.log_path;
  wo.pcr = options_.pcr;
  wo.banks = deps_.banks;
  wo.allow_resettable_pcr = options_.debug;
  wo.max_batch_content_bytes = options_.max_batch_content_bytes;
  auto writer = attest::CelWriter::create(wo, *deps_.extender);
  if (!writer) return std::unexpected(writer.error());
  writer_.emplace(std::move(*writer));
  auto boot_id = attest::readBootId(options_.boot_id_path);
  if (!boot_id) return std::unexpected(boot_id.error());
  auto begun = writer_->beginBoot(*boot_id);
  if (!begun) return std::unexpected(begun.error());
  // Same boot: what the log already lists is not measured again (a restarted agent
  // must not extend the same state twice).
  auto bytes = attest::readCelFile(options_.log_path, wo.max_log_bytes);
  if (!bytes) return std::unexpected(bytes.error());
  auto parsed = attest::parseCel(*bytes, wo.parse);
  if (!parsed) {
    Error e = parsed.error();
    return std::unexpected(e.within("measurement log " + options_.log_path));
  }
  logged_ = LoggedState::fromLog(*parsed, options_.pcr);
  return {};
}

Collection MeasurementEngine::Impl::collect() {
  Collection all;
  all.append(host_.collect());
  all.append(runtime_.collect());
  std::vector<RunningContainer> containers;
  for (ContainerImageSource* source : deps_.image_sources) {
    auto listing = source->listRunning();
    if (!listing) {
      std::string note = source->name() + ": " + listing.error().toString();
      all.notes.push_back(note);
      continue;
    }
    for (auto& c : listing->containers) containers.push_back(std::move(c));
    for (auto& n : listing->notes) all.notes.push_back(std::move(n));
    for (auto& d : source->watchDirectories()) all.watch_dirs.push_back(std::move(d));
  }
  all.append(imageCollection(containers));
  // Never measure our own log: its appends would trigger the next cycle forever.
  std::erase_if(all.files, [this](const FileTarget& f) { return isOwnLog(f.path); });
  return all;
}

void MeasurementEngine::Impl::hash(Collection& c, const ProgressFn& progress, CycleReport& report) {
  std::vector<std::string> paths;
  paths.reserve(c.files.size());
  for (const auto& f : c.files) paths.push_back(f.path);
  auto digests = cache_.digestFiles(paths, progress);
  report.measurements.reserve(c.files.size() + c.direct.size());
  for (std::size_t i = 0; i < c.files.size(); ++i) {
    FileTarget& f = c.files[i];
    if (!digests[i]) {
      const Error& e = digests[i].error();
      bool gone = e.code() == ErrorCode::kNotFound;
      std::string what = f.kind == kKindRuntimeProcess
                             ? "process " + f.attributes.at("pid") + " (" + f.subject + ")" +
                                   (gone ? " exited before it was measured" : ": " + e.toString())
                             : f.kind + " " + f.subject + ": " +
                                   (gone ? "vanished before it was measured" : e.toString());
      report.notes.push_back(what);
      continue;
    }
    const Sha256& sha = digests[i]->sha256;
    Measurement m{std::move(f.kind), std::move(f.subject), Bytes(sha.begin(), sha.end()),
                  std::move(f.attributes), f.extend};
    if (!isUtf8(m.subject)) {
      // The log's canonical JSON is UTF-8 only (docs/measurement-log.md): such a path
      // is logged percent-encoded, never dropped.
      m.attributes["subject_encoding"] = "percent";
      m.subject = percentEncodeNonUtf8(m.subject);
    }
    report.measurements.push_back(std::move(m));
  }
  auto stats = cache_.takeStats();
  report.stats.files = stats.files;
  report.stats.files_hashed = stats.hashed;
  report.stats.bytes_hashed = stats.bytes;
}

Result<void> MeasurementEngine::Impl::log(CycleReport& report) {
  std::vector<Measurement> batch = logged_.pending(report.measurements);
  if (batch.empty() || !writer_) return {};
  std::vector<attest::BatchEntry> entries;
  entries.reserve(batch.size());
  for (const auto& m : batch) entries.push_back(toBatchEntry(m));
  // One extend however many entries: a batch beyond one record's size goes out as
  // batch-part records that the one extending batch record lists.
  auto appended = writer_->appendBatch(entries);
  if (!appended) return std::unexpected(appended.error());
  if (appended->recovery.any()) {
    report.notes.push_back("measurement log: repaired a crashed writer's leftovers (" +
                           std::to_string(appended->recovery.torn_bytes) + " torn bytes" +
                           (appended->recovery.interrupted ? ", interrupted write" : "") + ")");
  }
  for (const auto& e : entries) logged_.record(e.kind, e.subject, e.sha256);
  report.records = 1;
  report.parts = appended->parts;
  report.extended = true;
  report.logged = std::move(batch);
  return {};
}

void MeasurementEngine::Impl::updateWatches(const Collection& c, CycleReport& report) {
  std::vector<std::string> files;
  for (const auto& f : c.files) {
    if (f.watch && f.path.starts_with('/')) files.push_back(f.path);
  }
  std::lock_guard lock(watch_mu_);
  watch_files_ = std::move(files);
  watch_dirs_ = c.watch_dirs;
  if (!watcher_) return;
  for (auto& n : watcher_->setPaths(watch_files_, watch_dirs_))
    report.notes.push_back(std::move(n));
}

Result<CycleReport> MeasurementEngine::Impl::runCycle(const ProgressFn& progress) {
  auto start = std::chrono::steady_clock::now();
  CycleReport report;
  report.pcr = options_.pcr;
  report.log_path = writer_ ? options_.log_path : "";
  Collection c = collect();
  report.notes = c.notes;
  hash(c, progress, report);
  for (auto& d : c.direct) report.measurements.push_back(std::move(d));
  finishRuntime(report.measurements);
  sortMeasurements(report.measurements);
  cache_.prune();
  updateWatches(c, report);
  auto logged = log(report);
  report.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!logged) return std::unexpected(logged.error());
  return report;
}

Result<void> MeasurementEngine::Impl::startWatching(
    std::function<void(std::string_view)> on_change) {
  std::lock_guard lock(watch_mu_);
  if (watcher_) return {};
  auto w =
      ChangeWatcher::start(std::chrono::milliseconds(options_.debounce_ms), std::move(on_change));
  if (!w) return std::unexpected(w.error());
  watcher_ = std::move(*w);
  (void)watcher_->setPaths(watch_files_, watch_dirs_);
  return {};
}

Result<std::unique_ptr<MeasurementEngine>> MeasurementEngine::create(MeasureOptions options,
                                                                     MeasureDeps deps) {
  if (options.pcr > attest::kCelMaxPcr) {
    return fail(ErrorCode::kInvalidArgument, "measure.pcr must be 0..23");
  }
  if ((options.pcr == 16 || options.pcr == 23) && !options.debug) {
    return fail(ErrorCode::kInvalidArgument, "PCR " + std::to_string(options.pcr) +
                                                 " is resettable; allowed only in debug mode");
  }
  bool has_tpm = deps.extender != nullptr;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(deps));
  if (has_tpm) {
    if (auto r = impl->openLog(); !r) return std::unexpected(r.error());
  }
  return std::unique_ptr<MeasurementEngine>(new MeasurementEngine(std::move(impl)));
}

MeasurementEngine::MeasurementEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MeasurementEngine::~MeasurementEngine() = default;

Result<CycleReport> MeasurementEngine::runCycle(const ProgressFn& progress) {
  return impl_->runCycle(progress);
}
Result<void> MeasurementEngine::startWatching(std::function<void(std::string_view)> on_change) {
  return impl_->startWatching(std::move(on_change));
}
void MeasurementEngine::stopWatching() { impl_->stopWatching(); }
const MeasureOptions& MeasurementEngine::options() const { return impl_->options_; }

}  // namespace bulwark::agent
