// Attacks on incremental logs (server/appraisal/log_copies.h, appraiser_logs.cc;
// docs/api.md "Incremental logs") by an agent that holds a valid client certificate and
// its own AK: evidence from a SoftAgent whose Report is then rewritten and re-quoted
// with the attacker's AK (enrolled for the node), so every forgery below carries a
// valid quote. Each test shows the attack refused; those marked FIXED HOLE were open
// when the security review wrote them (each failed before its fix).
#include <gtest/gtest.h>

#include <functional>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_record.h"
#include "bulwark/v1/evidence.pb.h"
#include "server/appraisal/log_copies.h"
#include "server/verifier/soft_agent.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

using bulwark::v1::EventLog;
using bulwark::v1::Report;
using Mutate = std::function<void(Report&)>;

constexpr std::uint32_t kPcr = 15;

// The attacker's "TPM": a SoftAgent's AK (enrolled for the node) re-quotes any Report it
// likes over any PCR 15 value (SoftAgent::reseal).
class Forger {
 public:
  Forger() {
    auto a = SoftAgent::create("forger", SoftAkType::kEccP256);
    EXPECT_TRUE(a.has_value());
    if (a) agent_.emplace(std::move(*a));
  }
  const Bytes& akPublic() const { return agent_->akPublic(); }
  std::string reseal(const std::string& evidence, const Mutate& mutate,
                     const std::optional<Bytes>& pcr15 = std::nullopt) const {
    auto out = agent_->reseal(evidence, mutate, pcr15);
    EXPECT_TRUE(out.has_value()) << out.error().toString();
    return out.value_or(std::string());
  }

 private:
  std::optional<SoftAgent> agent_;
};

attest::BatchEntry entry(const std::string& kind, const std::string& subject,
                         const std::string& content) {
  return {kind, subject, sha256(asBytes(content))};
}

// A CEL record that is not Bulwark's, extending PCR 15 by `digest`.
std::string foreignRecord(const Bytes& digest) {
  attest::CelDigest d{HashAlg::kSha256, digest};
  return attest::formatCelRecord(kPcr, std::span(&d, 1), "systemd", R"({"string":"x"})");
}

// A Bulwark log of its own: log-start, then one batch record; `pcr` is extended by it.
std::string bulwarkLog(std::span<const attest::BatchEntry> batch, Bytes& pcr) {
  auto start = attest::canonicalContent(attest::makeLogStartContent(std::string(32, 'b')));
  std::string log = attest::formatCelRecord(kPcr, {}, attest::kBulwarkContentType, *start);
  if (batch.empty()) return log;
  nlohmann::json content = attest::makeBatchContent(batch);
  constexpr HashAlg kBanks[] = {HashAlg::kSha256};
  auto digests = attest::bulwarkDigests(content, kBanks);
  EXPECT_TRUE(digests.has_value());
  pcr = pcrExtend(HashAlg::kSha256, pcr, (*digests)[0].value);
  return log + attest::formatCelRecord(kPcr, *digests, attest::kBulwarkContentType,
                                       *attest::canonicalContent(content));
}

EventLog* addCel(Report& r, const std::string& source, const std::string& content) {
  EventLog* l = r.add_logs();
  l->set_format(EventLog::CEL_JSON);
  l->set_source(source);
  l->set_content(content);
  return l;
}

// Puts the last log first (Report order is the chaining order).
void moveLastFirst(Report& r) {
  for (int i = r.logs_size() - 1; i > 0; --i) r.mutable_logs()->SwapElements(i, i - 1);
}

bool mentions(const AttestOutcome& o, const std::string& code) {
  return o.record.reasons_json.find(code) != std::string::npos;
}

class LogCopiesAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = SoftAgent::create(Fixtures::get().node, SoftAkType::kEccP256);
    ASSERT_TRUE(a.has_value()) << a.error().toString();
    agent_.emplace(std::move(*a));
    env_.emplace(pipelineOptions(), &forger_.akPublic());
    for (int i = 0; i < 6; ++i) {
      auto e = entry("host-file", "/usr/bin/f" + std::to_string(i), "v1-" + std::to_string(i));
      ASSERT_TRUE(agent_->measure(std::span(&e, 1)).has_value());
      approve(e);
    }
  }

  void approve(const attest::BatchEntry& e) {
    ReferenceValue v{0,       e.kind,   e.subject, e.sha256, "manual", ReferenceState::kApproved,
                     env_->now, "test", env_->now};
    ASSERT_TRUE(env_->store->addReferenceValues(std::span(&v, 1), env_->now).has_value());
  }

  Bytes freshNonce() {
    Bytes nonce(32, static_cast<std::uint8_t>(++k_));
    nonce[1] = 0xa7;
    env_->issue(nonce, agent_->node());
    return nonce;
  }

  // The SoftAgent's evidence for `nonce`, rewritten and re-quoted by the forger.
  std::string forge(const Bytes& nonce, const Mutate& mutate = {},
                    const std::optional<Bytes>& pcr15 = std::nullopt) {
    env_->now += 1000;
    auto ev = agent_->evidence(nonce, env_->now);
    EXPECT_TRUE(ev.has_value());
    return forger_.reseal(ev.value_or(std::string()), mutate, pcr15);
  }

  ApiResult<AttestOutcome> post(const std::string& evidence, Appraiser* appraiser = nullptr) {
    return (appraiser ? appraiser : env_->appraiser.get())->attest(env_->who(), asBytes(evidence));
  }

  // One attestation with a fresh nonce; the agent takes the answer's cursor.
  ApiResult<AttestOutcome> attest(const Mutate& mutate = {},
                                  const std::optional<Bytes>& pcr15 = std::nullopt,
                                  Appraiser* appraiser = nullptr, bool take_cursor = true) {
    auto out = post(forge(freshNonce(), mutate, pcr15), appraiser);
    if (out && take_cursor) cursor(*out);
    return out;
  }

  void cursor(const AttestOutcome& o) {
    if (o.cursor && o.cursor->source == "/run/bulwark/measure.log")
      return agent_->useCursor(o.cursor->offset, o.cursor->entries);
    agent_->useCursor(0, 0);
  }

  // Copy row of the agent's own log in the Store.
  std::optional<LogCopy> storedCopy(const std::string& source = "/run/bulwark/measure.log") {
    auto row = env_->store->logCopy(agent_->node(), true);
    EXPECT_TRUE(row.has_value());
    if (row && *row && (*row)->source == source) return **row;
    return std::nullopt;
  }

  bool nonceUsable(const Bytes& nonce) {
    auto v = env_->store->checkNonce(agent_->node(), nonce, env_->now);
    return v && *v;
  }

  // Copy and memo in place: the next unchanged incremental evidence takes the fast path.
  void arm() {
    auto first = attest();
    ASSERT_TRUE(first.has_value()) << first.error().detail;
    ASSERT_EQ(first->record.status, AppraisalStatus::kAffirming) << first->record.reasons_json;
    auto second = attest();
    ASSERT_TRUE(second.has_value()) << second.error().detail;
    ASSERT_EQ(second->record.status, AppraisalStatus::kAffirming);
    ASSERT_EQ(env_->appraiser->resumedAppraisals(), 1u);
  }

  // The verdict a replica without any cache or copy reaches on the whole log (the
  // reference every fast-path verdict must equal), `mutate` applied to that evidence.
  ApiResult<AttestOutcome> wholeVerdict(const Mutate& mutate,
                                        const std::optional<Bytes>& pcr15 = std::nullopt) {
    Env fresh(pipelineOptions(), &forger_.akPublic());
    for (const auto& e : agent_->measured()) {
      ReferenceValue v{0,         e.kind, e.subject, e.sha256, "manual", ReferenceState::kApproved,
                       fresh.now, "test", fresh.now};
      EXPECT_TRUE(fresh.store->addReferenceValues(std::span(&v, 1), fresh.now).has_value());
    }
    SoftAgent whole = *agent_;
    whole.useCursor(0, 0);
    Bytes nonce(32, 0x5c);
    fresh.issue(nonce, whole.node());
    auto ev = whole.evidence(nonce, fresh.now);
    EXPECT_TRUE(ev.has_value());
    return fresh.appraiser->attest(fresh.who(), asBytes(forger_.reseal(*ev, mutate, pcr15)));
  }

  Forger forger_;
  std::optional<SoftAgent> agent_;
  std::optional<Env> env_;
  int k_ = 0;
};

