#include "agent/measure/docker_image_source.h"

#include <map>
#include <nlohmann/json.hpp>

#include "agent/measure/unix_http_client.h"

namespace bulwark::agent {

namespace {

using nlohmann::json;

Result<std::string> str(const json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return fail(ErrorCode::kMalformed, std::string("missing ") + key);
    return std::string();
  }
  if (!it->is_string()) return fail(ErrorCode::kMalformed, std::string(key) + " is not a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return fail(ErrorCode::kMalformed, std::string(key) + " is not a list");
  for (const auto& v : *it) {
    if (!v.is_string()) return fail(ErrorCode::kMalformed, std::string(key) + " has a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<DockerContainerEntry> parseContainer(const json& c) {
  if (!c.is_object()) return fail(ErrorCode::kMalformed, "container entry is not an object");
  DockerContainerEntry e;
  auto id = str(c, "Id", true);
  auto image = str(c, "Image", false);
  auto image_id = str(c, "ImageID", false);
  auto state = str(c, "State", false);
  auto names = strings(c, "Names");
  for (auto* r : {&id, &image, &image_id, &state}) {
    if (!*r) return std::unexpected(r->error());
  }
  if (!names) return std::unexpected(names.error());
  e.id = *id;
  e.image = *image;
  e.image_id = *image_id;
  e.state = *state;
  if (!names->empty()) e.name = (*names)[0].starts_with('/') ? (*names)[0].substr(1) : (*names)[0];
  return e;
}

}  // namespace

Result<std::vector<DockerContainerEntry>> parseDockerContainers(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return fail(ErrorCode::kMalformed, "/containers/json is not a JSON array");
  }
  std::vector<DockerContainerEntry> out;
  for (const auto& c : j) {
    auto e = parseContainer(c);
    if (!e) return std::unexpected(e.error());
    out.push_back(std::move(*e));
  }
  return out;
}

Result<DockerImageEntry> parseDockerImage(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(ErrorCode::kMalformed, "/images/{id}/json is not a JSON object");
  }
  DockerImageEntry e;
  auto id = str(j, "Id", true);
  auto tags = strings(j, "RepoTags");
  auto digests = strings(j, "RepoDigests");
  if (!id) return std::unexpected(id.error());
  if (!tags) return std::unexpected(tags.error());
  if (!digests) return std::unexpected(digests.error());
  e.id = *id;
  e.repo_tags = std::move(*tags);
  e.repo_digests = std::move(*digests);
  return e;
}

Result<std::string> DockerImageSource::get(const std::string& target) {
  auto r = unixHttpGet(socket_, target, UnixHttpOptions{timeout_});
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) {
    return fail(r->status == 404 ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                "HTTP " + std::to_string(r->status), "docker " + target);
  }
  return std::move(r->body);
}

Result<ContainerListing> DockerImageSource::listRunning() {
  ContainerListing out;
  auto body = get("/containers/json");
  if (!body) {
    if (body.error().code() == ErrorCode::kNotFound && body.error().message() == "no socket")
      return out;
    return std::unexpected(body.error());
  }
  auto containers = parseDockerContainers(*body);
  if (!containers) {
    Error e = containers.error();
    return std::unexpected(e.within("docker " + socket_));
  }
  std::map<std::string, std::optional<DockerImageEntry>> images;
  for (const auto& c : *containers) {
    if (c.state != "running" && !c.state.empty()) continue;
    auto& image = images[c.image_id];
    if (!image && !c.image_id.empty()) {
      auto ib = get("/images/" + c.image_id + "/json");
      auto parsed =
          ib ? parseDockerImage(*ib) : Result<DockerImageEntry>(std::unexpected(ib.error()));
      if (parsed) {
        image = std::move(*parsed);
      } else {
        out.notes.push_back("docker image " + c.image_id + " of container " + c.name + ": " +
                            parsed.error().toString());
      }
    }
    RunningContainer rc;
    rc.source = "docker";
    rc.id = c.id;
    rc.name = c.name;
    rc.image_digest = c.image_id;
    rc.image_ref = c.image;
    if (image) rc.repo_digests = image->repo_digests;
    out.containers.push_back(std::move(rc));
  }
  return out;
}

}  // namespace bulwark::agent
