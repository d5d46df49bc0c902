// Verifier side of the "bulwark" content type over a whole log: per-record checks
// and the binding of batch-part records to the batch record that lists them
// (docs/measurement-log.md §3). Pure.
#include <span>
#include <string>
#include <vector>

#include "attest/cel/bulwark_content.h"

namespace bulwark::attest {

namespace {

std::string at(const CelRecord& r) {
  return "record " + std::to_string(r.index) + " at offset " + std::to_string(r.offset) + ": ";
}

void add(std::vector<CelFinding>& out, const CelRecord& r, const std::string& reason) {
  out.push_back({r.index, r.offset, at(r) + reason});
}

// Digests of an extending batch record equal H_bank(canonical content).
void checkBatchDigests(const CelRecord& r, std::vector<CelFinding>& out) {
  if (!r.pcr) return add(out, r, "bulwark batch record targets an NV index, not a PCR");
  if (r.isNoAction())
    return add(out, r, "bulwark batch record has no digests (it was not extended)");
  if (!r.unknown_algs.empty())
    add(out, r, "bulwark batch record uses unsupported hashAlg \"" + r.unknown_algs[0] + "\"");
  auto canonical = canonicalContent(r.content);
  if (!canonical) return add(out, r, "bulwark content: " + canonical.error().message());
  for (const auto& d : r.digests) {
    if (!constantTimeEqual(d.value, digest(d.alg, asBytes(*canonical)))) {
      add(out, r, std::string(hashAlgName(d.alg)) + " digest does not match the content");
    }
  }
}

// Findings about one record on its own (schema, markers, digests); the binding of
// parts to their batch is checkParts.
void checkRecord(const CelRecord& r, const Result<BulwarkEvent>& event,
                 std::vector<CelFinding>& out) {
  if (!event) return add(out, r, "bulwark content: " + event.error().message());
  switch (*event) {
    case BulwarkEvent::kBatch:
      return checkBatchDigests(r, out);
    case BulwarkEvent::kBatchPart:
      // A part is attested only through the batch that lists it: if it extended
      // anything itself, replay and batch would disagree about what the TPM saw.
      if (!r.pcr) return add(out, r, "bulwark batch-part record targets an NV index, not a PCR");
      if (!r.isNoAction())
        add(out, r, "bulwark batch-part record carries digests (it must not extend)");
      if (auto c = canonicalContent(r.content); !c)
        add(out, r, "bulwark content: " + c.error().message());
      return;
    case BulwarkEvent::kLogStart:
    case BulwarkEvent::kRecovery:
      if (!r.isNoAction())
        add(out, r, "bulwark marker record carries digests (it must not extend a PCR)");
      if (*event == BulwarkEvent::kLogStart && r.index != 0)
        add(out, r, "log-start record is not first");
      return;
  }
}

// Why the batch-part records immediately before `batch` (`run`, in log order) are
// not exactly the parts it lists: count, then per position content hash, no-action
// and PCR. Empty: they are, and the batch's extend attests their entries.
std::vector<CelFinding> checkParts(std::span<const CelRecord* const> run, const CelRecord& batch) {
  std::vector<CelFinding> out;
  const nlohmann::json* listed =
      batch.content.contains("parts") ? &batch.content.at("parts") : nullptr;
  std::size_t want = listed ? listed->size() : 0;
  if (run.size() != want) {
    add(out, batch,
        "bulwark batch lists " + std::to_string(want) + " parts but " + std::to_string(run.size()) +
            " batch-part records immediately precede it");
    return out;
  }
  for (std::size_t j = 0; j < run.size(); ++j) {
    const CelRecord& part = *run[j];
    auto hash = batchPartHash(part.content);
    std::string where =
        "parts[" + std::to_string(j) + "] (record " + std::to_string(part.index) + ")";
    if (!hash || toHex(*hash) != (*listed)[j].get<std::string>()) {
      add(out, batch, "bulwark batch " + where + ": content does not match the listed SHA-256");
    }
    if (!part.isNoAction())
      add(out, batch, "bulwark batch " + where + " is not a no-action record");
    if (part.pcr != batch.pcr) add(out, batch, "bulwark batch " + where + " is for another PCR");
  }
  return out;
}

// Walks the log's Bulwark records in order, tracking the run of batch-part records
// that immediately precede the current record. `on_record` sees every Bulwark record
// with its validated event; `on_batch` every batch record with the run before it.
// Any record that is not a batch-part ends a run; a run that ends otherwise than at
// a batch is orphaned (a crash between parts and batch) and attests nothing.
template <typename OnRecord, typename OnBatch>
void walk(const CelLog& log, OnRecord on_record, OnBatch on_batch) {
  std::vector<const CelRecord*> run;
  for (const CelRecord& r : log.records) {
    if (r.content_type != kBulwarkContentType) {
      run.clear();
      continue;
    }
    Result<BulwarkEvent> event = validateBulwarkContent(r.content);
    on_record(r, event);
    if (event && *event == BulwarkEvent::kBatchPart) {
      run.push_back(&r);
      continue;
    }
    if (event && *event == BulwarkEvent::kBatch)
      on_batch(r, std::span<const CelRecord* const>(run));
    run.clear();
  }
}

void appendEntries(const CelRecord& r, std::vector<BatchEntry>& out) {
  for (const auto& e : r.content.at("batch")) {
    auto sha = fromHex(e.at("sha256").get<std::string>());
    if (!sha) continue;
    out.push_back(
        {e.at("kind").get<std::string>(), e.at("subject").get<std::string>(), std::move(*sha)});
  }
}

}  // namespace

std::vector<CelFinding> checkBulwarkRecords(const CelLog& log) {
  std::vector<CelFinding> out;
  walk(
      log, [&](const CelRecord& r, const Result<BulwarkEvent>& ev) { checkRecord(r, ev, out); },
      [&](const CelRecord& batch, std::span<const CelRecord* const> run) {
        for (auto& f : checkParts(run, batch)) out.push_back(std::move(f));
      });
  return out;
}

std::vector<AttestedBatch> attestedBatches(const CelLog& log) {
  std::vector<AttestedBatch> out;
  walk(
      log, [](const CelRecord&, const Result<BulwarkEvent>&) {},
      [&](const CelRecord& batch, std::span<const CelRecord* const> run) {
        // Only what the TPM saw: an extending record on a PCR. Its parts count only
        // when they are exactly the ones its (extended) content lists.
        if (!batch.pcr || batch.isNoAction()) return;
        AttestedBatch b{batch.index, *batch.pcr, {}};
        if (!run.empty() && checkParts(run, batch).empty()) {
          for (const CelRecord* part : run) appendEntries(*part, b.entries);
        }
        appendEntries(batch, b.entries);
        out.push_back(std::move(b));
      });
  return out;
}

std::vector<BatchEntry> loggedBatchEntries(const CelLog& log) {
  std::vector<BatchEntry> out;
  for (auto& b : attestedBatches(log)) {
    for (auto& e : b.entries) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace bulwark::attest
