#include "agent/measure/unix_http_client.h"

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>

namespace bulwark::agent {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Stream = beast::basic_stream<asio::local::stream_protocol>;

// One exchange: connect, write, read; each step under the stream's deadline.
struct Exchange {
  Stream stream;
  http::request<http::empty_body> request;
  http::response_parser<http::string_body> parser;
  beast::flat_buffer buffer;
  beast::error_code ec;
  std::string step = "connect";

  explicit Exchange(asio::io_context& ioc) : stream(ioc) {}

  void start(const std::string& path, std::chrono::milliseconds timeout) {
    stream.expires_after(timeout);
    stream.async_connect(asio::local::stream_protocol::endpoint(path),
                         [this](beast::error_code e) { onConnect(e); });
  }
  void onConnect(beast::error_code e) {
    if (e) return finish(e);
    step = "write";
    http::async_write(stream, request, [this](beast::error_code e2, std::size_t) { onWrite(e2); });
  }
  void onWrite(beast::error_code e) {
    if (e) return finish(e);
    step = "read";
    http::async_read(stream, buffer, parser,
                     [this](beast::error_code e2, std::size_t) { finish(e2); });
  }
  void finish(beast::error_code e) {
    ec = e;
    beast::error_code ignored;
    stream.socket().shutdown(asio::local::stream_protocol::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }
};

}  // namespace

Result<UnixHttpResponse> unixHttpGet(const std::string& socket_path, const std::string& target,
                                     const UnixHttpOptions& options) {
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) != 0) {
    return fail(ErrorCode::kNotFound, "no socket", socket_path);
  }
  asio::io_context ioc;
  auto ex = std::make_unique<Exchange>(ioc);
  ex->request = http::request<http::empty_body>(http::verb::get, target, 11);
  ex->request.set(http::field::host, options.host);
  ex->request.set(http::field::user_agent, "bulwark-agent");
  ex->parser.body_limit(options.max_body);
  ex->start(socket_path, options.timeout);
  ioc.run();
  std::string where = socket_path + " GET " + target;
  if (ex->ec == beast::error::timeout)
    return fail(ErrorCode::kUnavailable, "timed out in " + ex->step, where);
  if (ex->ec.category() == beast::error_code(http::error::body_limit).category()) {
    return fail(ErrorCode::kMalformed, ex->step + ": " + ex->ec.message(), where);
  }
  if (ex->ec) return fail(ErrorCode::kUnavailable, ex->step + ": " + ex->ec.message(), where);
  auto& res = ex->parser.get();
  return UnixHttpResponse{res.result_int(), std::move(res.body())};
}

}  // namespace bulwark::agent
