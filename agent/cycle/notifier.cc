#include "agent/cycle/notifier.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace bulwark::agent {

SdNotifier::SdNotifier() {
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set for this very process (WATCHDOG_PID).
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

void SdNotifier::ready() { sd_notify(0, "READY=1"); }
void SdNotifier::watchdog() { sd_notify(0, "WATCHDOG=1"); }
void SdNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void SdNotifier::status(std::string_view text) {
  std::string line = "STATUS=";
  for (char c : text) line += (c == '\n') ? ' ' : c;
  sd_notify(0, line.c_str());
}

}  // namespace bulwark::agent
