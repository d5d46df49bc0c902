#include "server/sched/extender_fast.h"

#include <nlohmann/json.hpp>

#include "server/sched/json_keys.h"

namespace bulwark::server::sched {

namespace {
using nlohmann::json;

// nlohmann SAX interface (json_sax): every callback returns false to stop the parse.
// Member `Pod` may be anything object-shaped; its contents are skipped by depth.
class NamesSax {
 public:
  explicit NamesSax(std::vector<std::string>& names) : names_(names) {}
  bool done() const { return names_seen_ && !bail_; }

  bool null() { return scalar(true); }
  bool boolean(bool) { return scalar(false); }
  bool number_integer(json::number_integer_t) { return scalar(false); }
  bool number_unsigned(json::number_unsigned_t) { return scalar(false); }
  bool number_float(json::number_float_t, const json::string_t&) { return scalar(false); }
  bool binary(json::binary_t&) { return stop(); }
  bool string(json::string_t& s) {
    if (depth_ == 2 && member_ == Member::kNames) {
      names_.push_back(std::move(s));
      return true;
    }
    return scalar(false);
  }
  bool start_object(std::size_t) {
    if (depth_ == 1 && member_ != Member::kPod) return stop();
    if (depth_ == 2 && member_ == Member::kNames) return stop();  // object as a name
    if (depth_ == 0 && started_) return stop();
    started_ = true;
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 0) return stop();
    if (depth_ == 1) {
      if (member_ != Member::kNames) return stop();
      names_seen_ = true;
    }
    if (depth_ == 2 && member_ == Member::kNames) return stop();  // nested array
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(json::string_t& k) {
    if (depth_ != 1) return true;
    Member m = keyEquals(k, "pod")         ? Member::kPod
               : keyEquals(k, "nodes")     ? Member::kNodes
               : keyEquals(k, "nodenames") ? Member::kNames
                                            : Member::kOther;
    unsigned bit = 1u << static_cast<unsigned>(m);
    if (m != Member::kOther && (seen_ & bit) != 0) return stop();  // two spellings/duplicates
    seen_ |= bit;
    member_ = m;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return stop();
  }

 private:
  enum class Member : unsigned { kOther, kPod, kNodes, kNames };
  // A scalar member value: only Pod/Nodes null or unknown members pass at depth 1.
  bool scalar(bool is_null) {
    if (depth_ == 0) return stop();
    if (depth_ == 1) {
      if (member_ == Member::kNames) return stop();  // null or wrong type: DOM decides
      if (member_ == Member::kOther) return true;
      return is_null ? true : stop();
    }
    if (depth_ == 2 && member_ == Member::kNames) return stop();  // non-string name
    return true;
  }
  bool stop() {
    bail_ = true;
    return false;
  }
  std::vector<std::string>& names_;
  int depth_ = 0;
  bool started_ = false;
  bool names_seen_ = false;
  bool bail_ = false;
  unsigned seen_ = 0;
  Member member_ = Member::kOther;
};

bool plainName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

bool parseNamesFast(std::string_view body, std::vector<std::string>& names) {
  names.clear();
  NamesSax sax(names);
  bool ok = json::sax_parse(body, &sax, json::input_format_t::json, true);
  if (ok && sax.done()) return true;
  names.clear();
  return false;
}

void appendJsonString(std::string& out, std::string_view s) {
  if (plainName(s)) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bulwark::server::sched
