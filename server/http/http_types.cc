#include "server/http/http_types.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace bulwark::server {

namespace {
bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (equalsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

HttpResponse HttpResponse::error(int status, std::string_view message) {
  nlohmann::json j = {{"error", message}, {"status", status}};
  return json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse HttpResponse::json(int status, std::string body) {
  return HttpResponse{status, "application/json", std::move(body), {}};
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  return HttpResponse{status, std::move(content_type), std::move(body), {}};
}

}  // namespace bulwark::server
