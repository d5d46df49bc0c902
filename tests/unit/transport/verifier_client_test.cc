// Pure parts of the transport: verifier URLs, error bodies → Error, and the
// protobuf VerifierClient over a scripted HttpClient (no sockets).
#include <gtest/gtest.h>

#include <deque>

#include "agent/transport/http_verifier_client.h"
#include "agent/transport/verifier_error.h"
#include "agent/transport/verifier_url.h"

namespace bulwark::agent {
namespace {

struct UrlCase {
  const char* text;
  bool ok;
  const char* host;
  int port;
  const char* prefix;
  bool is_ip;
};

TEST(VerifierUrl, ParsesTable) {
  const UrlCase cases[] = {
      {"https://verifier.example", true, "verifier.example", 443, "", false},
      {"https://verifier.example:8443", true, "verifier.example", 8443, "", false},
      {"https://10.0.0.5:8443/", true, "10.0.0.5", 8443, "", true},
      {"https://[::1]:9000/bulwark/", true, "::1", 9000, "/bulwark", true},
      {"https://h/a/b//", true, "h", 443, "/a/b", false},
      {"http://verifier.example", false, "", 0, "", false},
      {"verifier.example:8443", false, "", 0, "", false},
      {"https://", false, "", 0, "", false},
      {"https://:8443", false, "", 0, "", false},
      {"https://h:0", false, "", 0, "", false},
      {"https://h:65536", false, "", 0, "", false},
      {"https://h:84x3", false, "", 0, "", false},
      {"https://h:", false, "", 0, "", false},
      {"https://user@h", false, "", 0, "", false},
      {"https://h/x?y=1", false, "", 0, "", false},
      {"https://h/x#f", false, "", 0, "", false},
      {"https://[::1", false, "", 0, "", false},
      {"https://[nothex]:1", false, "", 0, "", false},
      {"https://h/a b", false, "", 0, "", false},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.text);
    auto url = parseVerifierUrl(tc.text);
    ASSERT_EQ(url.has_value(), tc.ok) << (url ? url->toString() : url.error().toString());
    if (!tc.ok) {
      EXPECT_EQ(url.error().code(), ErrorCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(url->host, tc.host);
    EXPECT_EQ(url->port, tc.port);
    EXPECT_EQ(url->path_prefix, tc.prefix);
    EXPECT_EQ(url->host_is_ip, tc.is_ip);
    auto again = parseVerifierUrl(url->toString());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->toString(), url->toString());
  }
}

std::string errorBody(const std::string& code, const std::string& detail) {
  bulwark::v1::ErrorBody b;
  b.set_error(code);
  b.set_detail(detail);
  return b.SerializeAsString();
}

struct ErrorCase {
  const char* name;
  HttpResponse response;
  ErrorCode code;
  std::optional<std::string> server_code;
  const char* in_message;
};

TEST(VerifierError, DecodesTable) {
  const ErrorCase cases[] = {
      {"protobuf body",
       {409, "application/x-protobuf", errorBody("nonce-used", "get a new one")},
       ErrorCode::kInvalidArgument,
       "nonce-used",
       "HTTP 409 nonce-used: get a new one"},
      {"json body",
       {403, "application/json; charset=utf-8", R"({"error":"node-revoked","detail":"re-enroll"})"},
       ErrorCode::kPermission,
       "node-revoked",
       "HTTP 403 node-revoked: re-enroll"},
      {"json message, not a code",
       {501, "application/json", R"({"error":"not implemented yet","status":501})"},
       ErrorCode::kUnavailable,
       "http-501",
       "HTTP 501 http-501: not implemented yet"},
      {"html body",
       {502, "text/html", "<html>\x01 bad gateway</html>"},
       ErrorCode::kUnavailable,
       "http-502",
       "unexpected text/html body: <html>? bad gateway</html>"},
      {"garbage protobuf",
       {400, "application/x-protobuf", std::string("\xff\xff\xff", 3)},
       ErrorCode::kInvalidArgument,
       "http-400",
       "HTTP 400 http-400: unexpected"},
      {"empty body", {404, "", ""}, ErrorCode::kNotFound, "http-404", "HTTP 404 http-404"},
      {"rate limited", {429, "", ""}, ErrorCode::kUnavailable, "http-429", "HTTP 429"},
      {"unauthorized", {401, "", ""}, ErrorCode::kPermission, "http-401", "HTTP 401"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    Error e = verifierError("POST /v1/attest", tc.response);
    EXPECT_EQ(e.code(), tc.code);
    EXPECT_EQ(e.context(), "POST /v1/attest");
    EXPECT_EQ(verifierErrorCode(e), tc.server_code);
    EXPECT_EQ(verifierErrorStatus(e), tc.response.status);
    EXPECT_NE(e.message().find(tc.in_message), std::string::npos) << e.message();
  }
}

TEST(VerifierError, BoundsAndSanitisesHostileBodies) {
  HttpResponse r{500, "text/plain", std::string(100000, '\n')};
  Error e = verifierError("GET /v1/nonce", r);
  EXPECT_LT(e.message().size(), 400u);
  EXPECT_EQ(e.message().find('\n'), std::string::npos);
}

TEST(VerifierError, OtherErrorsCarryNoServerCode) {
  EXPECT_FALSE(verifierErrorCode(Error(ErrorCode::kUnavailable, "timed out", "connect")));
  EXPECT_FALSE(verifierErrorCode(Error(ErrorCode::kUnavailable, "HTTP 40 x: y")));
  EXPECT_FALSE(verifierErrorCode(Error(ErrorCode::kUnavailable, "HTTP 409 Not A Code: y")));
  EXPECT_EQ(verifierErrorStatus(Error(ErrorCode::kIo, "x")), 0);
  EXPECT_FALSE(isNonceError(Error(ErrorCode::kIo, "nonce-used")));
  for (const char* code : {"nonce-unknown", "nonce-expired", "nonce-used", "nonce-foreign"}) {
    EXPECT_TRUE(
        isNonceError(verifierError("x", {409, "application/x-protobuf", errorBody(code, "")})));
  }
  EXPECT_FALSE(isNonceError(
      verifierError("x", {409, "application/x-protobuf", errorBody("quote-invalid", "")})));
}

TEST(VerifierError, LogPrefixUnknownIsOnlyThe409WithThatCode) {
  struct Case {
    int status;
    const char* type;
    std::string body;
    bool expected;
  };
  const Case cases[] = {
      {409, "application/x-protobuf", errorBody("log-prefix-unknown", "send whole logs"), true},
      {409, "application/json", R"({"error":"log-prefix-unknown","detail":"x"})", true},
      {400, "application/x-protobuf", errorBody("log-prefix-unknown", ""), false},
      {409, "application/x-protobuf", errorBody("nonce-unknown", ""), false},
      {409, "application/x-protobuf", errorBody("log-prefix-unknown-2", ""), false},
      {409, "text/plain", "log-prefix-unknown", false},
  };
  for (const Case& c : cases) {
    Error e = verifierError("POST /v1/attest", {c.status, c.type, c.body});
    EXPECT_EQ(isLogPrefixUnknown(e), c.expected) << e.toString();
    EXPECT_FALSE(isNonceError(e) && c.expected);
  }
  EXPECT_FALSE(isLogPrefixUnknown(Error(ErrorCode::kUnavailable, "log-prefix-unknown")));
}

// An HttpClient that answers from a script and records requests.
class ScriptedHttp final : public HttpClient {
 public:
  struct Call {
    std::string method, path, content_type, body;
  };
  std::deque<Result<HttpResponse>> answers;
  std::vector<Call>* calls;
  explicit ScriptedHttp(std::vector<Call>* c) : calls(c) {}
  Result<HttpResponse> post(std::string_view path, std::string_view ct,
                            std::string_view body) override {
    calls->push_back({"POST", std::string(path), std::string(ct), std::string(body)});
    return next();
  }
  Result<HttpResponse> get(std::string_view path) override {
    calls->push_back({"GET", std::string(path), "", ""});
    return next();
  }

 private:
  Result<HttpResponse> next() {
    if (answers.empty()) return fail(ErrorCode::kInternal, "script exhausted");
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
};

HttpResponse proto(const google::protobuf::MessageLite& m) {
  return {200, "application/x-protobuf", m.SerializeAsString()};
}

TEST(HttpVerifierClient, RoutesEachCallToItsPathAndTransport) {
  std::vector<ScriptedHttp::Call> anon_calls, mtls_calls;
  auto anon = std::make_unique<ScriptedHttp>(&anon_calls);
  auto mtls = std::make_unique<ScriptedHttp>(&mtls_calls);
  bulwark::v1::EnrollChallenge challenge;
  challenge.set_enrollment_id("e-1");
  bulwark::v1::EnrollResult result;
  result.set_state("trusted-pending-attestation");
  bulwark::v1::NonceResponse nonce;
  nonce.set_nonce("nnnn");
  bulwark::v1::AttestResponse attest;
  attest.set_next_nonce("next");
  anon->answers.push_back(proto(challenge));
  anon->answers.push_back(proto(result));
  mtls->answers.push_back(proto(nonce));
  mtls->answers.push_back(proto(attest));
  HttpVerifierClient client(std::move(anon), std::move(mtls));

  bulwark::v1::EnrollRequest req;
  req.set_node("node-1");
  auto c = client.enroll(req);
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->enrollment_id(), "e-1");
  auto r = client.activate(bulwark::v1::ActivateRequest{});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->state(), "trusted-pending-attestation");
  auto n = client.nonce();
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->nonce(), "nnnn");
  auto a = client.attest(bulwark::v1::Evidence{});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->next_nonce(), "next");

