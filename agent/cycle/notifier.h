// Service manager notifications (sd_notify(3)): READY=1 once the first cycle
// has run, WATCHDOG=1 while the loop is alive, STATUS= for `systemctl status`,
// STOPPING=1 on shutdown. SdNotifier is a no-op when NOTIFY_SOCKET is unset.
#pragma once

#include <chrono>
#include <string_view>

namespace bulwark::agent {

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void ready() = 0;
  virtual void watchdog() = 0;
  virtual void status(std::string_view text) = 0;
  virtual void stopping() = 0;
  // How often watchdog() must be called (0 = no watchdog configured).
  virtual std::chrono::microseconds watchdogInterval() const = 0;
};

class SdNotifier final : public Notifier {
 public:
  SdNotifier();
  void ready() override;
  void watchdog() override;
  void status(std::string_view text) override;
  void stopping() override;
  std::chrono::microseconds watchdogInterval() const override { return watchdog_; }

 private:
  std::chrono::microseconds watchdog_{0};
};

}  // namespace bulwark::agent
