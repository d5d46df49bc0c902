#include "server/http/session.h"

#include <boost/asio/dispatch.hpp>

#include <algorithm>
#include <array>
#include <cctype>

#include "server/http/log.h"
#include "server/http/tls_context.h"

namespace bulwark::server {

namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// Bound on the wait for the peer's close_notify and on draining after a reject.
constexpr std::chrono::seconds kCloseTimeout{2};
constexpr std::size_t kMaxDrainBytes = 1u << 20;

// A malformed request (answered 400), as opposed to the peer going away.
bool isParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::need_more && ec != http::error::need_buffer;
}

bool isPeerGone(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == ssl::error::stream_truncated || ec == net::error::connection_reset ||
         ec == net::error::operation_aborted;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

HttpRequest toRequest(http::request<http::string_body>&& msg, std::string remote,
                      std::optional<PeerCertificate> peer) {
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    auto name = field.name_string();
    req.headers.emplace_back(lower(std::string_view(name.data(), name.size())),
                             std::string(field.value()));
  }
  req.body = std::move(msg.body());
  req.remote = std::move(remote);
  req.peer = std::move(peer);
  return req;
}
}  // namespace

Session::Session(tcp::socket&& socket, std::shared_ptr<ServerCore> core)
    : stream_(std::move(socket), *core->tls), core_(std::move(core)) {
  beast::error_code ec;
  auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
  remote_ = ec ? "unknown" : ep.address().to_string() + ":" + std::to_string(ep.port());
  core_->metrics->connectionOpened();
}

Session::~Session() {
  core_->metrics->connectionClosed();
  core_->remove(this);
}

void Session::run() {
  core_->add(shared_from_this());
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->core_->stopping) return self->closeSocket();
    beast::get_lowest_layer(self->stream_).expires_after(self->core_->config.handshake_timeout);
    self->stream_.async_handshake(ssl::stream_base::server,
                                  [self](beast::error_code ec) { self->onHandshake(ec); });
  });
}

void Session::requestStop() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    logEvent(LogLevel::kDebug, "stop requested",
             {{"remote", self->remote_}, {"state", static_cast<int>(self->state_)}});
    if (self->state_ == State::kHandshake || self->state_ == State::kIdle) self->closeSocket();
  });
}

void Session::onHandshake(error_code ec) {
  if (ec) {
    core_->metrics->connectionRejected(ec == beast::error::timeout ? "timeout" : "handshake");
    logEvent(LogLevel::kDebug, "tls handshake failed", {{"remote", remote_}, {"error", ec.message()}});
    return;
  }
  peer_ = verifiedPeerCertificate(stream_.native_handle());
  readHeader();
}

void Session::readHeader() {
  state_ = State::kIdle;
  if (core_->stopping) return shutdownTls();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(core_->config.max_header_bytes));
  parser_->body_limit(core_->config.max_body_bytes);
  beast::get_lowest_layer(stream_).expires_after(core_->config.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->onHeader(ec);
                          });
}

// Evidence from an authenticated agent may be larger than other bodies (ServerConfig).
std::size_t Session::bodyLimit() const {
  const auto& req = parser_->get();
  bool evidence = req.method() == http::verb::post && req.target() == "/v1/attest" && peer_;
  return evidence ? std::max(core_->config.max_body_bytes, core_->config.max_evidence_bytes)
                  : core_->config.max_body_bytes;
}

void Session::onHeader(error_code ec) {
  if (ec == http::error::header_limit) return reject(431, "request header too large", "header_limit", ec);
  // A chunked body already buffered with the header can hit the limit here.
  if (ec == http::error::body_limit) {
    return reject(413, "request body exceeds " + std::to_string(core_->config.max_body_bytes) +
                           " bytes", "body_limit");
  }
  if (ec && isParseError(ec)) return reject(400, "malformed HTTP request", "bad_request", ec);
  if (ec) return connectionError(ec, "header");
  state_ = State::kBusy;
  request_start_ = std::chrono::steady_clock::now();
  version_ = parser_->get().version() == 10 ? 10 : 11;
  std::size_t limit = bodyLimit();
  parser_->body_limit(limit);
  auto length = parser_->content_length();
  if (length && *length > limit) {
    return reject(413, "request body exceeds " + std::to_string(limit) + " bytes", "body_limit");
  }
  if (parser_->is_done()) return dispatch();
  const auto& req = parser_->get();
  auto expect = req[http::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    // RFC 9110 §10.1.1: tell the client to send the body we are willing to read.
    continue_ = {http::status::continue_, req.version()};
    beast::get_lowest_layer(stream_).expires_after(core_->config.write_timeout);
    http::async_write(stream_, continue_,
                      [self = shared_from_this()](beast::error_code wec, std::size_t) {
                        if (wec) return self->connectionError(wec, "100-continue");
                        self->readBody();
                      });
    return;
  }
  readBody();
}

