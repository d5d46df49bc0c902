// In-process appraisal throughput on one core (issue 5 "Numbers"): evidence of a node
// whose CEL log holds 500 Bulwark records (500 measurements, all approved), quoted by an
// RSA-2048 AK (SoftAgent, server/verifier/soft_agent.h: byte-for-byte what a TPM
// returns). Next to it, in the same run, `openssl speed -seconds 3 rsa2048` verify/s:
// the counter `x_openssl_verify` is appraisals/s divided by that (target >= 0.5).
//
//   BM_Pipeline/N         decode + quote verify + 500-record replay + policy + verdict
//                         (parseEvidence + runPipeline; the AK parsed once, as cached)
//   BM_AppraiserSqlite    the whole POST /v1/attest minus HTTP: node, nonce consumed in
//                         SQLite, pipeline, ES256-signed EAR, appraisal + evidence stored,
//                         next nonce issued
//   BM_PipelineResumed/N  steady state of the same node with incremental logs
//                         (server/appraisal/log_copies.h): the agent ships its log from the
//                         verifier's cursor (nothing appended), the pipeline resumes from the
//                         copy's PCR chain and replays the policy memo of the N-record log
//                         (decode + quote verify + resume + memo key + memo + verdict)
//   BM_AppraiserSqliteResumed  the whole POST /v1/attest minus HTTP in that steady state
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "attest/credential/rng.h"
#include "attest/ear/verifier_key.h"
#include "attest/quote/ak_key.h"
#include "server/appraisal/appraiser.h"
#include "server/appraisal/log_copies.h"
#include "server/appraisal/pipeline.h"
#include "server/store/sqlite_store.h"
#include "server/verifier/soft_agent.h"

