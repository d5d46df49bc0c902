#include "server/report/timeline.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "server/report/html_escape.h"
#include "server/report/report_model.h"

namespace bulwark::server::report {

namespace {
using nlohmann::json;

std::size_t laneOf(std::string_view status) {
  for (std::size_t i = 0; i < std::size(kTimelineLanes); ++i) {
    if (kTimelineLanes[i] == status) return i;
  }
  return std::size(kTimelineLanes) - 1;  // unknown → "none": never drawn as trust
}

std::string_view colorOf(std::string_view status) {
  if (status == "affirming") return "#1a7f37";
  if (status == "warning") return "#9a6700";
  if (status == "contraindicated") return "#cf222e";
  return "#57606a";
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Axis {
  Millis t0 = 0;
  Millis t1 = 1;
  double x0 = 0;
  double w = 1;
  double x(Millis t) const {
    return x0 + w * static_cast<double>(t - t0) / static_cast<double>(t1 - t0);
  }
};

bool timed(const json& e) {
  return e.is_object() && e.contains("appraised_at_unix_ms") &&
         e["appraised_at_unix_ms"].is_number_integer() && e.contains("fresh_until_unix_ms") &&
         e["fresh_until_unix_ms"].is_number_integer();
}

Axis axisFor(const json& timeline, Millis now, const TimelineGeometry& g) {
  Axis a;
  a.t0 = now;
  a.t1 = now;
  for (const json& e : timeline) {
    if (!timed(e)) continue;
    a.t0 = std::min(a.t0, e["appraised_at_unix_ms"].get<Millis>());
    a.t1 = std::max(a.t1, e["fresh_until_unix_ms"].get<Millis>());
  }
  if (a.t1 <= a.t0) a.t1 = a.t0 + 1;
  a.x0 = g.left;
  a.w = std::max(1.0, g.width - g.left - g.right);
  return a;
}

double laneY(std::size_t lane, const TimelineGeometry& g) {
  double lane_h = (g.height - g.top - g.bottom) / static_cast<double>(std::size(kTimelineLanes));
  return g.top + lane_h * (static_cast<double>(lane) + 0.5);
}
}  // namespace

std::vector<TimelinePoint> timelinePoints(const json& timeline, Millis now,
                                          const TimelineGeometry& g) {
  std::vector<TimelinePoint> out;
  if (!timeline.is_array()) return out;
  Axis axis = axisFor(timeline, now, g);
  for (std::size_t i = 0; i < timeline.size(); ++i) {
    const json& e = timeline[i];
    if (!timed(e)) continue;
    TimelinePoint p;
    p.appraisal_id = e.value("appraisal_id", std::int64_t{0});
    p.status = e.value("status", "none");
    p.at = e["appraised_at_unix_ms"].get<Millis>();
    Millis end = e["fresh_until_unix_ms"].get<Millis>();
    if (i + 1 < timeline.size() && timed(timeline[i + 1])) {
      end = std::min(end, timeline[i + 1]["appraised_at_unix_ms"].get<Millis>());
    }
    p.x = axis.x(p.at);
    p.fresh_x_end = axis.x(std::max(end, p.at));
    p.y = laneY(laneOf(p.status), g);
    out.push_back(std::move(p));
  }
  return out;
}

std::string timelineSvg(const json& timeline, Millis now, const TimelineGeometry& g) {
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" role=\"img\" "
      "aria-label=\"trust timeline\" width=\"" +
      num(g.width) + "\" height=\"" + num(g.height) + "\" viewBox=\"0 0 " + num(g.width) + " " +
      num(g.height) + "\">";
  for (std::size_t lane = 0; lane < std::size(kTimelineLanes); ++lane) {
    std::string y = num(laneY(lane, g));
    s += "<text x=\"4\" y=\"" + y + "\" dy=\"4\" class=\"lane\">" +
         std::string(kTimelineLanes[lane]) + "</text><line x1=\"" + num(g.left) + "\" x2=\"" +
         num(g.width - g.right) + "\" y1=\"" + y + "\" y2=\"" + y + "\" class=\"grid\"/>";
  }
  for (const TimelinePoint& p : timelinePoints(timeline, now, g)) {
    std::string color(colorOf(p.status));
    std::string title =
        "#" + std::to_string(p.appraisal_id) + " " + p.status + " at " + utcTime(p.at);
    s += "<g><title>" + htmlEscape(title) + "</title><rect x=\"" + num(p.x) + "\" y=\"" +
         num(p.y - 4) + "\" width=\"" + num(std::max(1.0, p.fresh_x_end - p.x)) +
         "\" height=\"8\" fill=\"" + color + "\" fill-opacity=\"0.3\"/><circle cx=\"" + num(p.x) +
         "\" cy=\"" + num(p.y) + "\" r=\"4\" fill=\"" + color + "\"/></g>";
  }
  Axis axis = axisFor(timeline, now, g);
  std::string nx = num(axis.x(now)), base = num(g.height - g.bottom);
  s += "<line x1=\"" + nx + "\" x2=\"" + nx + "\" y1=\"" + num(g.top) + "\" y2=\"" + base +
       "\" class=\"now\"/>";
  s += "<text x=\"" + num(g.left) + "\" y=\"" + num(g.height - 6) + "\" class=\"axis\">" +
       htmlEscape(utcTime(axis.t0)) + "</text><text x=\"" + num(g.width - g.right) + "\" y=\"" +
       num(g.height - 6) + "\" text-anchor=\"end\" class=\"axis\">" + htmlEscape(utcTime(axis.t1)) +
       "</text></svg>";
  return s;
}

}  // namespace bulwark::server::report