void Session::readBody() {
  beast::get_lowest_layer(stream_).expires_after(core_->config.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->onBody(ec);
                   });
}

void Session::onBody(error_code ec) {
  if (ec == http::error::body_limit) {
    return reject(413, "request body exceeds " + std::to_string(bodyLimit()) + " bytes",
                  "body_limit");
  }
  if (ec && isParseError(ec)) return reject(400, "malformed HTTP request body", "bad_request", ec);
  if (ec) return connectionError(ec, "body");
  dispatch();
}

void Session::dispatch() {
  bool keep_alive = parser_->get().keep_alive();
  std::size_t bytes_in = parser_->get().body().size();
  HttpRequest req = toRequest(parser_->release(), remote_, peer_);
  Dispatch d = core_->router.handle(req);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request_start_).count();
  core_->metrics->observeRequest(d.route, req.method, d.response.status, seconds);
  // The access log names the route and the caller, never headers, query or body.
  logEvent(LogLevel::kInfo, "request",
           {{"remote", remote_},
            {"method", req.method},
            {"route", d.route},
            {"status", d.response.status},
            {"ms", seconds * 1000.0},
            {"principal", d.principal},
            {"bytes_in", bytes_in},
            {"bytes_out", d.response.body.size()}});
  send(std::move(d.response), keep_alive && !core_->stopping);
}

void Session::reject(int status, std::string_view message, std::string_view reason,
                     error_code ec) {
  state_ = State::kBusy;
  core_->metrics->connectionRejected(reason);
  core_->metrics->observeRequest("rejected", "-", status, 0.0);
  logEvent(LogLevel::kInfo, "request rejected",
           {{"remote", remote_}, {"status", status}, {"reason", reason},
            {"error", ec ? ec.message() : ""}});
  send(HttpResponse::error(status, message), false);
}

void Session::send(HttpResponse r, bool keep_alive) {
  response_ = {};
  response_.version(version_);
  response_.result(static_cast<unsigned>(r.status));
  response_.set(http::field::server, "bulwark-verifier");
  response_.set(http::field::content_type, r.content_type);
  response_.set(http::field::cache_control, "no-store");
  response_.set("X-Content-Type-Options", "nosniff");
  for (const auto& [k, v] : r.headers) response_.set(k, v);
  response_.body() = std::move(r.body);
  response_.keep_alive(keep_alive);
  response_.prepare_payload();
  beast::get_lowest_layer(stream_).expires_after(core_->config.write_timeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                      self->onWrite(keep_alive, ec);
                    });
}

void Session::onWrite(bool keep_alive, error_code ec) {
  if (ec) return connectionError(ec, "write");
  if (keep_alive) return readHeader();
  shutdownTls();
}

void Session::shutdownTls() {
  state_ = State::kClosing;
  // Send close_notify; then stop reading (half-close) and drain what the
  // client still had in flight before closing, so a client that was sending
  // a body we refused reads our response instead of a TCP reset.
  beast::get_lowest_layer(stream_).expires_after(kCloseTimeout);
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
    auto& sock = beast::get_lowest_layer(self->stream_).socket();
    beast::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_send, ignored);
    self->buffer_.consume(self->buffer_.size());
    auto drained = std::make_shared<std::size_t>(0);
    auto scratch = std::make_shared<std::array<char, 16384>>();
    auto drain = std::make_shared<std::function<void(beast::error_code, std::size_t)>>();
    *drain = [self, drained, scratch, drain](beast::error_code ec, std::size_t n) {
      *drained += n;
      if (ec || *drained > kMaxDrainBytes) {
        *drain = nullptr;  // break the self-reference
        return self->closeSocket();
      }
      beast::get_lowest_layer(self->stream_).async_read_some(net::buffer(*scratch), *drain);
    };
    (*drain)({}, 0);
  });
}

void Session::closeSocket() {
  state_ = State::kClosing;
  beast::get_lowest_layer(stream_).close();
}

void Session::connectionError(error_code ec, std::string_view phase) {
  if (ec == beast::error::timeout) {
    core_->metrics->connectionRejected("timeout");
    logEvent(LogLevel::kInfo, "connection timed out", {{"remote", remote_}, {"phase", phase}});
  } else if (!isPeerGone(ec)) {
    logEvent(LogLevel::kDebug, "connection error",
             {{"remote", remote_}, {"phase", phase}, {"error", ec.message()}});
  }
  closeSocket();
}

}  // namespace bulwark::server
