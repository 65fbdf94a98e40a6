// Internal to ledger/domain: what a rule or a state update sees, and shared
// helpers (lookups, quantity arithmetic in a lot's unit).
// Thread-compatible.
#ifndef SEGLEDGER_LEDGER_DOMAIN_RULE_CONTEXT_H_
#define SEGLEDGER_LEDGER_DOMAIN_RULE_CONTEXT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/domain/evidence.h"
#include "ledger/domain/hook.h"
#include "ledger/domain/quantity.h"
#include "ledger/domain/state.h"
#include "ledger/proto_time.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::domain {

// Parsed rows reused across records: registrations (product, party, site,
// personnel) and lot states. An entry is reused only while its source is
// provably unchanged: the same row bytes for this log's own rows, the same
// Evidence::Generation() (non-zero) for peer evidence. Keying by the bytes
// makes an entry true whatever happened to the row since (a refused
// request's writes, a failed group): the parse of those bytes is the entry.
// Thread-safe.
class RegistrationCache {
 public:
  template <typename T>
  using Ptr = std::shared_ptr<const T>;
  // The parsed row `bytes` of `key` (nullptr when it does not parse).
  Ptr<v1::ProductRegistration> ProductRow(absl::string_view key,
                                          const std::string& bytes);
  Ptr<v1::PartyRegistration> PartyRow(absl::string_view key,
                                      const std::string& bytes);
  Ptr<v1::SiteRegistration> SiteRow(absl::string_view key,
                                    const std::string& bytes);
  Ptr<v1::PersonnelAssignment> PersonnelRow(absl::string_view key,
                                            const std::string& bytes);
  Ptr<v1::SiteStaff> StaffRow(absl::string_view key, const std::string& bytes);
  Ptr<v1::LotState> LotRow(absl::string_view key, const std::string& bytes);
  // A lot state just written as `bytes` (its serialization), so the next
  // record that reads these bytes skips the parse.
  void RememberLot(absl::string_view key, std::string bytes,
                   Ptr<v1::LotState> lot);
  // Evidence lookups under `generation` (0: never cached).
  absl::StatusOr<Ptr<v1::ProductRegistration>> EvidenceProduct(
      Evidence& e, absl::string_view id);
  absl::StatusOr<Ptr<v1::PartyRegistration>> EvidenceParty(
      Evidence& e, absl::string_view id);

 private:
  template <typename T>
  struct Entry {
    std::string source;  // row bytes, or the generation as decimal
    Ptr<T> value;
  };
  template <typename T>
  using Map = std::map<std::string, Entry<T>, std::less<>>;
  template <typename T>
  Ptr<T> Row(Map<T>& map, absl::string_view key, const std::string& bytes,
             size_t max_entries);
  template <typename T, typename Find>
  absl::StatusOr<Ptr<T>> FromEvidence(Map<T>& map, Evidence& e,
                                      absl::string_view id, Find find);

  absl::Mutex mu_;
  Map<v1::ProductRegistration> products_ ABSL_GUARDED_BY(mu_);
  Map<v1::PartyRegistration> parties_ ABSL_GUARDED_BY(mu_);
  Map<v1::SiteRegistration> sites_ ABSL_GUARDED_BY(mu_);
  Map<v1::PersonnelAssignment> personnel_ ABSL_GUARDED_BY(mu_);
  Map<v1::SiteStaff> staff_ ABSL_GUARDED_BY(mu_);
  Map<v1::LotState> lots_ ABSL_GUARDED_BY(mu_);
};