namespace {

using namespace bulwark;
using namespace bulwark::server;

constexpr int kEvents = 500;
constexpr const char* kNode = "bench-node";

// `openssl speed -seconds 3 rsa2048`: the verify/s column of the "rsa 2048 bits" line.
double opensslRsa2048Verify() {
  static const double value = [] {
    std::FILE* p = ::popen("openssl speed -seconds 3 rsa2048 2>/dev/null", "r");
    if (p == nullptr) return 0.0;
    char line[512];
    double verify = 0;
    while (std::fgets(line, sizeof line, p) != nullptr) {
      double sign_s = 0, verify_s = 0, sign_per = 0, verify_per = 0;
      if (std::sscanf(line, "rsa 2048 bits %lfs %lfs %lf %lf", &sign_s, &verify_s, &sign_per,
                      &verify_per) == 4) {
        verify = verify_per;
      }
    }
    ::pclose(p);
    std::fprintf(stderr, "openssl speed -seconds 3 rsa2048: %.1f verify/s\n", verify);
    return verify;
  }();
  return value;
}

std::vector<attest::BatchEntry> events(int n) {
  std::vector<attest::BatchEntry> out;
  for (int i = 0; i < n; ++i) {
    std::string path = "/usr/lib/bench/file-" + std::to_string(i);
    out.push_back({i % 2 ? "host-file" : "runtime-binary", path, sha256(asBytes(path))});
  }
  return out;
}

std::vector<ReferenceValue> approved(const std::vector<attest::BatchEntry>& entries, Millis now) {
  std::vector<ReferenceValue> out;
  for (const auto& e : entries) {
    ReferenceValue v;
    v.kind = e.kind;
    v.subject = e.subject;
    v.sha256 = e.sha256;
    v.source = "manual";
    v.state = ReferenceState::kApproved;
    v.created_at = now;
    v.approved_by = "bench";
    v.approved_at = now;
    out.push_back(std::move(v));
  }
  return out;
}

SoftAgent measuredAgent(int n = kEvents) {
  auto a = SoftAgent::create(kNode);
  if (!a) std::abort();
  for (const auto& e : events(n)) {
    if (!a->measure(std::span(&e, 1))) std::abort();
  }
  return std::move(*a);
}

void reportRatio(benchmark::State& state) {
  double openssl = opensslRsa2048Verify();
  state.counters["appraisals_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["openssl_rsa2048_verify_per_s"] = openssl;
  if (openssl > 0) {
    state.counters["x_openssl_verify"] = benchmark::Counter(
        static_cast<double>(state.iterations()) / openssl, benchmark::Counter::kIsRate);
  }
}

void BM_Pipeline(benchmark::State& state) {
  opensslRsa2048Verify();  // before timing, so the two runs never overlap
  SoftAgent agent = measuredAgent(static_cast<int>(state.range(0)));
  Bytes nonce(32, 7);
  auto ev = agent.evidence(nonce, 1000);
  auto ak = attest::AkKey::fromTpm2bPublic(agent.akPublic());
  auto selection = attest::PcrSelection::parse("sha256:15");
  if (!ev || !ak || !selection) return state.SkipWithError("setup");
  PolicySnapshot policy(1, approved(agent.measured(), 0), {});
  IsolationProfile profile;
  Bytes bytes(ev->begin(), ev->end());
  for (auto _ : state) {
    auto parsed = parseEvidence(bytes);
    if (!parsed) return state.SkipWithError(parsed.error().toString().c_str());
    PipelineInput in;
    in.evidence = &*parsed;
    in.ak = &*ak;
    in.expected = &*selection;
    in.policy = &policy;
    in.profile = &profile;
    PipelineResult r = runPipeline(CheckLedger{}, in);
    if (!r.counters) return state.SkipWithError("quote or clock check failed");
    benchmark::DoNotOptimize(r);
  }
  reportRatio(state);
}

// The verified state a whole-log appraisal leaves (what the Appraiser caches).
struct Resumed {
  CopyState copy;
  LogPolicyMemo memo;
};

void BM_PipelineResumed(benchmark::State& state) {
  opensslRsa2048Verify();
  SoftAgent agent = measuredAgent(static_cast<int>(state.range(0)));
  auto ak = attest::AkKey::fromTpm2bPublic(agent.akPublic());
  auto selection = attest::PcrSelection::parse("sha256:15");
  if (!ak || !selection) return state.SkipWithError("setup");
  PolicySnapshot policy(1, approved(agent.measured(), 0), {});
  IsolationProfile profile;
  auto pipeline = [&](const ParsedEvidence& ev, const Resumed* from) {
    PipelineInput in;
    in.evidence = &ev;
    in.ak = &*ak;
    in.expected = &*selection;
    in.policy = &policy;
    in.profile = &profile;
    if (from != nullptr) {
      in.resume = &from->copy;
      in.memo = &from->memo;
    }
    return runPipeline(CheckLedger{}, in);
  };
  // First attestation: whole log, evaluated; its chain and memo are the copy's state.
  auto whole = agent.evidence(Bytes(32, 1), 1000);
  auto parsed = whole ? parseEvidence(asBytes(*whole)) : Result<ParsedEvidence>(std::unexpected(Error(ErrorCode::kInternal, "evidence")));
  if (!parsed) return state.SkipWithError("whole evidence");
  PipelineResult first = pipeline(*parsed, nullptr);
  // (No node or nonce proof here, as in BM_Pipeline: the verdict cannot be affirming.)
  if (!first.logs_passed || !first.memo || !first.memo->measurements_passed)
    return state.SkipWithError("whole log did not pass");
  Resumed from;
  CopyState copy{"/run/bulwark/measure.log", agent.log().size(), agent.logRecords(),
                 sha256(asBytes(agent.log())), HashAlg::kSha256, first.log_chains.at(0)};
  from.copy = copy;
  from.memo = *first.memo;
  from.memo.key = memoKey(kNode, copy, 1, {}, {});
  agent.useCursor(copy.offset, copy.entries);
  auto ev = agent.evidence(Bytes(32, 7), 2000);
  if (!ev) return state.SkipWithError("evidence");
  Bytes bytes(ev->begin(), ev->end());
  state.counters["evidence_bytes"] = static_cast<double>(bytes.size());
  state.counters["whole_evidence_bytes"] = static_cast<double>(whole->size());
  for (auto _ : state) {
    auto in = parseEvidence(bytes);
    if (!in) return state.SkipWithError(in.error().toString().c_str());
    // What the Appraiser checks before it replays the memo.
    if (!appendsNothing(in->logs[0]) ||
        memoKey(kNode, copy, 1, {}, in->measurements) != from.memo.key)
      return state.SkipWithError("not resumable");
    PipelineResult r = pipeline(*in, &from);
    if (!r.logs_passed || !r.counters) return state.SkipWithError("resumed appraisal failed");
    benchmark::DoNotOptimize(r);
  }
  reportRatio(state);
}

void BM_AppraiserSqlite(benchmark::State& state) {
  opensslRsa2048Verify();
  const std::size_t n = static_cast<std::size_t>(state.max_iterations);
  std::string dir =
      (std::filesystem::exists("/dev/shm") ? std::string("/dev/shm")
                                           : std::filesystem::temp_directory_path().string()) +
      "/bulwark-appraisal-bench-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  {
    auto store = SqliteStore::open(dir + "/v.db");
    SoftAgent agent = measuredAgent();
    auto key = attest::generateP256Key();
    if (!store || !key) return state.SkipWithError("setup");
    Millis now = 1'700'000'000'000;
    PendingEnrollment p;
    p.id = "bench";
    p.node = kNode;
    p.ek_public = agent.akPublic();
    p.ak_public = agent.akPublic();
    p.ak_name = agent.akName();
    p.secret_hash = Bytes(32, 1);
    p.created_at = now;
    p.expires_at = now + 60000;
    if (!(*store)->createPendingEnrollment(p) ||
        !(*store)->completeEnrollment("bench", {"", true, now}))
      return state.SkipWithError("enroll");
    if (!(*store)->addReferenceValues(approved(agent.measured(), now), now))
      return state.SkipWithError("policy");
    AppraiserOptions opts;
    opts.selection = *attest::PcrSelection::parse("sha256:15");
    opts.profiles["default"] = IsolationProfile{};
    std::shared_ptr<EVP_PKEY> ear(key->release(), EVP_PKEY_free);
    // The verifier's own RNG: the next nonce each attestation issues costs what it costs there.
    Appraiser appraiser(
        **store, ear, opts, [&now] { return now; }, attest::defaultRng());
    if (state.range(0) == 1) {  // steady state: the first attestation ships the whole log
      auto grant = appraiser.issueNonce(kNode);
      auto ev = grant ? agent.evidence(grant->nonce, now)
                      : Result<std::string>(std::unexpected(Error(ErrorCode::kInternal, "nonce")));
      auto out = ev ? appraiser.attest({kNode, ""}, asBytes(*ev))
                    : ApiResult<AttestOutcome>(std::unexpected(ApiError{500, "setup", "evidence"}));
      if (!out || !out->cursor) return state.SkipWithError("first attestation");
      agent.useCursor(out->cursor->offset, out->cursor->entries);
      ++now;
    }
    // Evidence is made up front (the agent's RSA signature is not the verifier's cost).
    std::vector<std::string> evidence;
    for (std::size_t i = 0; i < n; ++i) {
      auto grant = appraiser.issueNonce(kNode);
      auto ev = grant ? agent.evidence(grant->nonce, now)
                      : Result<std::string>(std::unexpected(Error(ErrorCode::kInternal, "nonce")));
      if (!ev) return state.SkipWithError("evidence");
      evidence.push_back(std::move(*ev));
    }
    std::size_t i = 0;
    for (auto _ : state) {
      auto out = appraiser.attest({kNode, ""}, asBytes(evidence[i++]));
      if (!out) return state.SkipWithError(out.error().detail.c_str());
      if (out->record.status != AppraisalStatus::kAffirming)
        return state.SkipWithError("not affirming");
      ++now;
    }
  }
  std::filesystem::remove_all(dir);
  reportRatio(state);
  state.SetLabel(state.range(0) == 1 ? "resumed (incremental log)" : "whole log");
}

// Arg = CEL records (one measurement each); 500 is the issue's yardstick, 1 and 50 show
// how the cost splits between the quote and the log.
BENCHMARK(BM_Pipeline)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->Arg(500)->Arg(50)->Arg(1);
BENCHMARK(BM_PipelineResumed)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->Arg(500)->Arg(5000);
// Arg 0: whole 500-record log each time; 1: steady state with incremental logs.
BENCHMARK(BM_AppraiserSqlite)->Unit(benchmark::kMicrosecond)->Iterations(400)->Arg(0)->Arg(1);

}  // namespace
