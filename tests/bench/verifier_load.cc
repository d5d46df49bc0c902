// verifier_load: many concurrent simulated agents against a running bulwark-verifier
// over HTTPS keep-alive with mTLS (issue 5 "Numbers"; scripts/bench-verifier.sh runs it).
//
// Setup, through the verifier's own database and agent CA (the same files the verifier
// uses): N synthetic nodes with software AKs (server/verifier/soft_agent.h) are enrolled
// and approved in the Store, each with a client certificate issued by the agent CA
// (serial recorded as the node's latest enrollment), and the reference values of their
// measurements are approved. Then C worker threads each drive N/C agents: one keep-alive
// connection per agent, GET /v1/nonce once, then POST /v1/attest in a loop using the
// next nonce each answer carries (what bulwark-agent run does), shipping the log from
// the cursor each answer carries (incremental logs; `--whole-logs` sends it whole every
// time, as agents before them did). Every answer must be 200 and AFFIRMING; anything
// else counts as an error.
//
//   verifier_load --url https://127.0.0.1:8443 --cacert ca.pem
//       --agent-ca-cert agent-ca.pem --agent-ca-key agent-ca.key
//       --sqlite verifier.db | --postgres CONNINFO
//       [--nodes 64] [--concurrency 16] [--seconds 20] [--events 50] [--workdir DIR]
//   prints one JSON line: attestations, seconds, per_second, p50_ms, p99_ms, errors
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "attest/credential/rng.h"
#include "attest/ear/verifier_key.h"
#include "bulwark/v1/enrollment.pb.h"
#include "server/appraisal/agent_ca.h"
#include "server/ctl/http_client.h"
#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"
#include "server/verifier/soft_agent.h"

namespace {

using namespace bulwark;
using namespace bulwark::server;
using Clock = std::chrono::steady_clock;
constexpr const char* kProto = "application/x-protobuf";

struct Options {
  std::string url, cacert, agent_ca_cert, agent_ca_key, sqlite, postgres, workdir;
  int nodes = 64, concurrency = 16, seconds = 20, events = 50;
  std::string ak = "ecc";  // ecc: client signing stays cheap, the verifier is what is measured
  bool once = false;       // every node attests exactly once, connections closed after use
  bool whole_logs = false;  // ignore the cursors: ship the whole log every time
};

Millis nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// P-256 client key (PEM file) and a PKCS#10 request for it (DER); the CA sets the subject.
Result<Bytes> clientKeyAndCsr(const std::string& key_path) {
  auto key = attest::generateP256Key();
  if (!key) return std::unexpected(key.error());
  X509_REQ* req = X509_REQ_new();
  bool ok = req != nullptr && X509_REQ_set_pubkey(req, key->get()) == 1 &&
            X509_REQ_sign(req, key->get(), EVP_sha256()) > 0;
  unsigned char* der = nullptr;
  int len = ok ? i2d_X509_REQ(req, &der) : -1;
  X509_REQ_free(req);
  if (len <= 0) return fail(ErrorCode::kCrypto, "CSR");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  std::FILE* f = std::fopen(key_path.c_str(), "w");
  if (f == nullptr) return fail(ErrorCode::kIo, key_path);
  PEM_write_PrivateKey(f, key->get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  return out;
}

Result<void> writeCertPem(const Bytes& der, const std::string& path) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return fail(ErrorCode::kCrypto, "issued certificate");
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f != nullptr) {
    PEM_write_X509(f, x);
    std::fclose(f);
  }
  X509_free(x);
  return f != nullptr ? Result<void>{} : fail(ErrorCode::kIo, path);
}

struct Agent {
  SoftAgent soft;
  std::string cert, key;
  std::unique_ptr<ctl::HttpClient> http;
  std::string nonce;
};

