// The trust timeline of a node report as inline SVG (no script, no external fetch):
// one lane per EAR status, a dot per appraisal at its time, a bar for the window it
// was fresh (until its freshness deadline or the next appraisal, whichever is first),
// and a line at the report's "now". Pure: timeline entries (report_model.h) in, markup
// out; the geometry is exposed for tests.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "server/store/store_types.h"

namespace bulwark::server::report {

struct TimelineGeometry {
  double width = 760;
  double height = 150;
  double left = 120;  // room for the lane labels
  double right = 10;
  double top = 10;
  double bottom = 24;  // room for the time axis labels
};

struct TimelinePoint {
  std::int64_t appraisal_id = 0;
  std::string status;  // lane: affirming | warning | contraindicated | none
  Millis at = 0;
  double x = 0;
  double y = 0;
  double fresh_x_end = 0;  // end of the freshness bar
};

// Lanes top to bottom, in this order.
inline constexpr std::string_view kTimelineLanes[] = {"affirming", "warning", "contraindicated",
                                                      "none"};

// Points for `timeline` (oldest first, report_model's "timeline" array) on a time axis
// from the first appraisal to max(now, last freshness deadline). Entries that are not
// objects with integer times are skipped.
std::vector<TimelinePoint> timelinePoints(const nlohmann::json& timeline, Millis now,
                                          const TimelineGeometry& g = {});

// <svg ...>...</svg>; every text HTML-escaped.
std::string timelineSvg(const nlohmann::json& timeline, Millis now, const TimelineGeometry& g = {});

}  // namespace bulwark::server::report
