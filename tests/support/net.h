// Small network helpers shared by the test harnesses.
#pragma once

namespace bulwark::testing {

// A TCP port on 127.0.0.1 the kernel just handed out (free at this instant; a
// server started later may still lose a race for it, so harnesses retry), or -1.
int freeLoopbackPort();

}  // namespace bulwark::testing
