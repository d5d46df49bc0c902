// HTTP content negotiation (RFC 9110 §12.5.1 Accept) for the two encodings
// the verifier speaks: application/x-protobuf for agents, application/json for
// people and tools.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>

namespace bulwark::server {

inline constexpr std::string_view kJson = "application/json";
inline constexpr std::string_view kProtobuf = "application/x-protobuf";
inline constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

// Picks the offer the Accept header ranks highest (q-value, then the order of
// `offers` as the server's preference). No Accept header (or an empty one)
// accepts the first offer. nullopt when nothing offered is acceptable (-> 406).
// Malformed media ranges are ignored rather than failing the request.
std::optional<std::string_view> negotiate(std::optional<std::string_view> accept,
                                          std::initializer_list<std::string_view> offers);

// The media type of a Content-Type value without parameters, lower-cased
// comparison helper: true when `content_type` names `media_type`.
bool isMediaType(std::optional<std::string_view> content_type, std::string_view media_type);

}  // namespace bulwark::server