// --- positions and formats -----------------------------------------------------------

TEST_F(LogCopiesAttack, ASourceWithoutACopyIs409AndTheNonceStaysUsable) {
  arm();
  Bytes nonce = freshNonce();
  auto out = post(forge(nonce, [](Report& r) { r.mutable_logs(0)->set_source("/run/other.log"); }));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 409);
  EXPECT_EQ(out.error().code, "log-prefix-unknown");
  EXPECT_TRUE(nonceUsable(nonce));
  agent_->useCursor(0, 0);
  auto whole = post(forge(nonce));
  ASSERT_TRUE(whole.has_value()) << whole.error().detail;
  EXPECT_EQ(whole->record.status, AppraisalStatus::kAffirming);
}

TEST_F(LogCopiesAttack, WrongPositionsAreRefusedWithoutUsingTheNonce) {
  arm();
  auto copy = storedCopy();
  ASSERT_TRUE(copy.has_value());
  auto off = static_cast<std::uint64_t>(copy->bytes);
  auto n = static_cast<std::uint64_t>(copy->entries);
  auto unknown = entry("host-file", "/usr/bin/evil", "evil");
  // Lies about the prefix, with nothing appended (fast path) and with a record appended
  // (expansion); an offset inside the last record; entries_before 0 or beyond the bytes.
  struct Case {
    const char* name;
    std::uint64_t offset, entries;
    bool append;
  } cases[] = {
      {"entries+1", off, n + 1, false}, {"entries-1", off, n - 1, false},
      {"entries+1 appended", off, n + 1, true}, {"entries-1 appended", off, n - 1, true},
      {"inside last record", off - 7, n, false}, {"offset+1", off + 1, n, false},
      {"entries 0", off, 0, false}, {"entries > offset", 3, 4, false},
  };
  bool appended = false;
  for (const Case& c : cases) {
    if (c.append && !appended) {
      ASSERT_TRUE(agent_->measure(std::span(&unknown, 1)).has_value());
      appended = true;
    }
    Bytes nonce = freshNonce();
    std::string log = agent_->log();
    auto out = post(forge(nonce, [&](Report& r) {
      EventLog* l = r.mutable_logs(0);
      l->set_offset(c.offset);
      l->set_entries_before(c.entries);
      l->set_content(c.offset <= log.size() ? log.substr(c.offset) : std::string());
    }));
    ASSERT_FALSE(out.has_value()) << c.name << ": " << out->record.reasons_json;
    EXPECT_TRUE(out.error().status == 409 || out.error().status == 400)
        << c.name << ": " << out.error().status << " " << out.error().code;
    EXPECT_TRUE(nonceUsable(nonce)) << c.name;
  }
  auto after = storedCopy();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->bytes, copy->bytes);  // no refused evidence moved the copy
}

TEST_F(LogCopiesAttack, OnlyCelLogsMayHaveAnOffset) {
  arm();
  for (auto format : {EventLog::TCG_PC_CLIENT, EventLog::IMA_ASCII}) {
    Bytes nonce = freshNonce();
    auto out = post(forge(nonce, [&](Report& r) { r.mutable_logs(0)->set_format(format); }));
    ASSERT_FALSE(out.has_value()) << format;
    EXPECT_EQ(out.error().status, 400);
    EXPECT_TRUE(nonceUsable(nonce));
  }
}

