// HTML escaping for report pages. Every string that reaches a page from a node, an
// agent or the store passes through here (node names, container names, details).
#pragma once

#include <string>
#include <string_view>

namespace bulwark::server::report {

// & < > " ' → entities; safe in element content and in quoted attribute values.
// NUL and other C0 controls except \t \n \r become U+FFFD (they are not valid in HTML).
std::string htmlEscape(std::string_view text);

// Percent-encodes everything outside RFC 3986 unreserved characters, for a path segment.
std::string urlSegment(std::string_view text);

}  // namespace bulwark::server::report
