#include "agent/transport/beast_https_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace bulwark::agent {

namespace {
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Time granted to the TLS close_notify exchange once the response is in hand.
constexpr std::chrono::milliseconds kShutdownGrace{500};

Result<void> check(const beast::error_code& ec, const std::string& what, const std::string& file) {
  if (!ec) return {};
  return fail(ErrorCode::kInvalidArgument, what + ": " + ec.message(), file);
}

Result<void> configureContext(ssl::context& ctx, const HttpsClientOptions& o) {
  SSL_CTX* native = ctx.native_handle();
  // TLS 1.3 only (DESIGN §6): the verifier offers it; anything older is a downgrade.
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
    return fail(ErrorCode::kCrypto, "cannot require TLS 1.3", "SSL_CTX_set_min_proto_version");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (o.ca_file.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "no CA file for the verifier's certificate (verifier.ca_file)");
  }
  beast::error_code ec;
  ctx.load_verify_file(o.ca_file, ec);
  if (auto r = check(ec, "cannot load the verifier CA file", o.ca_file); !r) return r;
  ctx.set_verify_mode(ssl::verify_peer, ec);
  if (auto r = check(ec, "set_verify_mode", o.ca_file); !r) return r;
  if (o.client_cert_file.empty() != o.client_key_file.empty()) {
    return fail(ErrorCode::kInvalidArgument, "client certificate and key must be given together");
  }
  if (!o.client_cert_file.empty()) {
    ctx.use_certificate_chain_file(o.client_cert_file, ec);
    if (auto r = check(ec, "cannot load the client certificate", o.client_cert_file); !r) return r;
    ctx.use_private_key_file(o.client_key_file, ssl::context::pem, ec);
    if (auto r = check(ec, "cannot load the client key", o.client_key_file); !r) return r;
    if (SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      return fail(ErrorCode::kInvalidArgument, "client key does not match the client certificate",
                  o.client_key_file);
    }
  }
  ERR_clear_error();
  return {};
}

std::string hostHeader(const VerifierUrl& url) {
  bool v6 = url.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + url.host + "]" : url.host;
  return url.port == 443 ? host : host + ":" + std::to_string(url.port);
}

// One request/response over a fresh connection, driven as an Asio chain on a
// private io_context so every step shares one deadline (tcp_stream timeouts) and
// the caller stays synchronous.
class Exchange {
 public:
  Exchange(ssl::context& ctx, const HttpsClientOptions& o, http::request<http::string_body> req)
      : options_(o), resolver_(ioc_), stream_(ioc_, ctx), request_(std::move(req)) {
    parser_.body_limit(o.max_response_bytes);
    deadline_ = Clock::now() + o.timeout;
  }

  Result<HttpResponse> run() {
    if (auto r = prepareTls(); !r) return std::unexpected(r.error());
    resolver_.async_resolve(options_.url.host, std::to_string(options_.url.port),
                            [this](beast::error_code ec, tcp::resolver::results_type results) {
                              onResolve(ec, results);
                            });
    // Resolution has no stream timeout; the io_context bound covers it.
    ioc_.run_for(options_.timeout + kShutdownGrace);
    if (!response_ready_ && !error_) {
      return fail(ErrorCode::kUnavailable,
                  "timed out after " + std::to_string(options_.timeout.count()) + " ms", stage_);
    }
    if (!response_ready_) return std::unexpected(*error_);
    const auto& msg = parser_.get();
    HttpResponse out;
    out.status = static_cast<int>(msg.result_int());
    out.content_type = std::string(msg[http::field::content_type]);
    out.body = msg.body();
    return out;
  }

