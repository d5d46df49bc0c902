// HTML pages of the compliance reports (DESIGN §8, docs/reports.md): rendered from the
// report documents of report_model.h, so the page and the JSON export say the same.
// Self-contained: inline CSS (with print rules) and inline SVG, no <script>, no external
// resource; every dynamic string is HTML-escaped. Pure: JSON in, markup out.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace bulwark::server::report {

std::string renderFleetPage(const nlohmann::json& fleet_report);
std::string renderNodePage(const nlohmann::json& node_report);

}  // namespace bulwark::server::report
