// Verified evidence from other logs that the rules at append need: the
// dispatch a receipt answers, the receipt that answers a dispatch of this
// log (before a correction voids the dispatch), the MAH's product registration
// (segmentation plan) and other parties' registrations. The node's peer layer
// implements it over evidence whose signature, inclusion proof and checkpoint
// it has verified (DESIGN.md "Cross-site hand-off", step 3); InMemoryEvidence
// serves tests and tools.
//
// Implementations must be thread-safe for concurrent Find calls and must not
// block (the hook runs on the commit leader).
#ifndef SEGLEDGER_LEDGER_DOMAIN_EVIDENCE_H_
#define SEGLEDGER_LEDGER_DOMAIN_EVIDENCE_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "ledger/hash.h"
#include "segledger/v1/records.pb.h"

namespace segledger::domain {

struct VerifiedDispatch {
  v1::EntryRef ref;
  v1::Dispatch dispatch;
};

class Evidence {
 public:
  virtual ~Evidence() = default;
  // The verified dispatch at (origin, index) whose leaf hash is `leaf_hash`.
  // NOT_FOUND when none is held; FAILED_PRECONDITION when the entry held
  // there has another leaf hash or is not a dispatch.
  virtual absl::StatusOr<VerifiedDispatch> FindDispatch(
      absl::string_view origin, uint64_t index, const Hash& leaf_hash) = 0;
  // The position of a verified receipt held here that answers `dispatch`
  // (origin, index and leaf hash of a dispatch of transfer `transfer_id`).
  // NOT_FOUND when none is held, the default: an implementation that holds
  // no receipts knows of none.
  virtual absl::StatusOr<v1::EntryRef> FindReceipt(
      const v1::EntryRef& /*dispatch*/, absl::string_view transfer_id) {
    return absl::NotFoundError(
        absl::StrCat("no verified receipt of transfer ", transfer_id, " held"));
  }
  // The latest verified registration of a product (NOT_FOUND).
  virtual absl::StatusOr<v1::ProductRegistration> FindProduct(
      absl::string_view product_id) = 0;
  // The latest verified registration of a party (NOT_FOUND).
  virtual absl::StatusOr<v1::PartyRegistration> FindParty(
      absl::string_view party_id) = 0;
  // A number that changes whenever a registration FindProduct or FindParty
  // would return changes, so a caller may reuse what it found under the same
  // number (DomainHook does, across records). 0, the default: unknown, look
  // up every time.
  virtual uint64_t Generation() { return 0; }
};

// Thread-safe in-memory Evidence.
class InMemoryEvidence : public Evidence {
 public:
  void AddDispatch(const v1::EntryRef& ref, const v1::Dispatch& d);
  // A verified receipt at `ref` (of the dispatch `r` names).
  void AddReceipt(const v1::EntryRef& ref, const v1::Receipt& r);
  void AddProduct(const v1::ProductRegistration& p);
  void AddParty(const v1::PartyRegistration& p);

  absl::StatusOr<VerifiedDispatch> FindDispatch(absl::string_view origin,
                                                uint64_t index,
                                                const Hash& leaf_hash) override;
  absl::StatusOr<v1::EntryRef> FindReceipt(
      const v1::EntryRef& dispatch, absl::string_view transfer_id) override;
  absl::StatusOr<v1::ProductRegistration> FindProduct(
      absl::string_view product_id) override;
  absl::StatusOr<v1::PartyRegistration> FindParty(
      absl::string_view party_id) override;
  uint64_t Generation() override;

 private:
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::pair<std::string, uint64_t>, VerifiedDispatch> dispatches_
      ABSL_GUARDED_BY(mu_);
  // (origin, index) of a dispatch -> its receipts.
  std::multimap<std::pair<std::string, uint64_t>,
                std::pair<v1::EntryRef, v1::Receipt>>
      receipts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::ProductRegistration> products_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::PartyRegistration> parties_ ABSL_GUARDED_BY(mu_);
};

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_EVIDENCE_H_
