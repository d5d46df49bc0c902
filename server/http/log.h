// Structured logs: one JSON object per line on stderr (journald stores stderr
// of units as-is). Callers pass fields explicitly; nothing here formats
// requests, so tokens, keys and bodies reach a log only if a caller puts them
// there — and none does (tests/unit/http checks the access log for tokens).
#pragma once

#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bulwark::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// {"ts":"2024-05-01T12:00:00.123Z","level":"info","msg":...,<fields>}
void logEvent(LogLevel level, std::string_view msg, const nlohmann::json& fields = {});

// Replaces the sink (default: stderr); nullptr restores it. For tests.
void setLogSink(std::function<void(std::string_view line)> sink);
void setLogLevel(LogLevel min_level);

}  // namespace bulwark::server
