// Internal to ledger/domain: what a rule or a state update sees, and shared
// helpers (time conversion, lookups, quantity arithmetic in a lot's unit).
// Thread-compatible.
#ifndef SEGLEDGER_LEDGER_DOMAIN_RULE_CONTEXT_H_
#define SEGLEDGER_LEDGER_DOMAIN_RULE_CONTEXT_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/domain/hook.h"
#include "ledger/domain/quantity.h"
#include "ledger/domain/state.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::domain {

struct RuleContext {
  const v1::EntryBody& body;
  const v1::Record& record;
  const v1::RecordHeader* header;  // nullptr for key records
  store::IndexTxn& txn;
  const DomainConfig& config;
  absl::Time event_time;  // header event time, else recorded_at
  // Products looked up while checking this record (each rule asks again).
  std::map<std::string, v1::ProductRegistration> products = {};
};

inline absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}
google::protobuf::Timestamp ToProtoTime(absl::Time t);

// True when `t` lies in [period.from, period.until] (until unset: open).
bool InPeriod(const v1::Period& p, absl::Time t);

// The product's plan: this log's registration, else verified evidence.
// NOT_FOUND when neither has it.
absl::StatusOr<v1::ProductRegistration> FindProduct(RuleContext& ctx,
                                                    absl::string_view id);
absl::StatusOr<v1::PartyRegistration> FindParty(RuleContext& ctx,
                                                absl::string_view id);
const v1::Stage* FindStage(const v1::ProductRegistration& p,
                           absl::string_view stage_id);
// Density of the lot's product when known (for mass <-> volume).
std::optional<Decimal> DensityOf(RuleContext& ctx, const v1::LotState& lot);

// `q` in the lot's unit (FAILED_PRECONDITION when units are incompatible).
absl::StatusOr<Decimal> InLotUnit(RuleContext& ctx, const v1::LotState& lot,
                                  const v1::Quantity& q);
// Decimal fields of LotState ("" reads as zero).
Decimal Dec(const std::string& s);

inline absl::Status Refuse(absl::string_view msg) {
  return absl::FailedPreconditionError(msg);
}

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_RULE_CONTEXT_H_
