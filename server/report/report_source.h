// Reads what a report needs from the Store and builds the report documents and bundles
// (report_model.h, bundle.h). The only part of bulwark_report that touches storage.
// Errors are the Store's (kNotFound for an unknown node, kUnavailable, ...); a node
// without verdict or evidence is a report that says so, not an error.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "attest/tpm_public/tpm_public.h"
#include "server/store/store.h"

namespace bulwark::server::report {

inline constexpr std::size_t kDefaultHistory = 100;
inline constexpr std::size_t kMaxHistory = 1000;

struct ReportRequest {
  Millis now = 0;
  std::size_t history = kDefaultHistory;  // timeline length, clamped to [1, kMaxHistory]
};

[[nodiscard]] Result<nlohmann::json> loadNodeReport(Store& store, const std::string& node,
                                                    const ReportRequest& request);
[[nodiscard]] Result<nlohmann::json> loadFleetReport(Store& store, const ReportRequest& request);

// The signed bundle of one node (`node` set) or of the fleet, as bundle file bytes.
[[nodiscard]] Result<std::string> loadBundle(Store& store, const std::optional<std::string>& node,
                                             const ReportRequest& request, EVP_PKEY* key);

}  // namespace bulwark::server::report