// Enrolls node `i` straight into the Store as an approved node under its software AK.
Result<Agent> enrollNode(Store& store, const AgentCa& ca, const Options& o, int i,
                         const std::vector<attest::BatchEntry>& events, attest::Rng& rng) {
  std::string name = "load-node-" + std::to_string(i);
  auto soft = SoftAgent::create(name, o.ak == "rsa" ? SoftAkType::kRsa2048 : SoftAkType::kEccP256);
  if (!soft) return std::unexpected(soft.error());
  soft->report_all = o.whole_logs;  // what agents before incremental logs sent
  for (const auto& e : events) {
    if (auto r = soft->measure(std::span(&e, 1)); !r) return std::unexpected(r.error());
  }
  Agent a{
      std::move(*soft), o.workdir + "/" + name + ".pem", o.workdir + "/" + name + ".key", {}, {}};
  auto csr = clientKeyAndCsr(a.key);
  if (!csr) return std::unexpected(csr.error());
  Millis now = nowMs();
  auto issued = ca.issue(*csr, name, std::chrono::hours(24), now, rng);
  if (!issued) return std::unexpected(issued.error());
  if (auto r = writeCertPem(issued->der, a.cert); !r) return std::unexpected(r.error());
  (void)store.deleteNode(name);  // a previous run's node
  PendingEnrollment p;
  p.id = "load-" + name + "-" + std::to_string(now);
  p.node = name;
  p.ek_public = a.soft.akPublic();
  p.ak_public = a.soft.akPublic();
  p.ak_name = a.soft.akName();
  p.secret_hash = Bytes(32, 0);
  p.created_at = now;
  p.expires_at = now + 60000;
  if (auto r = store.createPendingEnrollment(p); !r) return std::unexpected(r.error());
  if (auto r = store.completeEnrollment(p.id, {issued->serial_hex, true, now}); !r)
    return std::unexpected(r.error());
  return a;
}

struct Totals {
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::atomic<long> ok{0};  // 200 and AFFIRMING
  std::atomic<long> errors{0};
  std::string first_error;
  void error(const std::string& what) {
    if (errors++ == 0) {
      std::lock_guard lock(mu);
      first_error = what;
    }
  }
};

// One attestation of `a` (fetching a nonce first if it holds none); false on error.
bool attestOnce(const Options& o, Agent& a, Totals& t, std::vector<double>& lat) {
  if (!a.http) {
    auto http =
        ctl::HttpClient::create({o.url, o.cacert, a.cert, a.key, "", std::chrono::seconds(60)});
    if (!http) return t.error(http.error().toString()), false;
    a.http = std::move(*http);
  }
  if (a.nonce.empty()) {
    auto r = a.http->request("GET", "/v1/nonce", "", kProto, kProto);
    bulwark::v1::NonceResponse n;
    if (!r || r->status != 200 || !n.ParseFromString(r->body)) {
      t.error("nonce: " + (r ? std::to_string(r->status) + " " + r->body : r.error().toString()));
      return false;
    }
    a.nonce = n.nonce();
  }
  auto ev = a.soft.evidence(asBytes(a.nonce), nowMs());
  if (!ev) return t.error(ev.error().toString()), false;
  auto start = Clock::now();
  auto r = a.http->request("POST", "/v1/attest", *ev, kProto, kProto);
  lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  a.nonce.clear();
  bulwark::v1::AttestResponse resp;
  if (!r || r->status != 200 || !resp.ParseFromString(r->body)) {
    t.error("attest: " + (r ? std::to_string(r->status) + " " + r->body : r.error().toString()));
    return false;
  }
  a.nonce = resp.next_nonce();
  // Incremental logs (docs/api.md): ship the log from the verifier's cursor next time.
  if (!o.whole_logs && !resp.log_cursors().empty()) {
    a.soft.useCursor(resp.log_cursors(0).offset(), resp.log_cursors(0).entries());
  } else {
    a.soft.useCursor(0, 0);
  }
  if (resp.result().status() != bulwark::v1::STATUS_AFFIRMING) {
    t.error("attest: not affirming: " + resp.result().ShortDebugString().substr(0, 300));
    return false;
  }
  return true;
}

