// Request metrics in the Prometheus text exposition format (version 0.0.4):
// a counter of requests by route pattern, method and status code, a latency
// histogram per route, and connection-level counters. Route labels are the
// registered patterns ("/v1/nodes/{name}"), never raw paths, so label
// cardinality stays bounded whatever clients send. Thread-safe.
#pragma once

#include <array>
#include <functional>
#include <vector>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace bulwark::server {

class Metrics {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf implied).
  static constexpr std::array<double, 11> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5};

  void observeRequest(std::string_view route, std::string_view method, int status,
                      double seconds);
  void connectionOpened();
  void connectionClosed();
  // reason: "handshake", "timeout", "body_limit", "header_limit", "bad_request"
  void connectionRejected(std::string_view reason);

  std::uint64_t requestCount(std::string_view route, std::string_view method, int status) const;
  std::string render() const;
  // More exposition text (complete # HELP/# TYPE families) appended to render(), e.g. the
  // appraiser's counters; called on every scrape.
  void addSource(std::function<std::string()> source);

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::uint64_t> rejected_;
  std::uint64_t connections_total_ = 0;
  std::int64_t connections_open_ = 0;
  std::vector<std::function<std::string()>> sources_;
};

// Escapes a label value per the exposition format (backslash, quote, newline).
std::string escapeLabelValue(std::string_view v);

}  // namespace bulwark::server
