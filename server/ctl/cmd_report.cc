// bulwarkctl report — compliance report bundles (docs/reports.md):
//   bulwarkctl [--verifier URL --token T --cacert F] report export NODE|--fleet [-o FILE]
//       fetches GET /v1/reports/bundle (auditor/admin) and writes it byte for byte
//   bulwarkctl report verify FILE --jwks JWKS_FILE
//       offline: bundle signature, every EAR against the JWKS, EAR claims vs the report.
// Exit 0 + "OK ..." verified; 1 + "REJECTED <reason>" lines when a check fails; 2 +
// "ERROR ..." (stderr) when the inputs cannot be read or the verifier cannot be asked.
// The connection options are the global ones cmd_nodes.cc declares (--verifier, --token
// or $BULWARK_TOKEN, --cacert, --cert, --key).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "attest/core/bytes.h"
#include "server/ctl/command.h"
#include "server/ctl/http_client.h"
#include "server/report/bundle.h"
#include "server/report/bundle_expect.h"

namespace bulwark::ctl {
namespace {
using nlohmann::json;

int errorOut(const std::string& what) {
  std::fprintf(stderr, "ERROR %s\n", what.c_str());
  return kExitError;
}

std::string globalOption(CLI::App& app, const std::string& name) {
  const CLI::Option* o = app.get_option_no_throw(name);
  return o && !o->results().empty() ? o->results().front() : std::string();
}

struct ExportOptions {
  std::string node;
  bool fleet = false;
  std::string out;
  int limit = 0;
};

int exportBundle(CLI::App& app, const ExportOptions& o) {
  if (o.fleet == !o.node.empty()) return errorOut("report export: give NODE or --fleet");
  HttpClientOptions h;
  h.url = globalOption(app, "--verifier");
  if (h.url.empty()) h.url = "https://127.0.0.1:8443";
  h.cacert = globalOption(app, "--cacert");
  h.client_cert = globalOption(app, "--cert");
  h.client_key = globalOption(app, "--key");
  h.token = globalOption(app, "--token");
  // CLI11 already checked the global --timeout (cmd_nodes.cc: 1..3600 seconds).
  if (const CLI::Option* t = app.get_option_no_throw("--timeout"); t && t->count() > 0) {
    h.timeout = std::chrono::seconds(t->as<int>());
  }
  auto client = HttpClient::create(h);
  if (!client) return errorOut(client.error().toString());
  std::string target = "/v1/reports/bundle";
  std::string sep = "?";
  if (!o.fleet) target += std::exchange(sep, "&") + "node=" + o.node;
  if (o.limit > 0) target += sep + "limit=" + std::to_string(o.limit);
  auto reply = (*client)->request("GET", target);
  if (!reply) return errorOut(reply.error().toString());
  if (reply->status != 200) {
    return errorOut("HTTP " + std::to_string(reply->status) + ": " + reply->body.substr(0, 512));
  }
  if (o.out.empty() || o.out == "-") {
    std::fwrite(reply->body.data(), 1, reply->body.size(), stdout);
    return kExitOk;
  }
  if (auto w = writeFileAtomic(o.out, asBytes(reply->body), 0644); !w) {
    return errorOut(w.error().toString());
  }
  std::printf("wrote %s (%zu bytes); check it with: bulwarkctl report verify %s --jwks JWKS\n",
              o.out.c_str(), reply->body.size(), o.out.c_str());
  return kExitOk;
}

int verifyFile(const std::string& file, const std::string& jwks_file) {
  auto bundle = readFile(file, server::report::kMaxBundleBytes + 1);
  if (!bundle) return errorOut(bundle.error().within(file).toString());
  auto jwks_bytes = readFile(jwks_file, 1u << 20);
  if (!jwks_bytes) return errorOut(jwks_bytes.error().within(jwks_file).toString());
  json jwks = json::parse(jwks_bytes->begin(), jwks_bytes->end(), nullptr, false);
  if (!jwks.is_object()) return errorOut(jwks_file + ": not a JSON Web Key Set");
  std::string_view text(reinterpret_cast<const char*>(bundle->data()), bundle->size());
  auto check = server::report::verifyBundle(text, jwks);
  if (!check) return errorOut(check.error().within(jwks_file).toString());
  if (!check->ok()) {
    for (const std::string& r : check->reasons) std::printf("REJECTED %s\n", r.c_str());
    return kExitRejected;
  }
  // A verified bundle has these members (verifyBundle names any that is missing).
  auto shown = [](const json& o, const char* key) {
    const json* v = server::report::member(o, key);
    return !v || v->is_null() ? std::string() : v->is_string() ? v->get<std::string>() : v->dump();
  };
  const json* report = server::report::member(check->content, "report");
  const json* ears = server::report::member(check->content, "attestations");
  std::string scope = shown(check->content, "scope");
  if (std::string node = shown(check->content, "node"); !node.empty()) scope += " " + node;
  std::printf(
      "OK bundle verified: scope %s, %zu EAR(s) verified, generated %s, policy version %s\n",
      scope.c_str(), ears ? ears->size() : 0, report ? shown(*report, "generated_at").c_str() : "?",
      shown(check->content, "policy_version").c_str());
  return kExitOk;
}

const RegisterCommand kRegister([](CLI::App& app, int& exit_code) {
  auto* report = app.add_subcommand("report", "compliance report bundles (auditor)");
  report->require_subcommand(1);
  report->fallthrough();

  static ExportOptions ex;
  auto* exp = report->add_subcommand("export", "fetch a signed report bundle from the verifier");
  exp->add_option("NODE", ex.node, "node name");
  exp->add_flag("--fleet", ex.fleet, "the whole fleet instead of one node");
  exp->add_option("-o,--output", ex.out, "file to write (default: stdout)");
  exp->add_option("--limit", ex.limit, "appraisals in the node timeline (default 100)");
  exp->fallthrough();
  exp->callback([&app, &exit_code] { exit_code = exportBundle(app, ex); });

  static std::string file, jwks;
  auto* ver =
      report->add_subcommand("verify", "check a bundle offline against the verifier's JWKS");
  ver->add_option("FILE", file, "bundle file")->required();
  ver->add_option("--jwks", jwks, "JWKS file (GET /v1/jwks of the verifier)")->required();
  ver->callback([&exit_code] { exit_code = verifyFile(file, jwks); });
});

}  // namespace
}  // namespace bulwark::ctl
