// The verifier's HTTPS server: an acceptor on an Asio io_context run by N
// threads, one Session per connection, and graceful shutdown (stop accepting,
// close idle keep-alive connections, let in-flight requests finish within the
// grace period, then stop). Handlers come from the Router; this class knows
// nothing about routes.
#pragma once

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "attest/core/error.h"
#include "server/http/server_core.h"

namespace bulwark::server {

class HttpsServer {
 public:
  // Loads TLS material; nothing is bound yet. Errors name the file or setting.
  static Result<std::unique_ptr<HttpsServer>> create(ServerConfig config, Router router,
                                                     std::shared_ptr<Metrics> metrics);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Binds, listens and starts the worker threads. Returns once accepting.
  Result<void> start();
  // The bound port (useful with port 0).
  std::uint16_t port() const { return port_; }
  // Graceful stop (see class comment). Blocking, idempotent, any thread except
  // a worker thread.
  void shutdown();
  // Blocks until SIGTERM or SIGINT, then shutdown().
  void runUntilSignal();

 private:
  explicit HttpsServer(std::shared_ptr<ServerCore> core);
  void accept();
  void closeAcceptor();
  void stopSessions();

  std::shared_ptr<ServerCore> core_;
  boost::asio::io_context ioc_;
  // Keeps the worker threads in run() while nothing is pending, so work posted
  // during shutdown (stop requests to sessions) always finds a thread.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace bulwark::server
