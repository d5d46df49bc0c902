// Malformed evidence of any size (DESIGN §9): a clear 400 evidence-malformed naming
// the field, and no stored state change — the nonce stays usable, no appraisal, no
// node change. Checked by comparing the store before and after.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server::test {
namespace {

using nlohmann::json;

// Everything a request could have changed, as one comparable string.
std::string snapshot(Store& s, const std::string& node) {
  json j;
  auto n = s.getNode(node);
  j["node"] = n ? json{{"state", nodeStateName(n->state)},
                       {"reset", n->reset_count.value_or(-1)},
                       {"updated", n->updated_at}}
                : json("missing");
  auto h = s.appraisalHistory(node, {});
  j["history"] = h ? static_cast<std::int64_t>(h->size()) : -1;
  auto e = s.latestEvidence(node);
  j["evidence"] = e ? toHex(e->digest) : "none";
  auto v = s.policyVersion();
  j["policy"] = v ? *v : -1;
  return j.dump();
}

Bytes withEvidence(const std::function<void(bulwark::v1::Evidence&)>& edit) {
  bulwark::v1::Evidence ev;
  Bytes raw = Fixtures::get().evidence("good");
  EXPECT_TRUE(ev.ParseFromArray(raw.data(), static_cast<int>(raw.size())));
  edit(ev);
  std::string out = ev.SerializeAsString();
  return Bytes(out.begin(), out.end());
}

Bytes withReport(const std::function<void(bulwark::v1::Report&)>& edit) {
  return withEvidence([&](bulwark::v1::Evidence& ev) {
    bulwark::v1::Report r;
    EXPECT_TRUE(r.ParseFromString(ev.report()));
    edit(r);
    ev.set_report(r.SerializeAsString());
  });
}

std::vector<std::pair<std::string, Bytes>> malformedInputs() {
  std::vector<std::pair<std::string, Bytes>> out;
  Bytes good = Fixtures::get().evidence("good");
  // Every proper prefix: Evidence has report(1) then quote(2), so each cut is either
  // inside a length-delimited field or leaves the quote out.
  for (std::size_t n = 0; n < good.size(); n += (n < 64 ? 1 : 37)) {
    out.push_back({"prefix " + std::to_string(n),
                   Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n))});
  }
  std::mt19937 rng(42);
  for (std::size_t size : {1u, 2u, 17u, 512u, 4096u, 65536u, 1u << 20}) {
    Bytes b(size);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    out.push_back({"random " + std::to_string(size) + " bytes", b});
  }
  out.push_back({"over 16 MiB", Bytes((16u << 20) + 1, 0x0a)});
  out.push_back({"attest is not a TPMS_ATTEST",
                 withEvidence([](auto& ev) { ev.mutable_quote()->set_attest("\xff\x54junk"); })});
  out.push_back({"signature is not a TPMT_SIGNATURE", withEvidence([](auto& ev) {
                   ev.mutable_quote()->set_signature(std::string(9, '\x01'));
                 })});
  out.push_back({"unknown PCR bank", withEvidence([](auto& ev) {
                   ev.mutable_quote()->mutable_pcrs(0)->set_hash_alg("md5");
                 })});
  out.push_back({"PCR digest of the wrong size", withEvidence([](auto& ev) {
                   ev.mutable_quote()->mutable_pcrs(0)->mutable_pcrs(0)->set_digest("short");
                 })});
  out.push_back(
      {"no PCR values", withEvidence([](auto& ev) { ev.mutable_quote()->clear_pcrs(); })});
  out.push_back({"report is not a Report",
                 withEvidence([](auto& ev) { ev.set_report(std::string(40, '\xff')); })});
  out.push_back({"nonce too short", withReport([](auto& r) { r.set_nonce("short"); })});
  out.push_back({"schema version 2", withReport([](auto& r) { r.set_schema_version(2); })});
  out.push_back({"measurement digest not 32 bytes",
                 withReport([](auto& r) { r.mutable_measurements(0)->set_sha256("abc"); })});
  out.push_back({"measurement kind with upper case",
                 withReport([](auto& r) { r.mutable_measurements(0)->set_kind("File"); })});
  out.push_back({"CEL log corrupt in the middle", withReport([](auto& r) {
                   std::string c = r.logs(0).content();
                   c.insert(1, "{broken");
                   r.mutable_logs(0)->set_content(c);
                 })});
  out.push_back(
      {"incremental log", withReport([](auto& r) { r.mutable_logs(0)->set_offset(100); })});
  out.push_back({"unspecified log format", withReport([](auto& r) {
                   r.mutable_logs(0)->set_format(bulwark::v1::EventLog::FORMAT_UNSPECIFIED);
                 })});
  out.push_back({"firmware log garbage", withReport([](auto& r) {
                   auto* l = r.add_logs();
                   l->set_format(bulwark::v1::EventLog::TCG_PC_CLIENT);
                   l->set_content(std::string(100, '\x03'));
                 })});
  out.push_back({"IMA line garbage", withReport([](auto& r) {
                   auto* l = r.add_logs();
                   l->set_format(bulwark::v1::EventLog::IMA_ASCII);
                   l->set_content("10 nothex ima-ng x y\n");
                 })});
  out.push_back({"image digest not sha256:hex",
                 withReport([](auto& r) { r.mutable_containers(0)->set_image_digest("latest"); })});
  out.push_back({"finding severity unknown", withReport([](auto& r) {
                   r.mutable_containers(0)->mutable_findings(0)->set_severity("meh");
                 })});
  out.push_back({"node name invalid", withReport([](auto& r) { r.set_node("-x"); })});
  return out;
}

