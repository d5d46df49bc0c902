// Object member lookup with Go encoding/json's reading rule: kube-scheduler's extender
// types (k8s.io/kube-scheduler/extender/v1) carry no json tags, so Go writes the field
// names as declared ("NodeNames") and reads keys case-insensitively ("nodenames" too).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "attest/core/error.h"

namespace bulwark::server::sched {

// True when `a` equals `b` ignoring ASCII case (Go's rule for these keys, minus the two
// Unicode foldings noted below).
[[nodiscard]] bool keyEquals(std::string_view a, std::string_view b);

// The member of `object` whose key equals `key` ignoring ASCII case, nullptr when there is
// none (or `object` is not an object). Go keeps the last of several matching keys; we
// refuse the ambiguity instead (kMalformed), so two readers can never disagree on which
// value was meant. Keys that only Go's Unicode folding would match (U+017F, U+212A) are
// not recognised: the Go client never writes them.
[[nodiscard]] Result<const nlohmann::json*> findKey(const nlohmann::json& object,
                                                    std::string_view key);

// Same, for values we move out of (admission/extender responses echo node objects).
[[nodiscard]] Result<nlohmann::json*> findKey(nlohmann::json& object, std::string_view key);

// The string member `key`, "" when absent or null; kMalformed when present with another type.
[[nodiscard]] Result<std::string_view> stringMember(const nlohmann::json& object,
                                                    std::string_view key);

}  // namespace bulwark::server::sched