TEST_F(LogCopiesAttack, TwoLogsWithOneSourceAre400) {
  arm();
  std::string log = agent_->log();
  // The copy's log a second time, whole, next to the incremental one (either order).
  for (bool first : {false, true}) {
    Bytes nonce = freshNonce();
    auto out = post(forge(nonce, [&](Report& r) {
      addCel(r, "/run/bulwark/measure.log", log);
      if (first) moveLastFirst(r);
    }));
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 400) << out.error().code;
    EXPECT_TRUE(nonceUsable(nonce));
  }
}

TEST_F(LogCopiesAttack, ATornTailIsNotARecordOnEitherPath) {
  arm();
  auto unknown = entry("host-file", "/usr/bin/evil", "evil");
  SoftAgent ahead = *agent_;
  ASSERT_TRUE(ahead.measure(std::span(&unknown, 1)).has_value());
  std::string record = ahead.log().substr(agent_->log().size());
  std::string torn = record.substr(0, record.size() - 1);  // all but its '\n'
  Mutate tail = [&](Report& r) { r.mutable_logs(0)->set_content(r.logs(0).content() + torn); };
  auto fast = attest(tail);
  ASSERT_TRUE(fast.has_value()) << fast.error().detail;
  auto whole = wholeVerdict(tail);
  ASSERT_TRUE(whole.has_value()) << whole.error().detail;
  EXPECT_EQ(fast->record.status, whole->record.status);
  EXPECT_EQ(fast->record.reasons_json, whole->record.reasons_json);
  ASSERT_TRUE(fast->cursor.has_value());
  EXPECT_EQ(fast->cursor->offset, agent_->log().size());  // the copy ends before the tail
  // The record completed (its extend in the quote): judged, whatever was cached.
  *agent_ = ahead;
  agent_->useCursor(fast->cursor->offset, fast->cursor->entries);
  auto grown = attest();
  ASSERT_TRUE(grown.has_value()) << grown.error().detail;
  EXPECT_NE(grown->record.status, AppraisalStatus::kAffirming);
  EXPECT_TRUE(mentions(*grown, "measurement-unknown")) << grown->record.reasons_json;
}

TEST_F(LogCopiesAttack, ShippedBytesThatDoNotContinueTheCopyAreRefused) {
  arm();
  // A record boundary missing, and a second log-start (another boot's log glued on).
  Bytes pcr(32, 0);
  std::string other = bulwarkLog({}, pcr);
  for (const std::string& content : {std::string("xx") + other, other.substr(1)}) {
    Bytes nonce = freshNonce();
    auto out = post(forge(nonce, [&](Report& r) { r.mutable_logs(0)->set_content(content); }));
    if (out) {
      EXPECT_NE(out->record.status, AppraisalStatus::kAffirming);
    } else {
      EXPECT_TRUE(nonceUsable(nonce));
    }
  }
}

// --- the fast path must give the whole-log verdict ------------------------------------

TEST_F(LogCopiesAttack, AReportedMeasurementChangeIsJudged) {
  arm();
  auto out = attest([](Report& r) {
    auto* m = r.add_measurements();
    m->set_kind("host-file");
    m->set_subject("/usr/bin/f0");
    m->set_sha256(std::string(32, '\x01'));
  });
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_EQ(env_->appraiser->resumedAppraisals(), 1u);
  EXPECT_TRUE(mentions(*out, "measurement-not-in-log")) << out->record.reasons_json;
  EXPECT_NE(out->record.status, AppraisalStatus::kAffirming);
  // And the memo of that verdict never outlives the measurement: without it, affirming.
  auto back = attest();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->record.status, AppraisalStatus::kAffirming) << back->record.reasons_json;
}

