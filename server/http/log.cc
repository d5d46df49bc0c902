#include "server/http/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace bulwark::server {

namespace {
std::mutex g_mu;
std::function<void(std::string_view)> g_sink;
LogLevel g_min = LogLevel::kInfo;

std::string_view levelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}
}  // namespace

void logEvent(LogLevel level, std::string_view msg, const nlohmann::json& fields) {
  {
    std::lock_guard lock(g_mu);
    if (level < g_min) return;
  }
  nlohmann::json line = {{"ts", timestamp()}, {"level", levelName(level)}, {"msg", msg}};
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) line[k] = v;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(g_mu);
  if (g_sink) {
    g_sink(text);
  } else {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
}

void setLogSink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}

void setLogLevel(LogLevel min_level) {
  std::lock_guard lock(g_mu);
  g_min = min_level;
}

}  // namespace bulwark::server
