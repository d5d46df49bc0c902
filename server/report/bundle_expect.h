// The part of offline bundle verification (bundle.h) that ties EARs to the report: every
// appraisal the report shows must come with its EAR, every EAR must verify and say what
// the report says (node, status, times, policy version, trust vector, digests). Pure.
#pragma once

#include <expected>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "attest/ear/ear.h"

namespace bulwark::server::report {

// Member `key` of object `o`; nullptr when `o` is not an object or has no such member.
const nlohmann::json* member(const nlohmann::json& o, std::string_view key);

// Verifies one EAR (signature with the JWKS, claims) at the given clock.
using EarVerifyFn = std::function<std::expected<attest::Ear, attest::EarRejected>(
    std::string_view token, const attest::EarVerifyOptions& options)>;

// Appends a named reason for every inconsistency between content["report"] and
// content["attestations"]. EARs are checked at their own appraisal time: an EAR in an
// audit bundle is normally past its freshness deadline, which is what it should say.
void checkAttestations(const nlohmann::json& content, const EarVerifyFn& verify,
                       std::vector<std::string>& reasons);

}  // namespace bulwark::server::report
