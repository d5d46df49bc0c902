// bulwarkctl commands that talk to a running verifier (docs/api.md):
//   bulwarkctl --verifier URL --token TOKEN --cacert FILE nodes [--json]
//   bulwarkctl ... node NAME [--json]          exit 0 trusted, 1 otherwise
//   bulwarkctl ... approve NAME | revoke NAME
//   bulwarkctl ... policy learn NODE | policy approve [--node NODE] | policy show [--json]
//   bulwarkctl ... policy image allow-digest|allow-prefix|deny-digest VALUE
//   bulwarkctl ... policy import-package FILE.deb|FILE.rpm ... [--label L] [--dry-run]
//   bulwarkctl ... policy revoke --package NAME --version V [--label L] | --id N ...
//   bulwarkctl ... nodes group NAME GROUP
// The token may come from $BULWARK_TOKEN (preferred: command lines are visible in ps).
// Exit 2 + "ERROR ..." on stderr when the verifier cannot be asked or refuses.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/core/bytes.h"
#include "server/appraisal/package.h"
#include "server/ctl/command.h"
#include "server/ctl/http_client.h"

namespace bulwark::ctl {
namespace {
using nlohmann::json;

struct Global {
  std::string verifier = "https://127.0.0.1:8443";
  std::string token;
  std::string cacert;
  std::string cert;
  std::string key;
  int timeout_s = 30;
};

Global& global() {
  static Global g;
  return g;
}

int errorOut(const std::string& what) {
  std::fprintf(stderr, "ERROR %s\n", what.c_str());
  return kExitError;
}

// Sends one request; returns the parsed JSON body of a 2xx answer or prints the error.
std::optional<json> call(const std::string& method, const std::string& path, const json& body,
                         int& exit_code) {
  const Global& g = global();
  auto client =
      HttpClient::create(
      {g.verifier, g.cacert, g.cert, g.key, g.token, std::chrono::seconds(g.timeout_s)});
  if (!client) {
    exit_code = errorOut(client.error().toString());
    return std::nullopt;
  }
  std::string payload = body.is_null() ? std::string() : body.dump();
  auto reply = (*client)->request(method, path, payload);
  if (!reply) {
    exit_code = errorOut(reply.error().toString());
    return std::nullopt;
  }
  json j = json::parse(reply->body, nullptr, false);
  if (reply->status < 200 || reply->status > 299) {
    std::string code = j.is_object() ? j.value("error", std::string()) : std::string();
    std::string detail =
        j.is_object() && j.contains("detail") ? j.value("detail", std::string()) : reply->body;
    exit_code = errorOut("HTTP " + std::to_string(reply->status) + " " + code +
                         (detail.empty() ? "" : ": " + detail));
    return std::nullopt;
  }
  if (j.is_discarded()) {
    exit_code = errorOut("verifier answered something that is not JSON");
    return std::nullopt;
  }
  return j;
}

std::string str(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string reasonsLine(const json& node) {
  std::string out;
  if (!node.contains("reasons")) return out;
  for (const json& r : node["reasons"])
    out += (out.empty() ? "" : ",") + r.value("code", std::string());
  return out.empty() ? "-" : out;
}

void printNodes(const json& j) {
  std::printf("%-32s %-10s %-26s %-16s %s\n", "NAME", "STATE", "FRESH UNTIL", "STATUS", "REASONS");
  for (const json& n : j["nodes"]) {
    std::string status = n["last_appraisal"].is_object() ? str(n["last_appraisal"], "status") : "-";
    std::printf("%-32s %-10s %-26s %-16s %s\n", str(n, "name").c_str(), str(n, "state").c_str(),
                str(n, "fresh_until").c_str(), status.c_str(), reasonsLine(n).c_str());
  }
}

// `approve` of an enrolled node re-approves it (docs/api.md): it lists the superseded
// measurements now accepted for this node, then the verdict after re-appraisal.
void printApproval(const json& j) {
  std::printf("%s: %s", str(j, "name").c_str(), str(j, "state").c_str());
  if (!j.contains("acknowledged") || !j["acknowledged"].is_array()) {
    std::printf("\n");
    return;
  }
  std::printf(" (re-approved: %zu superseded measurement(s) accepted for this node)\n",
              j["acknowledged"].size());
  for (const json& m : j["acknowledged"]) {
    std::printf("  accepted %s %s sha256:%s\n", str(m, "kind").c_str(), str(m, "subject").c_str(),
                str(m, "sha256").c_str());
  }
  if (j.value("reappraised", false) == false) {
    std::printf("  not re-appraised (no fresh verdict); the next attestation applies it\n");
  }
  if (str(j, "state") != "trusted") std::printf("  reasons: %s\n", reasonsLine(j).c_str());
}

void printNode(const json& n) {
  std::printf("node:         %s\nstate:        %s\ngroup:        %s\nfresh until:  %s\n",
              str(n, "name").c_str(), str(n, "state").c_str(), str(n, "group").c_str(),
              str(n, "fresh_until").c_str());
  if (n["last_appraisal"].is_object()) {
    const json& a = n["last_appraisal"];
    std::printf("appraisal:    #%s %s at %s (policy v%s)\n", str(a, "id").c_str(),
                str(a, "status").c_str(), str(a, "appraised_at").c_str(),
                str(a, "policy_version").c_str());
  }
  if (n.contains("trust_vector") && n["trust_vector"].is_object()) {
    for (const auto& [claim, value] : n["trust_vector"].items()) {
      std::printf("  %-18s %s\n", claim.c_str(), value.dump().c_str());
    }
  }
  for (const char* list : {"reasons", "events", "findings"}) {
    if (!n.contains(list) || n[list].empty()) continue;
    std::printf("%s:\n", list);
    for (const json& r : n[list]) {
      std::string head =
          r.contains("code") ? str(r, "code") : str(r, "container") + " " + str(r, "control");
      std::printf("  %s: %s\n", head.c_str(), str(r, "detail").c_str());
    }
  }
}

bool& jsonOut() {
  static bool on = false;
  return on;
}

void printChange(const json& j) {
  if (jsonOut()) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("changed %s, policy version %s, re-appraised %s node(s)\n", str(j, "changed").c_str(),
              str(j, "version").c_str(), str(j, "reappraised").c_str());
}

void addGlobalOptions(CLI::App& app) {
  Global& g = global();
  app.add_option("--verifier", g.verifier, "verifier URL (https://host:port)")
      ->envname("BULWARK_VERIFIER");
  app.add_option("--token", g.token, "bearer token (prefer $BULWARK_TOKEN)")
      ->envname("BULWARK_TOKEN");
  app.add_option("--cacert", g.cacert, "CA certificate (PEM) of the verifier's TLS certificate");
  app.add_option("--cert", g.cert, "client certificate (PEM) instead of a token");
  app.add_option("--key", g.key, "key of --cert (PEM)");
  app.add_option("--timeout", g.timeout_s,
                 "seconds each step (connect, TLS handshake, send, receive) may take")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
}

void addNodeCommands(CLI::App& app, int& exit_code) {
  auto* nodes = app.add_subcommand("nodes", "list nodes and their verdicts");
  static bool nodes_json = false;
  nodes->add_flag("--json", nodes_json, "print the verifier's JSON");
  nodes->fallthrough();
  auto* group = nodes->add_subcommand(
      "group", "put node NAME in node group GROUP (its isolation profile; \"\" = default)");
  static std::string group_node, group_name;
  group->add_option("NAME", group_node, "node name")->required();
  group->add_option("GROUP", group_name, "node group (isolation_profiles key)")->required();
  group->add_flag("--json", jsonOut(), "print the verifier's JSON");
  group->fallthrough();
  group->callback([&exit_code] {
    auto j = call("PUT", "/v1/nodes/" + group_node + "/group", {{"group", group_name}}, exit_code);
    if (!j) return;
    jsonOut() ? (void)std::printf("%s\n", j->dump(2).c_str())
              : (void)std::printf("%s: group %s, state %s\n", str(*j, "name").c_str(),
                                  str(*j, "group").c_str(), str(*j, "state").c_str());
  });
  nodes->callback([&exit_code, nodes] {
    if (nodes->got_subcommand("group")) return;
    auto j = call("GET", "/v1/nodes", nullptr, exit_code);
    if (!j) return;
    nodes_json ? (void)std::printf("%s\n", j->dump(2).c_str()) : printNodes(*j);
  });

  auto* node = app.add_subcommand(
      "node", "one node's verdict, reasons and findings (exit 0 only if trusted)");
  static std::string name;
  static bool node_json = false;
  node->add_option("NAME", name, "node name")->required();
  node->add_flag("--json", node_json, "print the verifier's JSON");
  node->fallthrough();
  node->callback([&exit_code] {
    auto j = call("GET", "/v1/nodes/" + name, nullptr, exit_code);
    if (!j) return;
    node_json ? (void)std::printf("%s\n", j->dump(2).c_str()) : printNode(*j);
    exit_code = str(*j, "state") == "trusted" ? kExitOk : kExitRejected;
  });

  for (const char* verb : {"approve", "revoke"}) {
    auto* sub = app.add_subcommand(verb, std::string(verb) + " a node (admin)");
    static std::string target[2];
    std::string& t = target[std::string_view(verb) == "approve" ? 0 : 1];
    sub->add_option("NAME", t, "node name")->required();
    sub->add_flag("--json", jsonOut(), "print the verifier's JSON");
    sub->fallthrough();
    sub->callback([&exit_code, &t, verb] {
      auto j = call("POST", "/v1/nodes/" + t + "/" + verb, json::object(), exit_code);
      if (!j) return;
      jsonOut() ? (void)std::printf("%s\n", j->dump(2).c_str()) : printApproval(*j);
    });
  }
}

void addPackageCommands(CLI::App& policy, int& exit_code);

void addPolicyCommands(CLI::App& app, int& exit_code) {
  auto* policy =
      app.add_subcommand("policy", "reference values and image rules on the verifier (admin)");
  policy->require_subcommand(1);
  policy->fallthrough();

  auto* learn = policy->add_subcommand(
      "learn", "take NODE's latest measurements as pending reference values");
  static std::string learn_node;
  learn->add_option("NODE", learn_node, "reference node")->required();
  learn->add_flag("--json", jsonOut(), "print the verifier's JSON");
  learn->fallthrough();
  learn->callback([&exit_code] {
    auto j = call("POST", "/v1/policy/learn/" + learn_node, json::object(), exit_code);
    if (j) printChange(*j);
  });

  auto* approve = policy->add_subcommand("approve", "approve pending values (of --node, else all)");
  static std::string approve_node;
  approve->add_option("--node", approve_node, "only values learned from this node");
  approve->add_flag("--json", jsonOut(), "print the verifier's JSON");
  approve->fallthrough();
  approve->callback([&exit_code] {
    json body = approve_node.empty() ? json{{"all", true}} : json{{"node", approve_node}};
    auto j = call("POST", "/v1/policy/approve", body, exit_code);
    if (j) printChange(*j);
  });

  auto* show = policy->add_subcommand("show", "print reference values and image rules");
  static bool show_json = false;
  show->add_flag("--json", show_json, "print the verifier's JSON");
  show->fallthrough();
  show->callback([&exit_code] {
    auto j = call("GET", "/v1/policy", nullptr, exit_code);
    if (!j) return;
    if (show_json) {
      std::printf("%s\n", j->dump(2).c_str());
      return;
    }
    std::printf("policy version %s\n", str(*j, "version").c_str());
    for (const json& v : (*j)["reference_values"]) {
      std::printf("  #%-5s %-9s %-16s %s %s (%s)\n", str(v, "id").c_str(), str(v, "state").c_str(),
                  str(v, "kind").c_str(), str(v, "sha256").substr(0, 16).c_str(),
                  str(v, "subject").c_str(), str(v, "source").c_str());
    }
    for (const json& r : (*j)["image_rules"]) {
      std::printf("  image #%-5s %-13s %s\n", str(r, "id").c_str(), str(r, "kind").c_str(),
                  str(r, "value").c_str());
    }
  });

  auto* image = policy->add_subcommand("image", "add an image rule");
  static std::string kind, value;
  image->add_option("KIND", kind, "allow-digest | allow-prefix | deny-digest")
      ->required()
      ->check(CLI::IsMember({"allow-digest", "allow-prefix", "deny-digest"}));
  image->add_option("VALUE", value, "sha256:<hex> or registry/repository prefix")->required();
  image->add_flag("--json", jsonOut(), "print the verifier's JSON");
  image->fallthrough();
  image->callback([&exit_code] {
    std::string k = kind;
    for (char& c : k) c = c == '-' ? '_' : c;
    auto j = call("POST", "/v1/policy/images", {{"kind", k}, {"value", value}}, exit_code);
    if (j) printChange(*j);
  });
  addPackageCommands(*policy, exit_code);
}

// One request carries at most this many values and ~512 KiB of JSON, well under the
// verifier's default 1 MiB body limit even for long paths.
constexpr std::size_t kValuesPerRequest = 2000;
constexpr std::size_t kBytesPerRequest = 512 * 1024;

std::string packageSourceOf(const server::PackageContents& p, const std::string& label) {
  return server::packageSource(p.name, p.version) + (label.empty() ? "" : "@" + label);
}

// Hashes every regular file of each package (server/appraisal/package.h) and posts them
// as approved reference values of kind "file", source package:NAME=VERSION[@LABEL].
void importPackages(const std::vector<std::string>& files, const std::string& label, bool dry_run,
                    int& exit_code) {
  for (const std::string& file : files) {
    auto bytes = readFile(file);
    if (!bytes) {
      exit_code = errorOut(file + ": " + bytes.error().toString());
      return;
    }
    auto pkg = server::readPackage(*bytes);
    if (!pkg) {
      exit_code = errorOut(file + ": " + pkg.error().toString());
      return;
    }
    std::string source = packageSourceOf(*pkg, label);
    std::printf("%s: %s %s (%s), %zu files, source %s\n", file.c_str(), pkg->name.c_str(),
                pkg->version.c_str(), std::string(server::packageFormatName(pkg->format)).c_str(),
                pkg->files.size(), source.c_str());
    if (dry_run) {
      for (const auto& f : pkg->files)
        std::printf("  %s  %s\n", toHex(f.sha256).c_str(), f.path.c_str());
      continue;
    }
    for (std::size_t i = 0; i < pkg->files.size();) {
      json values = json::array();
      for (std::size_t json_bytes = 0;
           i < pkg->files.size() && values.size() < kValuesPerRequest &&
           json_bytes < kBytesPerRequest;
           ++i) {
        const auto& f = pkg->files[i];
        json_bytes += f.path.size() + source.size() + 128;
        values.push_back({{"kind", server::kPackageFileKind},
                          {"subject", f.path},
                          {"sha256", toHex(f.sha256)},
                          {"source", source}});
      }
      auto j = call("POST", "/v1/policy/reference-values", {{"values", values}}, exit_code);
      if (!j) return;
      printChange(*j);
    }
  }
}

void addPackageCommands(CLI::App& policy, int& exit_code) {
  auto* import = policy.add_subcommand(
      "import-package", "hash every file of .deb/.rpm packages into approved reference values");
  static std::vector<std::string> files;
  static std::string label;
  static bool dry_run = false;
  import->add_option("FILE", files, ".deb or .rpm files")->required()->check(CLI::ExistingFile);
  import->add_option("--label", label, "tag appended to the source (package:NAME=VERSION@LABEL)");
  import->add_flag("--dry-run", dry_run, "print the files and digests, post nothing");
  import->add_flag("--json", jsonOut(), "print the verifier's JSON");
  import->fallthrough();
  import->callback([&exit_code] { importPackages(files, label, dry_run, exit_code); });

  auto* revoke = policy.add_subcommand(
      "revoke", "revoke reference values: one package version, or values by id");
  static std::string package, version, revoke_label;
  static std::vector<std::int64_t> ids;
  revoke->add_option("--package", package, "package name (with --version)");
  revoke->add_option("--version", version, "package version as imported");
  revoke->add_option("--label", revoke_label, "label given at import");
  revoke->add_option("--id", ids, "reference value id (repeatable)");
  revoke->add_flag("--json", jsonOut(), "print the verifier's JSON");
  revoke->fallthrough();
  revoke->callback([&exit_code] {
    json body = json::object();
    if (!package.empty() || !version.empty()) {
      if (package.empty() || version.empty()) {
        exit_code = errorOut("--package and --version go together");
        return;
      }
      body["package"] = package;
      body["version"] = version;
      if (!revoke_label.empty()) body["label"] = revoke_label;
    }
    if (!ids.empty()) body["ids"] = ids;
    if (body.empty()) {
      exit_code = errorOut("give --package NAME --version V, or --id N");
      return;
    }
    auto j = call("POST", "/v1/policy/revoke", body, exit_code);
    if (j) printChange(*j);
  });
}

const RegisterCommand kRegister([](CLI::App& app, int& exit_code) {
  addGlobalOptions(app);
  addNodeCommands(app, exit_code);
  addPolicyCommands(app, exit_code);
});

}  // namespace
}  // namespace bulwark::ctl
