// Domain findings (DOMAIN.md "Queries" item 5): kinds, severities, and the
// (origin, index, leaf hash) of every record involved. Value types;
// thread-safe.
#ifndef SEGLEDGER_LEDGER_DOMAIN_FINDINGS_H_
#define SEGLEDGER_LEDGER_DOMAIN_FINDINGS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger/domain/quantity.h"
#include "segledger/v1/records.pb.h"

namespace segledger::domain {

enum class DomainFindingKind {
  kDispatchNotReceived,       // no receipt past max transit / planned arrival
  kReceiptWithoutDispatch,    // receipt names no known dispatch
  kQuantityMismatch,          // received != dispatched beyond tolerance
  kContainerMismatch,         // container ids or their lots differ
  kSealMismatch,              // seals differ, broken or not matching
  kReceivedAtWrongSite,       // receipt at a site the dispatch did not name
  kUnhandledExcursion,        // temperature excursion without a deviation
  kUnauthorisedSite,          // stage done at a site not authorised for it
  kDispatchBeforeRelease,     // dispatched without prior site QA release
  kUsedBeforeAcceptance,      // received lot consumed before acceptance
  kInputPastHoldTime,         // input consumed after its hold time
  kReleaseWithOpenDeviation,  // DP market release with open deviations
  kInsufficientMahStaff,      // fewer MAH staff on site than required
  kCmoExperience,             // CMO under the required years
  kBrokenChain,               // prev_hash / index / origin inconsistent
  kBadSignature,              // entry signature does not verify
  kKeyOutsideValidity,        // signed by a revoked, retired or expired key
  kEquivocation,              // two different entries for one position
  kLateRecord,                // captured long after the event (ALCOA+)
  // A lot's mass balance, or a shipment's dispatched - received, leaves a
  // quantity out: its unit does not convert to the balance's unit.
  kUncountedQuantity,
};
inline constexpr int kNumDomainFindingKinds = 20;

enum class FindingSeverity {
  kInfo = 0,
  kWarning = 1,
  kMajor = 2,
  kCritical = 3
};

absl::string_view DomainFindingKindName(DomainFindingKind k);  // snake_case
FindingSeverity DefaultSeverityOf(DomainFindingKind k);
absl::string_view FindingSeverityName(FindingSeverity s);

struct DomainFinding {
  DomainFindingKind kind;
  FindingSeverity severity;
  std::string message;
  std::vector<v1::EntryRef> records;
};

struct FindingOptions {
  absl::Time now = absl::InfinitePast();  // for "never received" deadlines
  int cmo_min_experience_years = 3;
  int min_mah_staff_on_site = 2;
  absl::Duration max_capture_delay = absl::Hours(24);
};

// The findings that concern at least one log of `complete` (origins whose
// whole log the caller holds). A view that holds only single entries of
// another log (hand-off evidence) cannot judge that log's own history -
// a dispatch whose release lies outside the view is not "dispatched before
// release" - while a finding that also names a complete log's record (a
// receipt against that dispatch) stays.
std::vector<DomainFinding> FindingsAbout(std::vector<DomainFinding> findings,
                                         const std::set<std::string>& complete);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_FINDINGS_H_
