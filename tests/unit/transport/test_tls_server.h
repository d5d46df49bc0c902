// A small blocking Beast HTTPS server on 127.0.0.1:0 for transport tests. Each
// connection: TLS handshake, read one request, record what the server saw
// (TLS version, client certificate CN, method, target, headers, body), answer
// with the handler's response, or hang until the server stops.
#pragma once

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/transport/test_pki.h"

namespace bulwark::testserver {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct Seen {
  int tls_version = 0;
  std::string client_cn;  // "" when no client certificate was presented
  std::string method;
  std::string target;
  std::string content_type;
  std::string accept;
  std::string host;
  std::string body;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/x-protobuf";
  std::string body;
  bool hang = false;  // never answer (timeout tests)
};

struct ServerOptions {
  std::string cert = "server";  // name in the Pki
  int max_tls = 0;              // e.g. TLS1_2_VERSION; 0 = library default
  std::string client_ca = "agent-ca";
};

class TlsServer {
 public:
  using Handler = std::function<Reply(const Seen&)>;

  TlsServer(const testpki::Pki& pki, Handler handler, ServerOptions opt = {})
      : ctx_(ssl::context::tls_server), acceptor_(ioc_), handler_(std::move(handler)) {
    ctx_.use_certificate_chain_file(pki.cert(opt.cert));
    ctx_.use_private_key_file(pki.key(opt.cert), ssl::context::pem);
    if (opt.max_tls) SSL_CTX_set_max_proto_version(ctx_.native_handle(), opt.max_tls);
    ctx_.load_verify_file(pki.cert(opt.client_ca));
    ctx_.set_verify_mode(ssl::verify_peer);  // ask, do not require
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }

  ~TlsServer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    // Unblock accept() with one last connection.
    net::io_context ioc;
    tcp::socket s(ioc);
    beast::error_code ec;
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void serve() {
    for (;;) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      if (ec) continue;
      handle(std::move(socket));
    }
  }

  void handle(tcp::socket socket) {
    timeval tv{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    beast::ssl_stream<tcp::socket> stream(std::move(socket), ctx_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    Seen seen{.tls_version = SSL_version(stream.native_handle()),
              .client_cn = peerCn(stream.native_handle()),
              .method = std::string(req.method_string()),
              .target = std::string(req.target()),
              .content_type = std::string(req[http::field::content_type]),
              .accept = std::string(req[http::field::accept]),
              .host = std::string(req[http::field::host]),
              .body = req.body()};
    {
      std::lock_guard lock(mu_);
      seen_.push_back(seen);
    }
    Reply reply = handler_(seen);
    if (reply.hang) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_; });
      return;
    }
    http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
    if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
    res.body() = reply.body;
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }

  static std::string peerCn(SSL* ssl) {
    X509* peer = SSL_get1_peer_certificate(ssl);
    if (peer == nullptr) return {};
    char buf[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof buf);
    X509_free(peer);
    return buf;
  }

  net::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  Handler handler_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<Seen> seen_;
};

}  // namespace bulwark::testserver
