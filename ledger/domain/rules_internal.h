// Internal to ledger/domain: rule checks shared by rules.cc and defined in
// rules_lots.cc. See rules.h for the contract of a check.
#ifndef SEGLEDGER_LEDGER_DOMAIN_RULES_INTERNAL_H_
#define SEGLEDGER_LEDGER_DOMAIN_RULES_INTERNAL_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ledger/domain/rule_context.h"

namespace segledger::domain {

// What a production record (LotProduced or Transformation) makes. Views
// into ctx.record (four rules ask per record: no copies).
struct ProductionFacts {
  absl::string_view product_id;
  absl::string_view stage_id;
  absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 2>
      outputs;  // lot, material
};
absl::StatusOr<ProductionFacts> Production(RuleContext& ctx);

// Distinct people employed by `mah` assigned to `site` (on-site QA,
// technical or QP) whose period covers `t`.
absl::StatusOr<int> MahStaffOnSite(RuleContext& ctx, absl::string_view site,
                                   absl::string_view mah, absl::Time t);

// Quantities per lot in each lot's unit. NOT_FOUND names a lot not held here;
// FAILED_PRECONDITION incompatible units. Computed once per record for the
// same `items` (RuleContext::per_lot); the pointer lives until the next call.
using LotQuantities =
    std::vector<std::pair<absl::string_view, const v1::Quantity*>>;
absl::StatusOr<const std::map<std::string, Decimal>*> PerLot(
    RuleContext& ctx, const LotQuantities& items);

absl::Status DispatchHeld(RuleContext& ctx);
absl::Status DispatchUnits(RuleContext& ctx);
absl::Status DispatchQuantity(RuleContext& ctx);
absl::Status DispatchStatus(RuleContext& ctx);
absl::Status DispatchRelease(RuleContext& ctx);
absl::Status DispatchDestination(RuleContext& ctx);
absl::Status TransferUnique(RuleContext& ctx);
absl::Status ReceiptEvidence(RuleContext& ctx);
absl::Status ReceiptAddress(RuleContext& ctx);
absl::Status ReceiptOnce(RuleContext& ctx);
absl::Status InputsHeld(RuleContext& ctx);
absl::Status InputUnits(RuleContext& ctx);
absl::Status InputsAccepted(RuleContext& ctx);
absl::Status InputsQuantity(RuleContext& ctx);
absl::Status StatusLotHeld(RuleContext& ctx);
absl::Status StatusTransition(RuleContext& ctx);
absl::Status ReleaseLot(RuleContext& ctx);
absl::Status ReleaseSignature(RuleContext& ctx);
absl::Status SampleUnits(RuleContext& ctx);
absl::Status SampleQuantity(RuleContext& ctx);
absl::Status CorrectionRef(RuleContext& ctx);
absl::Status CorrectionReceived(RuleContext& ctx);
absl::Status CorrectionUsed(RuleContext& ctx);
absl::Status CorrectionUndo(RuleContext& ctx);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_RULES_INTERNAL_H_
