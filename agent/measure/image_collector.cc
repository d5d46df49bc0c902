#include "agent/measure/image_collector.h"

#include <map>
#include <set>

namespace bulwark::agent {

namespace {

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// One entry per container id, preferring an entry that knows the image digest.
std::vector<const RunningContainer*> distinctContainers(const std::vector<RunningContainer>& cs) {
  std::map<std::string, const RunningContainer*> by_id;
  for (const auto& c : cs) {
    auto& slot = by_id[c.id];
    bool better = !slot || (slot->image_digest.empty() && !c.image_digest.empty());
    if (better) slot = &c;
  }
  std::vector<const RunningContainer*> out;
  for (auto& [id, c] : by_id) out.push_back(c);
  return out;
}

struct ImageGroup {
  Bytes digest;
  std::set<std::string> refs, containers, repo_digests, sources;
};

}  // namespace

std::optional<Bytes> parseImageDigest(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.size() != 64) return std::nullopt;
  for (char c : text) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return std::nullopt;
  }
  auto bytes = fromHex(text);
  if (!bytes) return std::nullopt;
  return *bytes;
}

Collection imageCollection(const std::vector<RunningContainer>& containers) {
  Collection out;
  std::map<std::string, ImageGroup> images;  // "sha256:<hex>" → group
  for (const RunningContainer* c : distinctContainers(containers)) {
    std::string label = c->source + ":" + (c->name.empty() ? c->id : c->name);
    if (auto digest = parseImageDigest(c->image_digest)) {
      auto& g = images["sha256:" + toHex(*digest)];
      g.digest = *digest;
      if (!c->image_ref.empty()) g.refs.insert(c->image_ref);
      g.containers.insert(label);
      g.sources.insert(c->source);
      g.repo_digests.insert(c->repo_digests.begin(), c->repo_digests.end());
      continue;
    }
    if (!c->image_digest.empty()) {
      out.notes.push_back("container " + label + ": image digest '" + c->image_digest +
                          "' is not sha256:<64 hex>; not measured as an image");
    }
    if (c->config_path.empty()) continue;
    FileTarget t{std::string(kKindOciBundle),
                 c->source + ":" + c->id,
                 c->config_path,
                 {{"bundle", c->bundle}},
                 false,
                 false};
    if (!c->image_ref.empty()) t.attributes["image_ref"] = c->image_ref;
    for (const auto& [k, v] : c->annotations) t.attributes["annotation:" + k] = v;
    out.files.push_back(std::move(t));
  }
  for (auto& [id, g] : images) {
    // The subject names the digest itself: references are mutable, the digest is not.
    Measurement m{std::string(kKindImage),
                  id,
                  g.digest,
                  {{"containers", join(g.containers)}, {"source", join(g.sources)}}};
    if (!g.refs.empty()) m.attributes["refs"] = join(g.refs);
    if (!g.repo_digests.empty()) m.attributes["repo_digests"] = join(g.repo_digests);
    out.direct.push_back(std::move(m));
  }
  return out;
}

}  // namespace bulwark::agent