TEST_F(LogCopiesAttack, MeasurementPcrIsCheckedOnTheFastPath) {
  arm();
  auto lying = attest([](Report& r) { r.set_measurement_pcr(16); });
  ASSERT_TRUE(lying.has_value());
  EXPECT_TRUE(mentions(*lying, "measurement-pcr-mismatch")) << lying->record.reasons_json;
  EXPECT_FALSE(lying->cursor.has_value());
  // A replica measuring another PCR, reading the same Store.
  AppraiserOptions opts = pipelineOptions();
  opts.measurement_pcr = 16;
  Appraiser other(*env_->store, env_->ear_key, opts, [this] { return env_->now; }, env_->rng);
  auto out = attest({}, std::nullopt, &other);
  if (out) {
    EXPECT_NE(out->record.status, AppraisalStatus::kAffirming);
    EXPECT_TRUE(mentions(*out, "measurement-pcr-mismatch")) << out->record.reasons_json;
  } else {
    EXPECT_EQ(out.error().code, "log-prefix-unknown");
  }
}

TEST_F(LogCopiesAttack, ACopyFromAPreviousBootDoesNotReplayToANewBootsQuote) {
  arm();
  auto copy = storedCopy();
  ASSERT_TRUE(copy.has_value());
  agent_->reboot();  // PCR 15 reset, resetCount + 1; the agent keeps the old cursor
  Bytes nonce = freshNonce();
  auto out = post(forge(nonce, [&](Report& r) {
    r.mutable_logs(0)->set_offset(static_cast<std::uint64_t>(copy->bytes));
    r.mutable_logs(0)->set_entries_before(static_cast<std::uint64_t>(copy->entries));
    r.mutable_logs(0)->set_content("");
  }));
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_NE(out->record.status, AppraisalStatus::kAffirming);
  EXPECT_TRUE(mentions(*out, "log-does-not-replay")) << out->record.reasons_json;
  EXPECT_FALSE(out->cursor.has_value());
}

TEST_F(LogCopiesAttack, ACelLogWithBulwarkRecordsBesideTheCopyIsJudged) {
  arm();
  // A second CEL log that is not Bulwark's own (no log-start first) carrying an unknown
  // file, its extend in the quote after the copy's chain.
  auto unknown = entry("host-file", "/usr/bin/evil", "evil");
  auto copy = storedCopy();
  ASSERT_TRUE(copy.has_value());
  auto state = copyStateOf(*copy);
  ASSERT_TRUE(state.has_value());
  Bytes pcr = state->chain.at(kPcr);
  std::string log = bulwarkLog(std::span(&unknown, 1), pcr);
  std::string batch_only = log.substr(log.find('\x1e', 1));
  auto out = attest([&](Report& r) { addCel(r, "/run/side.log", batch_only); }, pcr);
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_NE(out->record.status, AppraisalStatus::kAffirming) << out->record.reasons_json;
  EXPECT_TRUE(mentions(*out, "measurement-unknown")) << out->record.reasons_json;
}

// FIXED HOLE (chain): a resumed log starts from the copy's stored PCR values and throws away
// what logs earlier in the same Report extended on those PCRs (replayCelLog overwrites
// opt.initial with copy->chain). A CEL log placed before the incremental one may claim
// PCR 15 events the TPM never saw: the fast path is AFFIRMING, the whole-log appraisal
// of the same evidence log-does-not-replay.
TEST_F(LogCopiesAttack, AnEarlierLogOnTheSamePcrIsChainedBeforeTheCopy) {
  arm();
  Mutate before = [](Report& r) {
    addCel(r, "/run/other.log", foreignRecord(Bytes(32, 0xee)));
    moveLastFirst(r);
  };
  auto whole = wholeVerdict(before);
  ASSERT_TRUE(whole.has_value()) << whole.error().detail;
  ASSERT_TRUE(mentions(*whole, "log-does-not-replay")) << whole->record.reasons_json;
  auto fast = attest(before);
  ASSERT_TRUE(fast.has_value()) << fast.error().detail;
  EXPECT_EQ(fast->record.status, whole->record.status) << fast->record.reasons_json;
}

