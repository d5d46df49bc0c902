#include "attest/eventlog/event_log_json.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace bulwark::attest::eventlog {

namespace {

using Json = nlohmann::ordered_json;

std::string algName(std::uint16_t id) {
  if (auto alg = hashAlgFromId(id)) return std::string(hashAlgName(*alg));
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", id);
  return buf;
}

Json digestsJson(const std::map<HashAlg, Bytes>& digests) {
  Json out = Json::object();
  for (const auto& [alg, d] : digests) out[std::string(hashAlgName(alg))] = toHex(d);
  return out;
}

struct DataVisitor {
  Json operator()(const RawData&) const { return Json::object(); }
  Json operator()(const TextData& t) const { return {{"text", t.text}, {"utf16", t.utf16}}; }
  Json operator()(const SeparatorData& s) const { return {{"value", s.value}, {"error", s.isError()}}; }
  Json operator()(const UefiVariableData& v) const {
    return {{"vendor", v.vendor.toString()}, {"name", v.name}, {"data_size", v.data.size()},
            {"data_sha256", toHex(sha256(v.data))}, {"trailing_bytes", v.trailing_bytes}};
  }
  Json operator()(const UefiImageLoad& i) const {
    return {{"location", i.location}, {"length", i.length}, {"link_time_address", i.link_time_address},
            {"device_path", i.device_path_text}, {"trailing_bytes", i.trailing_bytes}};
  }
  Json operator()(const FirmwareBlob& b) const {
    return {{"description", b.description}, {"base", b.base}, {"length", b.length}};
  }
  Json operator()(const HandoffTables& h) const {
    Json tables = Json::array();
    for (const auto& t : h.tables) tables.push_back({{"guid", t.guid.toString()}, {"table", t.table}});
    return {{"description", h.description}, {"tables", tables}};
  }
  Json operator()(const GptEvent& g) const {
    Json parts = Json::array();
    for (const auto& p : g.partitions) {
      parts.push_back({{"type", p.type.toString()}, {"unique", p.unique.toString()}, {"first_lba", p.first_lba},
                       {"last_lba", p.last_lba}, {"attributes", p.attributes}, {"name", p.name}});
    }
    return {{"disk_guid", g.disk_guid.toString()}, {"partitions", parts}};
  }
  Json operator()(const TaggedEvent& t) const {
    return {{"tag", t.id}, {"data", toHex(t.data)}, {"text", decodeText(t.data).text}};
  }
  Json operator()(const StartupLocalityEvent& s) const { return {{"startup_locality", s.locality}}; }
  Json operator()(const SpecIdEvent& s) const {
    Json algs = Json::array();
    for (const auto& a : s.algorithms) algs.push_back({{"algorithm", algName(a.alg_id)}, {"digest_size", a.digest_size}});
    return {{"platform_class", s.platform_class}, {"version", std::to_string(s.version_major) + "." + std::to_string(s.version_minor)},
            {"errata", s.errata}, {"uintn_size", s.uintn_size}, {"algorithms", algs}, {"vendor_info", toHex(s.vendor_info)}};
  }
  Json operator()(const Sp800155Event& e) const {
    return {{"signature", e.signature}, {"platform_manufacturer_id", e.platform_manufacturer_id},
            {"reference_manifest_guid", e.reference_manifest_guid.toString()},
            {"platform_manufacturer", e.platform_manufacturer}, {"platform_model", e.platform_model},
            {"platform_version", e.platform_version}, {"firmware_manufacturer", e.firmware_manufacturer},
            {"firmware_manufacturer_id", e.firmware_manufacturer_id}, {"firmware_version", e.firmware_version},
            {"rim_locator_type", e.rim_locator_type}, {"rim_locator", toHex(e.rim_locator)},
            {"platform_cert_locator_type", e.platform_cert_locator_type},
            {"platform_cert_locator", toHex(e.platform_cert_locator)}};
  }
  Json operator()(const NoActionOther& n) const { return {{"signature", n.signature}}; }
};

Json imageJson(const LoadedImage& i) {
  return {{"event", i.event_index}, {"pcr", i.pcr}, {"type", eventTypeName(i.type)}, {"path", i.path},
          {"digests", digestsJson(i.digests)}};
}

Json fileJson(const MeasuredFile& f) {
  return {{"event", f.event_index}, {"path", f.path}, {"source", f.source}, {"digests", digestsJson(f.digests)}};
}

}  // namespace

