#include "server/ctl/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <optional>
#include <regex>

namespace bulwark::ctl {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  HttpClientOptions options;
  std::string host;
  std::string port;
  net::io_context ioc;
  ssl::context tls{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;

  // Beast's tcp_stream deadline (expires_after) applies only to asynchronous
  // operations: a synchronous handshake or read against a server that accepts TCP
  // and never answers would block forever. Every network step is therefore an
  // async operation run to completion on this thread's io_context.
  template <typename Start>
  beast::error_code runAsync(Start start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  Result<void> connect() {
    stream.emplace(ioc, tls);
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return fail(ErrorCode::kUnavailable, "cannot resolve " + host + ": " + ec.message());
    beast::get_lowest_layer(*stream).expires_after(options.timeout);
    ec = runAsync([&](auto handler) {
      beast::get_lowest_layer(*stream).async_connect(endpoints, std::move(handler));
    });
    if (ec)
      return fail(ErrorCode::kUnavailable,
                  "cannot connect to " + host + ":" + port + ": " + ec.message());
    // SNI (RFC 6066 §3: host names only, never IP literals) and hostname
    // verification (RFC 6125) against the URL's host.
    beast::error_code ip_ec;
    net::ip::make_address(host, ip_ec);
    if (ip_ec && SSL_ctrl(stream->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                          TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) != 1) {
      return fail(ErrorCode::kCrypto, "SNI setup failed");
    }
    stream->set_verify_callback(ssl::host_name_verification(host));
    beast::get_lowest_layer(*stream).expires_after(options.timeout);
    ec = runAsync([&](auto handler) {
      stream->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (ec) return fail(ErrorCode::kCrypto, "TLS handshake with " + host + ": " + ec.message());
    return {};
  }

  void close() {
    if (!stream) return;
    beast::error_code ignored;
    beast::get_lowest_layer(*stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.reset();
  }

  Result<HttpReply> once(const http::request<http::string_body>& req) {
    beast::error_code ec;
    beast::get_lowest_layer(*stream).expires_after(options.timeout);
    ec = runAsync([&](auto handler) { http::async_write(*stream, req, std::move(handler)); });
    if (ec) return fail(ErrorCode::kIo, "sending request: " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    beast::get_lowest_layer(*stream).expires_after(options.timeout);
    ec = runAsync(
        [&](auto handler) { http::async_read(*stream, buffer, parser, std::move(handler)); });
    if (ec) return fail(ErrorCode::kIo, "reading response: " + ec.message());
    auto& res = parser.get();
    HttpReply reply{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
                    res.body()};
    if (!res.keep_alive()) close();
    return reply;
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() {
  if (impl_) impl_->close();
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(const HttpClientOptions& options) {
  static const std::regex kUrl(
      R"(^https://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(options.url, m, kUrl)) {
    return fail(ErrorCode::kInvalidArgument, "verifier URL must look like https://host:port",
                options.url);
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->host = m[1].str();
  if (impl->host.front() == '[') impl->host = impl->host.substr(1, impl->host.size() - 2);
  impl->port = m[2].matched ? m[2].str() : "443";
  SSL_CTX_set_min_proto_version(impl->tls.native_handle(), TLS1_2_VERSION);
  impl->tls.set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (options.cacert.empty()) {
    impl->tls.set_default_verify_paths(ec);
  } else {
    impl->tls.load_verify_file(options.cacert, ec);
  }
  if (ec) return fail(ErrorCode::kIo, "CA file: " + ec.message(), options.cacert);
  if (!options.client_cert.empty()) {
    impl->tls.use_certificate_chain_file(options.client_cert, ec);
    if (ec) return fail(ErrorCode::kIo, "client certificate: " + ec.message(), options.client_cert);
    impl->tls.use_private_key_file(options.client_key, ssl::context::pem, ec);
    if (ec) return fail(ErrorCode::kIo, "client key: " + ec.message(), options.client_key);
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpReply> HttpClient::request(const std::string& method, const std::string& target,
                                      const std::string& body, const std::string& content_type,
                                      const std::string& accept) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, impl_->host);
  req.set(http::field::user_agent, "bulwarkctl/0.1.0");
  req.set(http::field::accept, accept);
  if (!impl_->options.token.empty())
    req.set(http::field::authorization, "Bearer " + impl_->options.token);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type, content_type);
    req.body() = body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  // A kept-alive connection may have been closed by the server's idle timeout:
  // retry once on a fresh connection when the reused one fails.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->stream.has_value();
    if (!reused) {
      if (auto c = impl_->connect(); !c) {
        impl_->stream.reset();
        return std::unexpected(c.error());
      }
    }
    auto reply = impl_->once(req);
    if (reply) return reply;
    impl_->close();
    if (!reused) return reply;
  }
  return fail(ErrorCode::kIo, "request failed");
}

}  // namespace bulwark::ctl