// FIXED HOLE (chain), second form: two Bulwark logs with copies, chained A then B when they
// were verified; shipped B-then-A with nothing new, the quote only has to show A's
// chain (B's copy chain is overwritten by A's), so B's records never have to be in the
// TPM. The whole-log appraisal of B-then-A does not replay. (Fixed: see below.)
TEST_F(LogCopiesAttack, ReorderedLogsWithCopiesAreChainedInReportOrder) {
  auto extra = entry("host-file", "/usr/bin/side", "side");
  approve(extra);
  Bytes only_a;
  auto first = attest();
  ASSERT_TRUE(first.has_value());
  auto copy = storedCopy();
  ASSERT_TRUE(copy.has_value());
  only_a = copyStateOf(*copy)->chain.at(kPcr);
  Bytes a_then_b = only_a;
  std::string b = bulwarkLog(std::span(&extra, 1), a_then_b);
  auto both = attest([&](Report& r) { addCel(r, "/run/b.log", b); }, a_then_b);
  ASSERT_TRUE(both.has_value()) << both.error().detail;
  ASSERT_EQ(both->record.status, AppraisalStatus::kAffirming) << both->record.reasons_json;
  // Fixed: one copy per node, and only of a log that started from reset PCRs — B (after
  // A on PCR 15) gets none, so it can never be resumed out of order.
  ASSERT_TRUE(both->cursor.has_value());
  EXPECT_EQ(both->cursor->source, "/run/bulwark/measure.log");
  Mutate swapped = [&](Report& r) {
    EventLog* l = addCel(r, "/run/b.log", "");
    l->set_offset(b.size());
    l->set_entries_before(2);
    moveLastFirst(r);
  };
  auto fast = attest(swapped, only_a);
  ASSERT_FALSE(fast.has_value()) << "B has no copy to resume from";
  EXPECT_EQ(fast.error().code, "log-prefix-unknown");
}

TEST_F(LogCopiesAttack, ALaterLogOnTheSamePcrIsChainedAfterTheCopy) {
  arm();
  // The same foreign record after the incremental log: the quote must show it.
  Mutate after = [](Report& r) { addCel(r, "/run/other.log", foreignRecord(Bytes(32, 0xee))); };
  auto unextended = attest(after);
  ASSERT_TRUE(unextended.has_value());
  EXPECT_TRUE(mentions(*unextended, "log-does-not-replay")) << unextended->record.reasons_json;
}

// FIXED HOLE (hides measurements, whole logs too): a Bulwark batch record relabelled as another
// content type keeps its digest, so the log still replays, but checkBulwarkRecords and
// loggedBatchEntries ignore non-"bulwark" records: the unknown file it measured into the
// measurement PCR vanishes and the verdict is AFFIRMING. Anyone who can rewrite the log
// file (root, after the measurement) hides any measurement this way.
TEST_F(LogCopiesAttack, ARelabelledBatchRecordStillCountsOnThePcr) {
  arm();
  auto unknown = entry("host-file", "/usr/bin/evil", "evil");
  ASSERT_TRUE(agent_->measure(std::span(&unknown, 1)).has_value());
  Mutate relabel = [](Report& r) {
    std::string c = r.logs(0).content();
    auto last = c.rfind('\x1e');
    const std::string from = "\"content_type\":\"bulwark\"";
    auto at = c.find(from, last);
    ASSERT_NE(at, std::string::npos);
    c.replace(at, from.size(), "\"content_type\":\"systemd\"");
    r.mutable_logs(0)->set_content(c);
  };
  auto incremental = attest(relabel, std::nullopt, nullptr, false);
  ASSERT_TRUE(incremental.has_value()) << incremental.error().detail;
  EXPECT_NE(incremental->record.status, AppraisalStatus::kAffirming)
      << incremental->record.reasons_json;
  auto whole = wholeVerdict(relabel);
  ASSERT_TRUE(whole.has_value()) << whole.error().detail;
  EXPECT_NE(whole->record.status, AppraisalStatus::kAffirming) << whole->record.reasons_json;
}

// --- failed checks never move state ---------------------------------------------------