Json eventDataToJson(const EventData& data) { return std::visit(DataVisitor{}, data); }

Json eventToJson(const Event& ev) {
  Json digests = Json::object();
  for (const auto& d : ev.digests) digests[algName(d.alg_id)] = toHex(d.digest);
  Json out = {{"index", ev.index}, {"offset", ev.offset}, {"pcr", ev.pcr}, {"type", eventTypeName(ev.type)},
              {"type_value", ev.type}, {"digests", digests}, {"size", ev.data.size()}};
  auto decoded = decodeEventData(ev);
  if (decoded) {
    out["data"] = eventDataToJson(*decoded);
  } else {
    out["decode_error"] = decoded.error().toString();
    out["data_hex"] = toHex(ev.data);
  }
  return out;
}

Json eventLogToJson(const EventLog& log) {
  Json events = Json::array();
  for (const auto& ev : log.events) events.push_back(eventToJson(ev));
  return {{"format", logFormatName(log.format)},
          {"spec_id", log.spec_id ? eventDataToJson(*log.spec_id) : Json(nullptr)},
          {"events", std::move(events)},
          {"trailing_zero_bytes", log.trailing_zero_bytes}};
}

Json replayToJson(const Replay& r) {
  Json banks = Json::object();
  for (const auto& [alg, values] : r.banks) {
    Json pcrs = Json::object();
    for (const auto& [pcr, v] : values) pcrs[std::to_string(pcr)] = toHex(v);
    banks[std::string(hashAlgName(alg))] = std::move(pcrs);
  }
  Json skipped = Json::array();
  for (auto id : r.skipped_alg_ids) skipped.push_back(algName(id));
  return {{"startup_locality", r.startup_locality}, {"extended_pcrs", r.extended_pcrs},
          {"skipped_algorithms", skipped}, {"banks", banks}};
}

Json bootFactsToJson(const BootFacts& f) {
  Json vars = Json::array();
  for (const auto& v : f.secure_boot_variables) {
    vars.push_back({{"event", v.event_index}, {"name", v.name}, {"vendor", v.vendor.toString()}, {"size", v.size},
                    {"data_sha256", toHex(v.data_sha256)}});
  }
  Json apps = Json::array(), drivers = Json::array(), cmdlines = Json::array(), kernels = Json::array(),
       initrds = Json::array();
  for (const auto& a : f.boot_applications) apps.push_back(imageJson(a));
  for (const auto& d : f.drivers) drivers.push_back(imageJson(d));
  for (const auto& c : f.kernel_cmdlines) {
    cmdlines.push_back({{"event", c.event_index}, {"pcr", c.pcr}, {"source", c.source}, {"bound", c.bound}, {"text", c.text}});
  }
  for (const auto& k : f.kernels) kernels.push_back(fileJson(k));
  for (const auto& i : f.initrds) initrds.push_back(fileJson(i));
  Json separators = Json::array();
  for (bool s : f.separators) separators.push_back(s);
  return {{"secure_boot", f.secure_boot ? Json(*f.secure_boot) : Json(nullptr)},
          {"secure_boot_variables", vars}, {"boot_applications", apps}, {"drivers", drivers},
          {"kernel_cmdlines", cmdlines}, {"kernels", kernels}, {"initrds", initrds},
          {"separators_pcr0_7", separators}, {"error_separators", f.error_separators},
          {"inconsistencies", f.inconsistencies}};
}

Json bootAppraisalToJson(const BootAppraisal& a) {
  Json claims = Json::array();
  for (const auto& c : a.claims) {
    claims.push_back({{"rule", c.rule}, {"reason", bootReasonName(c.reason)}, {"passed", c.passed()}, {"detail", c.detail}});
  }
  return {{"affirming", a.affirming()}, {"reason", bootReasonName(a.primaryReason())},
          {"evidence_failure", isEvidenceFailure(a.primaryReason())}, {"claims", claims}};
}

}  // namespace bulwark::attest::eventlog
