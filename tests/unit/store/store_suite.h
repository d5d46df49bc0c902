// The Store suite every engine must pass (issue 5 item 6). Instantiate with
//   INSTANTIATE_TYPED_TEST_SUITE_P(Engine, StoreSuite, EngineBackend);
#pragma once

#include "tests/unit/store/store_suite_acks.h"
#include "tests/unit/store/store_suite_attest.h"
#include "tests/unit/store/store_suite_logs.h"
#include "tests/unit/store/store_suite_nodes.h"
#include "tests/unit/store/store_suite_policy.h"

namespace bulwark::server::testing {

REGISTER_TYPED_TEST_SUITE_P(
    StoreSuite, MigrationsAreIdempotentAndKeepData, ConcurrentOpensMigrateOnce,
    NewerSchemaIsRefused, EnrollmentRoundTripsEveryField, EnrollmentExpiresAndIsClaimedOnce,
    ReplicasClaimAnEnrollmentExactlyOnce, ReEnrollmentRekeysAndDropsTheOldVerdict,
    RevokedNodeAcceptsNoEnrollmentOrAppraisal, MalformedEnrollmentIsRefusedAndStoresNothing,
    NodeGroupsAndListing, NonceIsSingleUseBoundAndExpiring, MalformedNonceIsRefused,
    ConcurrentThreadsConsumeANonceExactlyOnce, TwoReplicasConsumeANonceExactlyOnce,
    AppraisalWrittenByOneReplicaIsReadByTheOther, LatestVerdictFollowsAppraisalTimeNotArrival,
    MalformedAppraisalChangesNothing, EnrollingNodeAcceptsNoAppraisal,
    LatestEvidenceIsKeptForReappraisal, FleetShowsLatestVerdictAndStaleness,
    FleetOfFiveThousandNodes, ReferenceValueLifecycleBumpsPolicyVersion,
    MalformedReferenceValuesAreAllOrNothing, ImageRules, PolicyVersionIsAtomicAcrossReplicas,
    ApiTokensAreStoredByHash, FailedTransactionLeavesNoPartialRows, DeleteNodeRemovesItsRows,
    AcknowledgmentsAreIdempotentAndPerNode, MalformedAcknowledgmentsStoreNothing,
    AcknowledgmentsGoWithTheNodeAndItsTpm, AttestationConsumesStoresAndIssuesInOneTransaction,
    BadLogCopiesStoreNothingAndKeepTheNonce, LogCopiesAreReplacedAndGoWithTheTpm);

}  // namespace bulwark::server::testing
