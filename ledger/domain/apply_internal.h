// Internal to ledger/domain: state updates (apply.cc) used by hook.cc.
#ifndef SEGLEDGER_LEDGER_DOMAIN_APPLY_INTERNAL_H_
#define SEGLEDGER_LEDGER_DOMAIN_APPLY_INTERNAL_H_

#include "absl/status/status.h"
#include "ledger/domain/rule_context.h"

namespace segledger::domain {

// Updates lots, registrations, personnel, keys, transfers, deviations.
absl::Status ApplyRecord(RuleContext& ctx);
absl::Status ApplyKeys(RuleContext& ctx);
// Writes the lot/transfer -> entry rows.
void ApplyIndexes(RuleContext& ctx);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_APPLY_INTERNAL_H_
