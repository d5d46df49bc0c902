// Content negotiation and the Prometheus text exposition format.
#include <gtest/gtest.h>

#include <sstream>

#include "server/http/content_type.h"
#include "server/http/metrics.h"

namespace bulwark::server {
namespace {

TEST(ContentNegotiation, AcceptHeaderTable) {
  struct Case {
    std::optional<std::string_view> accept;
    std::optional<std::string_view> want;
  };
  const Case kCases[] = {
      {std::nullopt, kProtobuf},
      {"", kProtobuf},
      {"application/json", kJson},
      {"application/x-protobuf", kProtobuf},
      {"APPLICATION/JSON", kJson},
      {"text/html, application/json;q=0.9", kJson},
      {"application/json;q=0.5, application/x-protobuf;q=0.8", kProtobuf},
      {"application/x-protobuf;q=0, */*", kJson},
      {"application/*;q=0.3, application/json", kJson},
      {"*/*", kProtobuf},
      {"text/html", std::nullopt},
      {"application/json;q=0", std::nullopt},
      {"application/json;q=2", std::nullopt},  // malformed q: range ignored
      {"application/json;q=abc, application/x-protobuf", kProtobuf},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(negotiate(c.accept, {kProtobuf, kJson}), c.want) << c.accept.value_or("<none>");
  }
  EXPECT_TRUE(isMediaType("application/x-protobuf; charset=binary", kProtobuf));
  EXPECT_TRUE(isMediaType(" Application/JSON", kJson));
  EXPECT_FALSE(isMediaType("application/jsonx", kJson));
  EXPECT_FALSE(isMediaType(std::nullopt, kJson));
}

TEST(Metrics, PrometheusTextFormat) {
  Metrics m;
  m.observeRequest("/v1/nodes/{name}", "GET", 200, 0.003);
  m.observeRequest("/v1/nodes/{name}", "GET", 200, 0.2);
  m.observeRequest("/v1/nodes/{name}", "GET", 404, 5.0);
  m.observeRequest("we\"ird\\\n", "GET", 200, 0);
  m.connectionOpened();
  m.connectionOpened();
  m.connectionClosed();
  m.connectionRejected("timeout");
  EXPECT_EQ(m.requestCount("/v1/nodes/{name}", "GET", 200), 2u);
  std::string text = m.render();
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << text;
  };
  has("# TYPE bulwark_http_requests_total counter");
  has(R"(bulwark_http_requests_total{route="/v1/nodes/{name}",method="GET",code="200"} 2)");
  has(R"(bulwark_http_requests_total{route="/v1/nodes/{name}",method="GET",code="404"} 1)");
  has("# TYPE bulwark_http_request_duration_seconds histogram");
  // Cumulative buckets: 0.003 falls in le=0.005 and above; 0.2 in le=0.25 and above.
  has(R"(bulwark_http_request_duration_seconds_bucket{route="/v1/nodes/{name}",le="0.0025"} 0)");
  has(R"(bulwark_http_request_duration_seconds_bucket{route="/v1/nodes/{name}",le="0.005"} 1)");
  has(R"(bulwark_http_request_duration_seconds_bucket{route="/v1/nodes/{name}",le="0.25"} 2)");
  has(R"(bulwark_http_request_duration_seconds_bucket{route="/v1/nodes/{name}",le="2.5"} 2)");
  has(R"(bulwark_http_request_duration_seconds_bucket{route="/v1/nodes/{name}",le="+Inf"} 3)");
  has(R"(bulwark_http_request_duration_seconds_count{route="/v1/nodes/{name}"} 3)");
  has(R"(bulwark_http_requests_total{route="we\"ird\\\n",method="GET",code="200"} 1)");
  has("bulwark_http_connections_total 2");
  has("bulwark_http_connections_open 1");
  has(R"(bulwark_http_connections_rejected_total{reason="timeout"} 1)");
  // Every sample line is "name{labels} value" or "name value".
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#")) continue;
    EXPECT_NE(line.rfind(' '), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace bulwark::server
