#include "server/http/metrics.h"

#include <charconv>

namespace bulwark::server {

namespace {
// Shortest text that reads back as the same double ("0.005", not "0.0050000000000000001").
std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void header(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}
}  // namespace

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::observeRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  Histogram& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::connectionOpened() {
  std::lock_guard lock(mu_);
  ++connections_total_;
  ++connections_open_;
}

void Metrics::connectionClosed() {
  std::lock_guard lock(mu_);
  --connections_open_;
}

void Metrics::connectionRejected(std::string_view reason) {
  std::lock_guard lock(mu_);
  ++rejected_[std::string(reason)];
}

std::uint64_t Metrics::requestCount(std::string_view route, std::string_view method,
                                    int status) const {
  std::lock_guard lock(mu_);
  auto it = requests_.find({std::string(route), std::string(method), status});
  return it == requests_.end() ? 0 : it->second;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  header(out, "bulwark_http_requests_total", "counter",
         "HTTP requests by route pattern, method and status code.");
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += "bulwark_http_requests_total{route=\"" + escapeLabelValue(route) + "\",method=\"" +
           escapeLabelValue(method) + "\",code=\"" + std::to_string(status) + "\"} " +
           std::to_string(n) + "\n";
  }
  header(out, "bulwark_http_request_duration_seconds", "histogram",
         "Time from complete request to response ready, by route pattern.");
  for (const auto& [route, h] : latency_) {
    std::string label = "route=\"" + escapeLabelValue(route) + "\"";
    std::string name = "bulwark_http_request_duration_seconds";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += name + "_bucket{" + label + ",le=\"" + number(kBuckets[i]) + "\"} " +
             std::to_string(h.buckets[i]) + "\n";
    }
    out += name + "_bucket{" + label + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += name + "_sum{" + label + "} " + number(h.sum) + "\n";
    out += name + "_count{" + label + "} " + std::to_string(h.count) + "\n";
  }
  header(out, "bulwark_http_connections_total", "counter", "Accepted TCP connections.");
  out += "bulwark_http_connections_total " + std::to_string(connections_total_) + "\n";
  header(out, "bulwark_http_connections_open", "gauge", "Connections currently open.");
  out += "bulwark_http_connections_open " + std::to_string(connections_open_) + "\n";
  header(out, "bulwark_http_connections_rejected_total", "counter",
         "Connections closed early, by reason (handshake, timeout, body_limit, ...).");
  for (const auto& [reason, n] : rejected_) {
    out += "bulwark_http_connections_rejected_total{reason=\"" + escapeLabelValue(reason) +
           "\"} " + std::to_string(n) + "\n";
  }
  for (const auto& source : sources_) out += source();
  return out;
}

void Metrics::addSource(std::function<std::string()> source) {
  std::lock_guard lock(mu_);
  sources_.push_back(std::move(source));
}

}  // namespace bulwark::server
