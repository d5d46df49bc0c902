// One client connection: owns the TLS stream, the read buffer, the parser and
// every timeout (handshake, request header, body, write), in the shape of the
// Boost.Beast async server examples. Requests are handed to the Router as
// plain values. All handlers run on the connection's strand.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "server/http/server_core.h"

namespace bulwark::server {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ServerCore> core);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Registers with the core and starts the TLS handshake.
  void run();
  // Graceful stop: an idle connection (handshaking or waiting for a request)
  // is closed now; a request in progress completes and its response carries
  // "Connection: close". Safe from any thread.
  void requestStop();

 private:
  enum class State { kHandshake, kIdle, kBusy, kClosing };
  using error_code = boost::beast::error_code;

  void onHandshake(error_code ec);
  void readHeader();
  void onHeader(error_code ec);
  void readBody();
  void onBody(error_code ec);
  void dispatch();
  void reject(int status, std::string_view message, std::string_view reason,
              error_code ec = {});
  void send(HttpResponse response, bool keep_alive);
  void onWrite(bool keep_alive, error_code ec);
  void shutdownTls();
  void closeSocket();
  void connectionError(error_code ec, std::string_view phase);

  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  boost::beast::http::response<boost::beast::http::empty_body> continue_;
  std::shared_ptr<ServerCore> core_;
  std::optional<PeerCertificate> peer_;
  std::size_t bodyLimit() const;
  std::string remote_;
  State state_ = State::kHandshake;
  unsigned version_ = 11;  // HTTP version of the current request (10 or 11)
  std::chrono::steady_clock::time_point request_start_;
};

}  // namespace bulwark::server
