// Store suite, part 4: measurement acknowledgments (node re-approval, migration 2).
// Included by store_suite.h.
#pragma once

#include "tests/unit/store/store_suite_fixture.h"

namespace bulwark::server::testing {

inline MeasurementDigest measured(const std::string& subject, const std::string& content) {
  return {"runtime-binary", subject, sha256(asBytes(content))};
}

TYPED_TEST_P(StoreSuite, AcknowledgmentsAreIdempotentAndPerNode) {
  Store& s = *this->store_;
  this->enroll("node-a");
  this->enroll("node-b");
  std::vector<MeasurementDigest> entries = {measured("/usr/bin/runc", "evil"),
                                            measured("/usr/bin/containerd-ütf8", "evil")};
  auto added = s.acknowledgeMeasurements("node-a", entries, "root", 5000);
  ASSERT_OK(added);
  EXPECT_EQ(*added, 2);
  // Again (another admin, later): nothing new; the first time and author stay.
  entries.push_back(measured("/usr/bin/runc", "other"));
  auto again = s.acknowledgeMeasurements("node-a", entries, "second-admin", 9000);
  ASSERT_OK(again);
  EXPECT_EQ(*again, 1);

  auto replica = this->replica();
  ASSERT_NE(replica, nullptr);
  auto list = replica->listAcknowledgments("node-a");
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 3u);
  // Byte order of (kind, subject, sha256) on both engines.
  EXPECT_EQ((*list)[0].subject, "/usr/bin/containerd-ütf8");
  EXPECT_EQ((*list)[1].subject, "/usr/bin/runc");
  const MeasurementAcknowledgment* evil = nullptr;
  for (const auto& a : *list) {
    EXPECT_EQ(a.node, "node-a");
    EXPECT_EQ(a.kind, "runtime-binary");
    if (a.subject == "/usr/bin/runc" && a.sha256 == sha256(asBytes("evil"))) evil = &a;
  }
  ASSERT_NE(evil, nullptr);
  EXPECT_EQ(evil->acknowledged_at, 5000);
  EXPECT_EQ(evil->acknowledged_by, "root");
  auto other = s.listAcknowledgments("node-b");
  ASSERT_OK(other);
  EXPECT_TRUE(other->empty());
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM node_acknowledgments"), 3);
}

TYPED_TEST_P(StoreSuite, MalformedAcknowledgmentsStoreNothing) {
  Store& s = *this->store_;
  this->enroll("node-a");
  MeasurementDigest good = measured("/usr/bin/runc", "evil");
  struct Case {
    std::string what;
    std::string node;
    MeasurementDigest bad;
    std::string by;
    ErrorCode code;
  };
  const Case cases[] = {
      {"unknown node", "ghost", good, "root", ErrorCode::kNotFound},
      {"bad node name", "../etc", good, "root", ErrorCode::kInvalidArgument},
      {"short digest",
       "node-a",
       {"runtime-binary", "/x", Bytes(31, 1)},
       "root",
       ErrorCode::kInvalidArgument},
      {"empty kind", "node-a", {"", "/x", Bytes(32, 1)}, "root", ErrorCode::kInvalidArgument},
      {"NUL in subject",
       "node-a",
       {"runtime-binary", std::string("/x\0y", 4), Bytes(32, 1)},
       "root",
       ErrorCode::kInvalidArgument},
      {"bad author", "node-a", good, "root\n", ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<MeasurementDigest> entries = {good, c.bad};
    auto r = s.acknowledgeMeasurements(c.node, entries, c.by, 100);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), c.code) << r.error().toString();
  }
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM node_acknowledgments"), 0);
  EXPECT_EQ(s.listAcknowledgments("ghost").error().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreSuite, AcknowledgmentsGoWithTheNodeAndItsTpm) {
  Store& s = *this->store_;
  this->enroll("node-a");
  this->enroll("node-b");
  std::vector<MeasurementDigest> entries = {measured("/usr/bin/runc", "evil")};
  ASSERT_OK(s.acknowledgeMeasurements("node-a", entries, "root", 5000));
  ASSERT_OK(s.acknowledgeMeasurements("node-b", entries, "root", 5000));
  ASSERT_OK(s.deleteNode("node-b"));
  EXPECT_EQ(this->rawInt("SELECT COUNT(*) FROM node_acknowledgments"), 1);
  // Re-enrollment (a new TPM): the old boots' accepted history does not carry over.
  ASSERT_OK(s.createPendingEnrollment(pendingFor("node-a", "again", 6000, "ecc")));
  ASSERT_OK(s.completeEnrollment("again", {"beef", true, 6001}));
  auto list = s.listAcknowledgments("node-a");
  ASSERT_OK(list);
  EXPECT_TRUE(list->empty());
}

}  // namespace bulwark::server::testing