int run(const Options& o) {
  std::filesystem::create_directories(o.workdir);
  std::unique_ptr<Store> store;
  if (!o.sqlite.empty()) {
    auto s = SqliteStore::open(o.sqlite);
    if (!s) return std::fprintf(stderr, "store: %s\n", s.error().toString().c_str()), 2;
    store = std::move(*s);
  } else {
    auto s = PostgresStore::open(o.postgres);
    if (!s) return std::fprintf(stderr, "store: %s\n", s.error().toString().c_str()), 2;
    store = std::move(*s);
  }
  auto ca = AgentCa::loadOrCreate(o.agent_ca_cert, o.agent_ca_key, nowMs());
  if (!ca) return std::fprintf(stderr, "agent CA: %s\n", ca.error().toString().c_str()), 2;
  std::vector<attest::BatchEntry> events;
  std::vector<ReferenceValue> values;
  for (int i = 0; i < o.events; ++i) {
    std::string path = "/usr/lib/load/file-" + std::to_string(i);
    events.push_back({"host-file", path, sha256(asBytes(path))});
    ReferenceValue v;
    v.kind = "host-file";
    v.subject = path;
    v.sha256 = events.back().sha256;
    v.source = "manual";
    v.state = ReferenceState::kApproved;
    v.created_at = nowMs();
    v.approved_by = "verifier_load";
    v.approved_at = v.created_at;
    values.push_back(v);
  }
  if (auto r = store->addReferenceValues(values, nowMs()); !r)
    return std::fprintf(stderr, "policy: %s\n", r.error().toString().c_str()), 2;
  std::vector<Agent> agents;
  for (int i = 0; i < o.nodes; ++i) {
    auto a = enrollNode(*store, *ca, o, i, events, attest::defaultRng());
    if (!a) return std::fprintf(stderr, "enroll %d: %s\n", i, a.error().toString().c_str()), 2;
    agents.push_back(std::move(*a));
    if ((i + 1) % 1000 == 0) std::fprintf(stderr, "enrolled %d\n", i + 1);
  }
  std::fprintf(stderr, "enrolled %d nodes (%d events each, %s AKs); %d workers, %s\n", o.nodes,
               o.events, o.ak.c_str(), o.concurrency,
               o.once ? "one attestation per node" : (std::to_string(o.seconds) + " s").c_str());
  Totals totals;
  auto deadline = Clock::now() + std::chrono::seconds(o.seconds);
  auto begin = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < o.concurrency; ++w) {
    workers.emplace_back([&, w] {
      std::vector<double> lat;
      do {
        for (std::size_t i = static_cast<std::size_t>(w); i < agents.size();
             i += static_cast<std::size_t>(o.concurrency)) {
          if (!o.once && Clock::now() >= deadline) break;
          if (attestOnce(o, agents[i], totals, lat)) ++totals.ok;
          if (o.once) agents[i].http.reset();
        }
      } while (!o.once && Clock::now() < deadline);
      std::lock_guard lock(totals.mu);
      totals.latencies_ms.insert(totals.latencies_ms.end(), lat.begin(), lat.end());
    });
  }
  for (auto& t : workers) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  auto& l = totals.latencies_ms;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    return l.empty() ? 0.0
                     : l[std::min(l.size() - 1,
                                  static_cast<std::size_t>(p * static_cast<double>(l.size())))];
  };
  long ok = totals.ok.load();
  nlohmann::json out = {{"database", o.sqlite.empty() ? "postgresql" : "sqlite"},
                        {"nodes", o.nodes},
                        {"concurrency", o.concurrency},
                        {"events", o.events},
                        {"ak", o.ak},
                        {"attestations", ok},
                        {"seconds", secs},
                        {"per_second", static_cast<double>(ok) / secs},
                        {"p50_ms", pct(0.50)},
                        {"p99_ms", pct(0.99)},
                        {"errors", totals.errors.load()}};
  if (!totals.first_error.empty()) out["first_error"] = totals.first_error;
  std::printf("%s\n", out.dump().c_str());
  return totals.errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"load test for bulwark-verifier (simulated agents with software AKs)"};
  app.add_option("--url", o.url, "verifier URL")->required();
  app.add_option("--cacert", o.cacert, "CA of the verifier's TLS certificate")->required();
  app.add_option("--agent-ca-cert", o.agent_ca_cert, "the verifier's agent CA certificate")
      ->required();
  app.add_option("--agent-ca-key", o.agent_ca_key, "the verifier's agent CA key")->required();
  auto* sq = app.add_option("--sqlite", o.sqlite, "the verifier's SQLite database");
  auto* pg = app.add_option("--postgres", o.postgres, "the verifier's PostgreSQL conninfo");
  sq->excludes(pg);
  app.add_option("--nodes", o.nodes, "simulated nodes")->check(CLI::Range(1, 100000));
  app.add_option("--concurrency", o.concurrency, "worker threads")->check(CLI::Range(1, 1024));
  app.add_option("--seconds", o.seconds, "duration")->check(CLI::Range(1, 3600));
  app.add_option("--events", o.events, "measurement records per node")->check(CLI::Range(1, 5000));
  app.add_flag("--whole-logs", o.whole_logs,
               "ship the whole log every time (ignore the verifier's log cursors)");
  app.add_option("--ak", o.ak, "AK type of the simulated nodes")
      ->check(CLI::IsMember({"ecc", "rsa"}));
  app.add_flag("--once", o.once, "each node attests once (memory with many nodes), then exit");
  app.add_option("--workdir", o.workdir, "where client keys/certificates go")->required();
  CLI11_PARSE(app, argc, argv);
  if (o.sqlite.empty() == o.postgres.empty()) {
    std::fprintf(stderr, "give --sqlite or --postgres\n");
    return 2;
  }
  return run(o);
}
