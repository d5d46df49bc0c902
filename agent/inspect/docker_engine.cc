#include "agent/inspect/docker_engine.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

bool isImageDigest(const std::string& s) {
  if (s.size() != 71 || !s.starts_with("sha256:")) return false;
  return s.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

namespace http = boost::beast::http;
using boost::asio::local::stream_protocol;
using nlohmann::json;

// Docker Engine API version the agent speaks (Docker 20.10+).
constexpr std::string_view kApiVersion = "/v1.41";
constexpr std::size_t kBodyLimit = 16u << 20;

std::unexpected<Error> bad(std::string_view why, std::string_view what) {
  return fail(ErrorCode::kMalformed, std::string(why), std::string(what));
}

void setTimeouts(stream_protocol::socket& s, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

Result<std::vector<ContainerRef>> parseDockerContainerList(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) return bad("not a JSON array", "docker containers");
  std::vector<ContainerRef> out;
  for (const json& c : doc) {
    if (!c.is_object()) return bad("entry is not an object", "docker containers");
    auto id = c.find("Id");
    if (id == c.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
      return bad("entry without Id", "docker containers");
    }
    ContainerRef ref;
    ref.id = id->get<std::string>();
    ref.runtime = "docker";
    if (auto names = c.find("Names");
        names != c.end() && names->is_array() && !names->empty() && (*names)[0].is_string()) {
      ref.name = (*names)[0].get<std::string>();
      if (ref.name.starts_with('/')) ref.name.erase(0, 1);
    }
    if (ref.name.empty()) ref.name = ref.id.substr(0, 12);
    if (auto image = c.find("Image"); image != c.end() && image->is_string()) {
      ref.image = image->get<std::string>();
    }
    // The image ID (config digest) identifies what runs; "Image" may be a tag.
    if (auto image_id = c.find("ImageID"); image_id != c.end() && image_id->is_string() &&
        isImageDigest(image_id->get<std::string>())) {
      ref.image_digest = image_id->get<std::string>();
    }
    out.push_back(std::move(ref));
  }
  return out;
}

Result<pid_t> parseDockerInspectPid(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object", "docker inspect");
  auto state = doc.find("State");
  if (state == doc.end() || !state->is_object()) return bad("no State", "docker inspect");
  auto pid = state->find("Pid");
  if (pid == state->end() || !pid->is_number_integer())
    return bad("no State.Pid", "docker inspect");
  const auto v = pid->get<long long>();
  if (v < 0 || v > 0x3fffffff) return bad("State.Pid out of range", "docker inspect");
  return static_cast<pid_t>(v);
}

DockerEngineRuntime::DockerEngineRuntime(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {}

Result<std::string> DockerEngineRuntime::get(const std::string& target) const {
  boost::asio::io_context ioc;
  stream_protocol::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect(stream_protocol::endpoint(socket_path_), ec);
  if (ec) return fail(ErrorCode::kUnavailable, ec.message(), "connect " + socket_path_);
  setTimeouts(socket, timeout_);
  http::request<http::empty_body> req{http::verb::get, strCat(kApiVersion, target), 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "bulwark-agent");
  http::write(socket, req, ec);
  if (ec) return fail(ErrorCode::kUnavailable, ec.message(), "write " + target);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  http::read(socket, buffer, parser, ec);
  if (ec) return fail(ErrorCode::kUnavailable, ec.message(), "read " + target);
  auto& res = parser.get();
  if (res.result() != http::status::ok) {
    return fail(ErrorCode::kUnavailable, strCat("HTTP ", res.result_int()), "GET " + target);
  }
  return std::move(res.body());
}

Result<std::vector<ContainerRef>> DockerEngineRuntime::list() {
  struct stat st {};
  if (::stat(socket_path_.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return std::vector<ContainerRef>{};
  }
  auto body = get("/containers/json");
  if (!body) return std::unexpected(body.error());
  auto refs = parseDockerContainerList(*body);
  if (!refs) return std::unexpected(refs.error());
  std::vector<ContainerRef> out;
  for (ContainerRef& ref : *refs) {
    auto inspect = get("/containers/" + ref.id + "/json");
    if (!inspect) continue;  // removed since the list: nothing to inspect
    auto pid = parseDockerInspectPid(*inspect);
    if (!pid) return std::unexpected(pid.error());
    if (*pid == 0) continue;  // not running
    ref.pid = *pid;
    ref.state_path = socket_path_;
    out.push_back(std::move(ref));
  }
  return out;
}

}  // namespace bulwark::agent
