// bulwarkctl's HTTPS client against servers that misbehave at the transport level
// (issue 6 review): a peer that accepts TCP and never speaks TLS, and one that
// completes nothing after the handshake, must end in a clear error within the
// configured --timeout, never a hang. The binary is run as an operator would.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fleet.h"

namespace bulwark::testing {
namespace {

// Listens on 127.0.0.1:<ephemeral>, accepts every connection and never writes.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::listen(fd_, 16) == 0;
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) held_.push_back(c);  // read nothing, answer nothing
      }
    });
  }
  ~SilentServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

TEST(CtlClient, SilentServerEndsInATimeoutErrorNotAHang) {
  SilentServer server;
  ASSERT_TRUE(server.ok());
  const auto start = std::chrono::steady_clock::now();
  // `timeout` bounds the test itself: a hang shows as exit 124 instead of blocking CI.
  CommandResult r = runCommand("timeout 30 " + bulwarkBinary("bulwarkctl") +
                               " --verifier https://127.0.0.1:" + std::to_string(server.port()) +
                               " --timeout 1 nodes 2>&1");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(r.exit_code, 124) << "bulwarkctl hung: " << r.output;
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(took, std::chrono::seconds(10)) << r.output;
  EXPECT_NE(r.output.find("TLS handshake"), std::string::npos) << r.output;
}

TEST(CtlClient, TimeoutOutOfRangeIsAUsageError) {
  CommandResult r = runCommand(bulwarkBinary("bulwarkctl") + " --timeout 0 nodes 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--timeout"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bulwark::testing
