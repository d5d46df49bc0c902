// BeastHttpsClient against a real local TLS server with a CA minted in the test:
// TLS 1.3 only, server certificate chain and name checks, mTLS, deadlines, body
// limits, and protobuf error bodies decoded end to end.
#include <gtest/gtest.h>

#include <chrono>

#include "agent/transport/beast_https_client.h"
#include "agent/transport/http_verifier_client.h"
#include "agent/transport/verifier_error.h"
#include "bulwark/v1/enrollment.pb.h"
#include "tests/unit/transport/test_tls_server.h"

namespace bulwark::agent {
namespace {

using testserver::Reply;
using testserver::Seen;
using testserver::TlsServer;
using namespace std::chrono_literals;

Reply ok(std::string body = "pong") { return Reply{.status = 200, .body = std::move(body)}; }

class HttpsClientTest : public ::testing::Test {
 protected:
  HttpsClientOptions options(std::uint16_t port, std::string host = "127.0.0.1") {
    HttpsClientOptions o;
    auto url = parseVerifierUrl("https://" + host + ":" + std::to_string(port) + "/base");
    EXPECT_TRUE(url.has_value());
    o.url = *url;
    o.ca_file = pki_.cert("server-ca");
    o.timeout = 5s;
    return o;
  }
  std::unique_ptr<BeastHttpsClient> client(const HttpsClientOptions& o) {
    auto c = BeastHttpsClient::create(o);
    EXPECT_TRUE(c.has_value()) << c.error().toString();
    return c ? std::move(*c) : nullptr;
  }
  testpki::Pki pki_;
};

TEST_F(HttpsClientTest, PostsOverTls13AndReturnsTheResponse) {
  TlsServer server(pki_, [](const Seen& s) { return ok("echo:" + s.body); });
  auto c = client(options(server.port()));
  auto r = c->post("/v1/thing", "application/x-protobuf", std::string("\x01\x00\x02", 3));
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "application/x-protobuf");
  EXPECT_EQ(r->body, std::string("echo:\x01\x00\x02", 8));
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].tls_version, TLS1_3_VERSION);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/base/v1/thing");
  EXPECT_EQ(seen[0].content_type, "application/x-protobuf");
  EXPECT_EQ(seen[0].accept, "application/x-protobuf");
  EXPECT_EQ(seen[0].host, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen[0].client_cn, "");  // no client certificate configured
}

TEST_F(HttpsClientTest, GetsAndReusesTheClientForSeveralRequests) {
  TlsServer server(pki_, [](const Seen& s) { return ok(s.method + " " + s.target); });
  auto c = client(options(server.port()));
  for (int i = 0; i < 3; ++i) {
    auto r = c->get("/v1/nonce");
    ASSERT_TRUE(r.has_value()) << r.error().toString();
    EXPECT_EQ(r->body, "GET /base/v1/nonce");
  }
  EXPECT_EQ(server.seen().size(), 3u);
}

TEST_F(HttpsClientTest, PresentsTheClientCertificateForMtls) {
  TlsServer server(pki_, [](const Seen&) { return ok(); });
  auto o = options(server.port());
  o.client_cert_file = pki_.cert("agent");
  o.client_key_file = pki_.key("agent");
  auto r = client(o)->get("/v1/nonce");
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].client_cn, "node-1");
}

TEST_F(HttpsClientTest, ConnectsByDnsNameInTheCertificate) {
  TlsServer server(pki_, [](const Seen&) { return ok(); });
  auto r = client(options(server.port(), "localhost"))->get("/x");
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_EQ(r->status, 200);
}

struct HandshakeFailure {
  const char* name;
  std::string server_cert;
  int server_max_tls;
  std::string client_ca;
  const char* expect_in_message;
};

