// State shared by the listener, every session and the server object: config,
// TLS context, router, metrics, the stop flag and the registry of live
// sessions (for graceful shutdown). Sessions hold a shared_ptr to it, so it
// outlives the last connection whatever the destruction order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <boost/asio/ssl/context.hpp>

#include "server/http/metrics.h"
#include "server/http/router.h"
#include "server/http/server_config.h"

namespace bulwark::server {

class Session;

struct ServerCore {
  ServerCore(ServerConfig c, std::shared_ptr<boost::asio::ssl::context> t, Router r,
             std::shared_ptr<Metrics> m)
      : config(std::move(c)), tls(std::move(t)), router(std::move(r)), metrics(std::move(m)) {}

  ServerConfig config;
  std::shared_ptr<boost::asio::ssl::context> tls;
  Router router;
  std::shared_ptr<Metrics> metrics;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable drained;  // notified when the last session ends
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions;

  void add(const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mu);
    sessions.emplace(s.get(), s);
  }
  void remove(const Session* s) {
    std::lock_guard lock(mu);
    sessions.erase(s);
    if (sessions.empty()) drained.notify_all();
  }
};

}  // namespace bulwark::server