 private:
  Result<void> prepareTls() {
    SSL* ssl = stream_.native_handle();
    const VerifierUrl& url = options_.url;
    if (url.host_is_ip) {
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) != 1) {
        return fail(ErrorCode::kInvalidArgument, "bad IP address", url.host);
      }
    } else {
      // SNI plus RFC 6125 name check of the verifier's certificate.
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      // SSL_set_tlsext_host_name without its old-style cast.
      if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(url.host.c_str())) != 1 ||
          SSL_set1_host(ssl, url.host.c_str()) != 1) {
        ERR_clear_error();
        return fail(ErrorCode::kInvalidArgument, "bad host name", url.host);
      }
    }
    return {};
  }

  void failWith(const beast::error_code& ec) {
    if (error_ || response_ready_) return;
    std::string message =
        ec == beast::error::timeout
            ? "timed out after " + std::to_string(options_.timeout.count()) + " ms"
            : ec.message();
    ErrorCode code = ErrorCode::kUnavailable;
    if (ec == http::error::body_limit) {
      code = ErrorCode::kMalformed;
      message =
          "response body larger than " + std::to_string(options_.max_response_bytes) + " bytes";
    } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category()) {
      code = ErrorCode::kMalformed;
      message = "not a valid HTTP response: " + ec.message();
    }
    if (stage_ == "TLS handshake") {
      long verify = SSL_get_verify_result(stream_.native_handle());
      if (verify != X509_V_OK) {
        message += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
      }
    }
    ERR_clear_error();
    error_ = Error(code, message, stage_ + " " + options_.url.toString());
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void onResolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (ec) return failWith(ec);
    stage_ = "connect";
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    beast::get_lowest_layer(stream_).async_connect(
        results, [this](beast::error_code e, const tcp::endpoint&) { onConnect(e); });
  }

  void onConnect(beast::error_code ec) {
    if (ec) return failWith(ec);
    stage_ = "TLS handshake";
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    stream_.async_handshake(ssl::stream_base::client,
                            [this](beast::error_code e) { onHandshake(e); });
  }

  void onHandshake(beast::error_code ec) {
    if (ec) return failWith(ec);
    stage_ = "send request";
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    http::async_write(stream_, request_, [this](beast::error_code e, std::size_t) { onWrite(e); });
  }

  void onWrite(beast::error_code ec) {
    if (ec) return failWith(ec);
    stage_ = "read response";
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    http::async_read_header(stream_, buffer_, parser_,
                            [this](beast::error_code e, std::size_t) { onHeader(e); });
  }

  // Beast 1.74's eager parser loses body_limit's error for a Content-Length body
  // (basic_parser::put continues after finish_header), so the declared length is
  // checked here before any of the body is read.
  void onHeader(beast::error_code ec) {
    if (ec) return failWith(ec);
    auto length = parser_.content_length();
    if (length && *length > options_.max_response_bytes) {
      return failWith(http::make_error_code(http::error::body_limit));
    }
    http::async_read(stream_, buffer_, parser_,
                     [this](beast::error_code e, std::size_t) { onRead(e); });
  }

  void onRead(beast::error_code ec) {
    if (ec) return failWith(ec);
    response_ready_ = true;
    // Polite close_notify; its outcome does not matter, the response is complete.
    beast::get_lowest_layer(stream_).expires_after(kShutdownGrace);
    stream_.async_shutdown([this](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().close(ignored);
    });
  }

  const HttpsClientOptions& options_;
  net::io_context ioc_;
  tcp::resolver resolver_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  Clock::time_point deadline_;
  std::string stage_ = "resolve";
  std::optional<Error> error_;
  bool response_ready_ = false;
};

}  // namespace

class BeastHttpsClient::Impl {
 public:
  explicit Impl(HttpsClientOptions o) : options(std::move(o)), ctx(ssl::context::tls_client) {}

  Result<HttpResponse> request(http::verb verb, std::string_view path,
                               std::string_view content_type, std::string_view body) {
    if (!path.starts_with('/')) {
      return fail(ErrorCode::kInvalidArgument, "request path must start with '/'",
                  std::string(path));
    }
    std::string target = options.url.path_prefix + std::string(path);
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, hostHeader(options.url));
    req.set(http::field::user_agent, options.user_agent);
    req.set(http::field::accept, "application/x-protobuf");
    if (verb == http::verb::post) {
      req.set(http::field::content_type, std::string(content_type));
      req.body() = std::string(body);
    }
    req.prepare_payload();
    Exchange exchange(ctx, options, std::move(req));
    auto result = exchange.run();
    if (!result) result.error().within(std::string(http::to_string(verb)) + " " + target);
    return result;
  }

  HttpsClientOptions options;
  ssl::context ctx;
};

Result<std::unique_ptr<BeastHttpsClient>> BeastHttpsClient::create(HttpsClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto r = configureContext(impl->ctx, impl->options); !r) return std::unexpected(r.error());
  return std::unique_ptr<BeastHttpsClient>(new BeastHttpsClient(std::move(impl)));
}

BeastHttpsClient::BeastHttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BeastHttpsClient::~BeastHttpsClient() = default;

Result<HttpResponse> BeastHttpsClient::post(std::string_view path, std::string_view content_type,
                                            std::string_view body) {
  return impl_->request(http::verb::post, path, content_type, body);
}

Result<HttpResponse> BeastHttpsClient::get(std::string_view path) {
  return impl_->request(http::verb::get, path, {}, {});
}

}  // namespace bulwark::agent
