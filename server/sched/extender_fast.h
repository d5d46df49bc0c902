// Allocation-light paths for the common kube-scheduler request (nodeCacheCapable: true,
// thousands of node names): a SAX pass that collects the names without building a DOM,
// and a writer that emits plain node names without a serializer. Both only take the
// cases they are sure of and leave everything else to the DOM path, so error messages
// and edge cases (null, duplicates, other types, other spellings) are decided in one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::server::sched {

// True when `body` is a JSON object whose members are, in any key spelling and each at
// most once, Pod (object/null), Nodes (null) and NodeNames (array of strings), with
// NodeNames present; `names` then holds them. False: use parseExtenderArgs' DOM path.
bool parseNamesFast(std::string_view body, std::vector<std::string>& names);

// Appends `s` as a JSON string: node names ([A-Za-z0-9._-]) as they are, anything else
// through nlohmann's serializer (escapes, invalid UTF-8 replaced).
void appendJsonString(std::string& out, std::string_view s);

}  // namespace bulwark::server::sched
