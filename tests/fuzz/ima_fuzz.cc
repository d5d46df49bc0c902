// Fuzz target: IMA ascii_runtime_measurements → whole-list parse and replay,
// incremental replay split at an input-chosen point (must equal the whole), and the
// runtime policy. Seeds: the real keylime list (head) and hand-made lines for every
// template, a violation and a PCR < 10.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "attest/ima/ima_log.h"
#include "attest/ima/ima_policy.h"

namespace ima = bulwark::attest::ima;
using bulwark::HashAlg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto whole = ima::parseImaLog(text, {HashAlg::kSha1, HashAlg::kSha256});
  ima::ImaReplayer inc({HashAlg::kSha1, HashAlg::kSha256});
  std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  auto first = inc.feed(text.substr(0, split));
  if (first) {
    auto second = inc.feed(text.substr(inc.state().offset));
    // Two feeds of a well-formed list must replay exactly like one.
    if (whole && second && inc.state().pcrs != whole->state.pcrs) std::abort();
  }
  if (!whole) return 0;
  ima::ImaPolicy policy;
  policy.allowlist["/init"] = {"sha1:19f13b42c2745066347e76454788c0fe083643f3"};
  policy.excludes = {"/tmp/*", "*.so*"};
  (void)ima::evaluateImaPolicy(whole->entries, policy);
  return 0;
}