TEST_F(LogCopiesAttack, AFailedReplayMovesNoCopyAndLeavesNoMemo) {
  arm();
  auto copy = storedCopy();
  ASSERT_TRUE(copy.has_value());
  // An unknown file appended to the log but not extended into the quoted PCR.
  auto unknown = entry("host-file", "/usr/bin/evil", "evil");
  SoftAgent honest = *agent_;
  ASSERT_TRUE(agent_->measure(std::span(&unknown, 1)).has_value());
  auto bad = attest({}, copyStateOf(*copy)->chain.at(kPcr), nullptr, false);
  ASSERT_TRUE(bad.has_value()) << bad.error().detail;
  EXPECT_TRUE(mentions(*bad, "log-does-not-replay")) << bad->record.reasons_json;
  EXPECT_FALSE(bad->cursor.has_value());
  auto still = storedCopy();
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->bytes, copy->bytes);
  EXPECT_EQ(still->sha256, copy->sha256);
  // A policy change, then the copy's own state again: judged under the new policy (no
  // memo survived the failed appraisal).
  ReferenceFilter f;
  f.subject = "/usr/bin/f2";
  ASSERT_TRUE(env_->store->revokeReferenceValues(f).has_value());
  *agent_ = honest;
  auto again = attest();
  ASSERT_TRUE(again.has_value()) << again.error().detail;
  EXPECT_TRUE(mentions(*again, "measurement-revoked")) << again->record.reasons_json;
}

TEST_F(LogCopiesAttack, AFailedQuoteMovesNoCopy) {
  arm();
  auto copy = storedCopy();
  auto unknown = entry("host-file", "/usr/bin/evil", "evil");
  ASSERT_TRUE(agent_->measure(std::span(&unknown, 1)).has_value());
  Bytes nonce = freshNonce();
  std::string ev = forge(nonce);
  bulwark::v1::Evidence parsed;
  ASSERT_TRUE(parsed.ParseFromString(ev));
  std::string sig = parsed.quote().signature();
  sig[sig.size() - 1] = static_cast<char>(sig.back() ^ 1);
  parsed.mutable_quote()->set_signature(sig);
  auto out = post(parsed.SerializeAsString());
  ASSERT_TRUE(out.has_value()) << out.error().detail;
  EXPECT_NE(out->record.status, AppraisalStatus::kAffirming);
  EXPECT_FALSE(out->cursor.has_value());
  EXPECT_EQ(storedCopy()->bytes, copy->bytes);
}

TEST_F(LogCopiesAttack, NonceReplayAndForeignNoncesAreRefusedOnTheFastPath) {
  arm();
  Bytes nonce = freshNonce();
  std::string ev = forge(nonce);
  auto once = post(ev);
  ASSERT_TRUE(once.has_value());
  EXPECT_EQ(once->record.status, AppraisalStatus::kAffirming);
  auto twice = post(ev);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, "nonce-replayed");
  auto never = post(forge(Bytes(32, 0x99)));
  ASSERT_FALSE(never.has_value());
  EXPECT_EQ(never.error().code, "nonce-unknown");
  auto history = env_->store->appraisalHistory(agent_->node(), HistoryQuery{});
  ASSERT_TRUE(history.has_value());
  EXPECT_EQ(history->size(), 3u);  // arm() twice and `once`
}

TEST_F(LogCopiesAttack, RevokedNodesAreRefusedOnTheFastPath) {
  arm();
  ASSERT_TRUE(env_->store->revokeNode(agent_->node(), env_->now).has_value());
  auto out = attest();
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, "node-revoked");
}