TEST(Evidence, MalformedOfAnySizeIsRefusedAndChangesNothing) {
  Env env;
  env.approveFrom("good");
  env.allowImages();
  const Fixtures& f = Fixtures::get();
  env.issue(f.nonce("good"), f.node);
  const std::string before = snapshot(*env.store, f.node);
  std::size_t n = 0;
  for (const auto& [what, bytes] : malformedInputs()) {
    SCOPED_TRACE(what);
    auto out = env.appraiser->attest(env.who(), bytes);
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 400);
    EXPECT_EQ(out.error().code, "evidence-malformed");
    EXPECT_FALSE(out.error().detail.empty());
    EXPECT_EQ(snapshot(*env.store, f.node), before);
    ++n;
  }
  EXPECT_GT(n, 60u);
  // The nonce was never consumed: the genuine evidence still gets appraised.
  auto ok = env.appraiser->attest(env.who(), f.evidence("good"));
  ASSERT_TRUE(ok.has_value()) << ok.error().code << ": " << ok.error().detail;
  EXPECT_TRUE(ok->verdict.affirming()) << ok->record.reasons_json;
  EXPECT_NE(snapshot(*env.store, f.node), before);
}

TEST(Evidence, ParsedFieldsOfARealFixture) {
  auto ev = parseEvidence(Fixtures::get().evidence("good2"));
  ASSERT_TRUE(ev.has_value()) << ev.error().toString();
  EXPECT_TRUE(ev->quoted.is_quote);
  EXPECT_EQ(ev->quoted.selection.toString(), "sha256:15");
  ASSERT_EQ(ev->pcrs.size(), 1u);
  EXPECT_EQ(ev->pcrs[0].values.size(), 1u);
  EXPECT_EQ(ev->measurements.size(), 4u);  // batch 1 (3) + batch 2 (1)
  EXPECT_EQ(ev->logged.size(), 4u);
  EXPECT_EQ(ev->digest, sha256(Fixtures::get().evidence("good2")));
  ASSERT_EQ(ev->logs.size(), 1u);
  EXPECT_EQ(ev->logs[0].label(), "CEL log #0 (/run/bulwark/measure.log)");
}

}  // namespace
}  // namespace bulwark::server::test
