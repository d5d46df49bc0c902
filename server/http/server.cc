#include "server/http/server.h"

#include <future>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>

#include "server/http/log.h"
#include "server/http/session.h"
#include "server/http/tls_context.h"

namespace bulwark::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Result<std::unique_ptr<HttpsServer>> HttpsServer::create(ServerConfig config, Router router,
                                                         std::shared_ptr<Metrics> metrics) {
  auto tls = makeServerTlsContext(config);
  if (!tls) return std::unexpected(tls.error());
  auto core = std::make_shared<ServerCore>(std::move(config), std::move(*tls), std::move(router),
                                           std::move(metrics));
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(core)));
}

HttpsServer::HttpsServer(std::shared_ptr<ServerCore> core)
    : core_(std::move(core)),
      ioc_(static_cast<int>(core_->config.threads)),
      work_(ioc_.get_executor()),
      acceptor_(ioc_) {}

HttpsServer::~HttpsServer() { shutdown(); }

Result<void> HttpsServer::start() {
  boost::system::error_code ec;
  auto address = net::ip::make_address(core_->config.address, ec);
  if (ec) return fail(ErrorCode::kInvalidArgument, "bad listen address: " + ec.message());
  tcp::endpoint endpoint(address, core_->config.port);
  std::string where = core_->config.address + ":" + std::to_string(core_->config.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot listen: " + ec.message(), where);
  port_ = acceptor_.local_endpoint(ec).port();
  accept();
  for (unsigned i = 0; i < core_->config.threads; ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
  started_ = true;
  logEvent(LogLevel::kInfo, "listening",
           {{"address", core_->config.address}, {"port", port_},
            {"threads", core_->config.threads},
            {"mtls", !core_->config.client_ca_file.empty()},
            {"min_tls", core_->config.min_tls == TlsVersion::kTls13 ? "1.3" : "1.2"}});
  return {};
}

void HttpsServer::accept() {
  // Each connection gets its own strand, so its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(ioc_), [this](boost::system::error_code ec,
                                                        tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || core_->stopping) return;
      logEvent(LogLevel::kWarn, "accept failed", {{"error", ec.message()}});
    } else {
      std::make_shared<Session>(std::move(socket), core_)->run();
    }
    if (!core_->stopping) accept();
  });
}

void HttpsServer::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (!started_) return;
  core_->stopping = true;
  closeAcceptor();
  stopSessions();
  {
    std::unique_lock lock(core_->mu);
    bool drained = core_->drained.wait_for(lock, core_->config.shutdown_grace,
                                           [this] { return core_->sessions.empty(); });
    if (!drained) {
      logEvent(LogLevel::kWarn, "grace period over, closing remaining connections",
               {{"open_connections", core_->sessions.size()}});
    }
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  logEvent(LogLevel::kInfo, "stopped");
}

void HttpsServer::closeAcceptor() {
  // The acceptor belongs to the io_context: close it on a worker, wait for that.
  std::promise<void> closed;
  net::post(acceptor_.get_executor(), [this, &closed] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
}

void HttpsServer::stopSessions() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(core_->mu);
    for (auto& [ptr, weak] : core_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  logEvent(LogLevel::kInfo, "shutting down", {{"open_connections", live.size()}});
  // Idle connections close now; busy ones finish their request with Connection: close.
  for (auto& s : live) s->requestStop();
}

void HttpsServer::runUntilSignal() {
  std::promise<int> signalled;
  net::signal_set signals(ioc_, SIGINT, SIGTERM);
  signals.async_wait([&signalled](boost::system::error_code ec, int sig) {
    signalled.set_value(ec ? 0 : sig);
  });
  int sig = signalled.get_future().get();
  logEvent(LogLevel::kInfo, "signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  shutdown();
}

}  // namespace bulwark::server