// FIXED HOLE (stale cache): a replica's cached copies and memo are checked against the AK name
// only. A node that enrolls again with the same AK (agent reinstall, re-enrollment after
// deletion) had its copies dropped from the Store, yet the replica still resumes from the
// cached copy: 200 with cursors the Store does not hold, and the stored (incremental)
// evidence can then not be re-approved (409 no-evidence) or learned.
TEST_F(LogCopiesAttack, ReEnrollmentWithTheSameAkDropsTheCachedCopy) {
  arm();
  env_->enroll(agent_->node(), forger_.akPublic());
  ASSERT_FALSE(env_->store->logCopy(agent_->node(), false)->has_value());
  auto out = attest({}, std::nullopt, nullptr, false);
  ASSERT_FALSE(out.has_value()) << "resumed from a copy the Store dropped: "
                                << out->record.reasons_json;
  EXPECT_EQ(out.error().code, "log-prefix-unknown");
}

// FIXED HOLE (fail-closed, misreported): a Bulwark log holding only its log-start record
// (a node that has measured nothing yet this boot) extends no PCR, so its copy has an
// empty chain; the Store refuses such a copy (validateLogCopy "no PCR chain") and
// Appraiser::record() reports that kInvalidArgument as 403 node-revoked.
TEST_F(LogCopiesAttack, ALogStartOnlyLogIsAppraised) {
  auto fresh = SoftAgent::create(agent_->node(), SoftAkType::kEccP256);
  ASSERT_TRUE(fresh.has_value());
  agent_.emplace(std::move(*fresh));
  auto out = attest();
  ASSERT_TRUE(out.has_value()) << out.error().status << " " << out.error().code << ": "
                               << out.error().detail;
  EXPECT_EQ(out->record.status, AppraisalStatus::kAffirming) << out->record.reasons_json;
}

// --- resources ------------------------------------------------------------------------

// FIXED HOLE (storage): copies are upserted per (node, source) and only dropped on
// re-enrollment. An agent naming a new source for a log-start-only CEL log in every
// report (up to 8 logs of up to 16 MiB each per request) grows its log_copies rows
// without bound; nothing removes copies of logs the latest evidence no longer carries.
TEST_F(LogCopiesAttack, CopiesOfLogsNoLongerShippedAreDropped) {
  arm();
  auto extra = entry("host-file", "/usr/bin/f0", "v1-0");  // approved
  auto copy = storedCopy();
  ASSERT_TRUE(copy.has_value());
  Bytes own = copyStateOf(*copy)->chain.at(kPcr);
  for (int i = 0; i < 5; ++i) {
    Bytes pcr = own;
    std::vector<std::string> junk;
    for (int j = 0; j < 3; ++j) junk.push_back(bulwarkLog(std::span(&extra, 1), pcr));
    auto out = attest([&](Report& r) {
      for (int j = 0; j < 3; ++j)
        addCel(r, "/run/junk-" + std::to_string(i) + "-" + std::to_string(j), junk[j]);
    }, pcr);
    ASSERT_TRUE(out.has_value()) << out.error().detail;
    ASSERT_EQ(out->record.status, AppraisalStatus::kAffirming) << out->record.reasons_json;
  }
  auto last = attest();
  ASSERT_TRUE(last.has_value());
  // The Store holds one copy per node (the table's key), and it is the agent's log.
  auto row = env_->store->logCopy(agent_->node(), false);
  ASSERT_TRUE(row.has_value());
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->source, "/run/bulwark/measure.log") << "a junk log's copy is kept";
}

// FIXED HOLE (cost before the nonce): prepareLogs() expands incremental evidence (reads the
// copy's bytes, up to 64 MiB, from the Store and reparses them with the shipped ones)
// before checkNonce(); a tiny request with any made-up nonce makes the verifier do it,
// repeatedly, while a whole log of that size could not even be posted (16 MiB).
TEST_F(LogCopiesAttack, AnUnknownNonceIsRefusedBeforeTheCopyIsExpanded) {
  arm();
  auto unknown = entry("host-file", "/usr/bin/evil", "evil");
  ASSERT_TRUE(agent_->measure(std::span(&unknown, 1)).has_value());
  auto out = post(forge(Bytes(32, 0x42)));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, "nonce-unknown");
  EXPECT_EQ(env_->appraiser->expandedAppraisals(), 0u);
}

}  // namespace
}  // namespace bulwark::server::test