TEST_F(HttpsClientTest, RefusesUntrustedWrongNameAndOldTls) {
  const HandshakeFailure cases[] = {
      {"untrusted CA", "server", 0, "rogue-ca", "certificate verify failed"},
      {"name mismatch", "other-name", 0, "server-ca", "address mismatch"},
      {"TLS 1.2 server", "server", TLS1_2_VERSION, "server-ca", "TLS handshake"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    TlsServer server(pki_, [](const Seen&) { return ok(); },
                     {.cert = tc.server_cert, .max_tls = tc.server_max_tls});
    auto o = options(server.port());
    o.ca_file = pki_.cert(tc.client_ca);
    auto r = client(o)->get("/v1/nonce");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(r.error().toString().find(tc.expect_in_message), std::string::npos)
        << r.error().toString();
    EXPECT_TRUE(server.seen().empty()) << "no request may reach an unverified server";
  }
}

TEST_F(HttpsClientTest, TimesOutOnASilentServer) {
  TlsServer server(pki_, [](const Seen&) {
    Reply r;
    r.hang = true;
    return r;
  });
  auto o = options(server.port());
  o.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto r = client(o)->get("/v1/nonce");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().toString().find("timed out"), std::string::npos) << r.error().toString();
  EXPECT_NE(r.error().toString().find("read response"), std::string::npos) << r.error().toString();
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
}

TEST_F(HttpsClientTest, RefusesAResponseBodyOverTheLimit) {
  TlsServer server(pki_, [](const Seen&) { return ok(std::string(2000, 'x')); });
  auto o = options(server.port());
  o.max_response_bytes = 1000;
  auto r = client(o)->get("/big");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(r.error().message().find("larger than 1000"), std::string::npos)
      << r.error().toString();
  o.max_response_bytes = 2000;
  auto fits = client(o)->get("/big");
  ASSERT_TRUE(fits.has_value()) << fits.error().toString();
  EXPECT_EQ(fits->body.size(), 2000u);
}

TEST_F(HttpsClientTest, ConnectionRefusedIsUnavailable) {
  std::uint16_t port = 0;
  {
    TlsServer server(pki_, [](const Seen&) { return ok(); });
    port = server.port();
  }
  auto r = client(options(port))->get("/v1/nonce");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().context().find("connect"), std::string::npos) << r.error().toString();
}

TEST_F(HttpsClientTest, BadCredentialsFailAtCreation) {
  auto o = options(1);
  o.ca_file = pki_.dir().string() + "/missing.pem";
  EXPECT_FALSE(BeastHttpsClient::create(o).has_value());
  o = options(1);
  o.client_cert_file = pki_.cert("agent");
  o.client_key_file = pki_.key("server");  // another certificate's key
  auto mismatch = BeastHttpsClient::create(o);
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_NE(mismatch.error().message().find("client key"), std::string::npos)
      << mismatch.error().toString();
  o = options(1);
  o.client_cert_file = pki_.cert("agent");  // key missing
  EXPECT_FALSE(BeastHttpsClient::create(o).has_value());
  o = options(1);
  o.ca_file.clear();
  EXPECT_FALSE(BeastHttpsClient::create(o).has_value());
}

TEST_F(HttpsClientTest, VerifierErrorBodyIsDecodedEndToEnd) {
  bulwark::v1::ErrorBody body;
  body.set_error("nonce-used");
  body.set_detail("this nonce was already used; fetch a new one with GET /v1/nonce");
  TlsServer server(
      pki_, [&](const Seen&) { return Reply{.status = 409, .body = body.SerializeAsString()}; });
  auto o = options(server.port());
  o.client_cert_file = pki_.cert("agent");
  o.client_key_file = pki_.key("agent");
  HttpVerifierClient verifier(client(options(server.port())), client(o));
  auto r = verifier.attest(bulwark::v1::Evidence{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(verifierErrorCode(r.error()), "nonce-used");
  EXPECT_EQ(verifierErrorStatus(r.error()), 409);
  EXPECT_TRUE(isNonceError(r.error()));
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("fetch a new one"), std::string::npos);
  EXPECT_EQ(server.seen().at(0).target, "/base/v1/attest");
  EXPECT_EQ(server.seen().at(0).client_cn, "node-1");
}

}  // namespace
}  // namespace bulwark::agent
