// Turns running containers from every ContainerImageSource into measurements
// (DESIGN §4 "Images"): one `image` value per distinct image digest (sha256 =
// the digest, subject = a reference naming it, attributes list the containers),
// and, for OCI-state containers whose bundle names no image digest, a report-only
// `oci-bundle` value (hash of the bundle's config.json). A container reported by
// several sources (Docker and the runc state under it) counts once, by id,
// preferring the source that knows the image digest. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/measure/collection.h"
#include "agent/measure/container_image_source.h"

namespace bulwark::agent {

// "sha256:<64 hex>" or 64 hex → the 32 digest bytes; nullopt otherwise.
std::optional<Bytes> parseImageDigest(std::string_view text);

Collection imageCollection(const std::vector<RunningContainer>& containers);

}  // namespace bulwark::agent