  ASSERT_EQ(anon_calls.size(), 2u);
  EXPECT_EQ(anon_calls[0].path, "/v1/enroll");
  EXPECT_EQ(anon_calls[0].content_type, "application/x-protobuf");
  bulwark::v1::EnrollRequest sent;
  ASSERT_TRUE(sent.ParseFromString(anon_calls[0].body));
  EXPECT_EQ(sent.node(), "node-1");
  EXPECT_EQ(anon_calls[1].path, "/v1/enroll/activate");
  ASSERT_EQ(mtls_calls.size(), 2u);
  EXPECT_EQ(mtls_calls[0].method, "GET");
  EXPECT_EQ(mtls_calls[0].path, "/v1/nonce");
  EXPECT_EQ(mtls_calls[1].path, "/v1/attest");
}

TEST(HttpVerifierClient, RefusesWrongTypesGarbageAndMissingCertificate) {
  std::vector<ScriptedHttp::Call> calls;
  auto anon = std::make_unique<ScriptedHttp>(&calls);
  anon->answers.push_back(HttpResponse{200, "application/json", "{}"});
  anon->answers.push_back(
      HttpResponse{200, "application/x-protobuf", std::string("\xff\xff\xff", 3)});
  anon->answers.push_back(fail(ErrorCode::kUnavailable, "connection refused", "connect"));
  HttpVerifierClient client(std::move(anon), nullptr);
  auto wrong_type = client.enroll({});
  ASSERT_FALSE(wrong_type.has_value());
  EXPECT_EQ(wrong_type.error().code(), ErrorCode::kMalformed);
  auto garbage = client.enroll({});
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code(), ErrorCode::kMalformed);
  auto down = client.enroll({});
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code(), ErrorCode::kUnavailable);
  auto no_cert = client.attest({});
  ASSERT_FALSE(no_cert.has_value());
  EXPECT_NE(no_cert.error().message().find("enroll first"), std::string::npos);
  EXPECT_FALSE(client.nonce().has_value());
}

}  // namespace
}  // namespace bulwark::agent
