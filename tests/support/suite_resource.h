// One expensive real component (swtpm, dockerd, a runc harness) shared by the tests
// of a gtest suite: started in SetUpTestSuite, stopped in TearDownTestSuite. A
// failed start is kept so that SetUp fails every test with the reason — never a
// skip: the components run on every machine these suites are meant for.
//
//   static void SetUpTestSuite() { swtpm_.start(Swtpm::start()); }
//   static void TearDownTestSuite() { swtpm_.stop(); }
//   void SetUp() override { ASSERT_TRUE(swtpm_) << swtpm_.error(); }
//   static inline SuiteResource<Swtpm> swtpm_;
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "attest/core/error.h"

namespace bulwark::testing {

template <typename T>
class SuiteResource {
 public:
  void start(Result<std::unique_ptr<T>> started) {
    if (started) {
      value_ = std::move(*started);
      error_.clear();
    } else {
      value_.reset();
      error_ = started.error().toString();
    }
  }
  // A later setup step failed: the suite's tests fail with `why`.
  void fail(std::string why) {
    value_.reset();
    error_ = std::move(why);
  }
  void stop() {
    value_.reset();
    error_ = "stopped";
  }

  explicit operator bool() const { return value_ != nullptr; }
  T* operator->() const { return value_.get(); }
  T& operator*() const { return *value_; }
  T* get() const { return value_.get(); }
  const std::string& error() const { return error_; }

 private:
  std::unique_ptr<T> value_;
  std::string error_ = "not started (SetUpTestSuite did not run)";
};

}  // namespace bulwark::testing