struct RuleContext {
  const v1::EntryBody& body;
  const v1::Record& record;
  const v1::RecordHeader* header;  // nullptr for key records
  store::IndexTxn& txn;
  const DomainConfig& config;
  absl::Time event_time;  // header event time, else recorded_at
  RegistrationCache* registrations = nullptr;  // nullptr: no reuse
  // Products looked up for this record (each rule asks again).
  std::map<std::string, RegistrationCache::Ptr<v1::ProductRegistration>,
           std::less<>>
      products = {};
  // Lot rows of this record by lot id (nullptr: absent), read by the rules
  // and the state update. The update writes lots only through PutLot,
  // which keeps this map equal to the txn's rows.
  std::map<std::string, RegistrationCache::Ptr<v1::LotState>, std::less<>>
      lots = {};
  // The last PerLot (rules_internal.h) of this record and what it was asked
  // for: a record's quantity rules ask for the same items. Cleared by
  // PutLot.
  std::vector<std::pair<absl::string_view, const v1::Quantity*>> per_lot_items =
      {};
  std::optional<absl::StatusOr<std::map<std::string, Decimal>>> per_lot = {};
};

// True when `t` lies in [period.from, period.until] (until unset: open).
bool InPeriod(const v1::Period& p, absl::Time t);

// The product's plan: this log's registration when its author is
// registered as a MAH (R-PRODUCT-OWNER), else the verified evidence's (the
// MAH's, docs/security.md), else this log's registration by another party
// (a row written before R-PRODUCT-OWNER). NOT_FOUND when none has it. The
// pointer lives as long as `ctx`.
absl::StatusOr<const v1::ProductRegistration*> FindProduct(
    RuleContext& ctx, absl::string_view id);
// The verified evidence's registration of the product (NOT_FOUND when the
// evidence has none or there is no evidence).
absl::StatusOr<RegistrationCache::Ptr<v1::ProductRegistration>> EvidenceProduct(
    RuleContext& ctx, absl::string_view id);
absl::StatusOr<RegistrationCache::Ptr<v1::PartyRegistration>> FindParty(
    RuleContext& ctx, absl::string_view id);
// This log's registration of `site_id` (nullptr when absent; DATA_LOSS when
// the row is corrupt).
absl::StatusOr<RegistrationCache::Ptr<v1::SiteRegistration>> FindSite(
    RuleContext& ctx, absl::string_view site_id);
// This log's d/staff row of `site_id` (nullptr when absent; DATA_LOSS when
// the row is corrupt).
absl::StatusOr<RegistrationCache::Ptr<v1::SiteStaff>> FindStaff(
    RuleContext& ctx, absl::string_view site_id);
// The lot's row (nullptr when absent; DATA_LOSS when corrupt; see
// RuleContext::lots). The pointer lives as long as `ctx` or the lot's next
// PutLot, whichever ends first.
absl::StatusOr<const v1::LotState*> RuleLot(RuleContext& ctx,
                                            absl::string_view id);
// Writes the lot's row (state updates only).
void PutLot(RuleContext& ctx, const std::string& id, v1::LotState lot);
// Deletes the lot's row (state updates only).
void DeleteLot(RuleContext& ctx, const std::string& id);
const v1::Stage* FindStage(const v1::ProductRegistration& p,
                           absl::string_view stage_id);
// Density of the lot's product when known (for mass <-> volume); for a
// received lot, that of the product a transformation consuming it makes.
std::optional<Decimal> DensityOf(RuleContext& ctx, const v1::LotState& lot);

// `q` in the lot's unit (FAILED_PRECONDITION when units are incompatible).
absl::StatusOr<Decimal> InLotUnit(RuleContext& ctx, const v1::LotState& lot,
                                  const v1::Quantity& q);
// Decimal fields of LotState ("" reads as zero).
Decimal Dec(const std::string& s);
// A lot received here (whether or not it was made here: a lot that left
// and came back) whose latest arrival has no incoming acceptance yet.
bool ReceivedNotAccepted(const v1::LotState& lot);
// Rejected, recalled or returned (docs/rules.md lot lifecycle): the lot is
// not released, held, quarantined or made available again; it may only be
// destroyed, returned, or (unless rejected already) rejected.
bool FinalStatus(v1::LotStatus s);

inline absl::Status Refuse(absl::string_view msg) {
  return absl::FailedPreconditionError(msg);
}

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_RULE_CONTEXT_H_
