#include "server/http/content_type.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace bulwark::server {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// q-value of one media range's parameters; 1 when absent, -1 when malformed.
double qValue(std::string_view params) {
  double q = 1.0;
  while (!params.empty()) {
    auto semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() < 2 || std::tolower(static_cast<unsigned char>(p[0])) != 'q' || p[1] != '=') {
      continue;
    }
    std::string_view v = p.substr(2);
    // RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) return -1;
    if (v.size() > 1 && v[1] != '.') return -1;
    double frac = 0, scale = 0.1;
    for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
      if (!std::isdigit(static_cast<unsigned char>(v[i]))) return -1;
      frac += (v[i] - '0') * scale;
    }
    q = (v[0] - '0') + frac;
    if (q > 1.0) return -1;
  }
  return q;
}

// Specificity of a range matching `offer`: 3 exact, 2 type/*, 1 */*, 0 no match.
int matches(std::string_view range, std::string_view offer) {
  std::string r = lower(range);
  std::string o = lower(offer.substr(0, offer.find(';')));
  if (r == o) return 3;
  if (r == "*/*") return 1;
  auto slash = o.find('/');
  if (r.size() > 2 && r.ends_with("/*") && o.compare(0, slash + 1, r, 0, r.size() - 1) == 0) {
    return 2;
  }
  return 0;
}
}  // namespace

std::optional<std::string_view> negotiate(std::optional<std::string_view> accept,
                                          std::initializer_list<std::string_view> offers) {
  if (offers.size() == 0) return std::nullopt;
  if (!accept || trim(*accept).empty()) return *offers.begin();
  std::optional<std::string_view> best;
  double best_q = 0;
  for (std::string_view offer : offers) {
    // The most specific matching range decides this offer's q (RFC 9110 §12.5.1).
    int best_spec = 0;
    double q = 0;
    std::string_view rest = *accept;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      auto semi = item.find(';');
      std::string_view range = trim(item.substr(0, semi));
      double item_q = semi == std::string_view::npos ? 1.0 : qValue(item.substr(semi + 1));
      int spec = matches(range, offer);
      if (item_q < 0 || spec == 0 || spec < best_spec) continue;
      if (spec > best_spec || item_q > q) q = item_q;
      best_spec = spec;
    }
    if (q > best_q) {
      best_q = q;
      best = offer;
    }
  }
  return best;
}

bool isMediaType(std::optional<std::string_view> content_type, std::string_view media_type) {
  if (!content_type) return false;
  return lower(trim(content_type->substr(0, content_type->find(';')))) == lower(media_type);
}

}  // namespace bulwark::server
