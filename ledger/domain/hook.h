// DomainHook: the GMP rules at append (issue 4 item 3) and the domain state
// (item 4), plugged into the LogStore as its AppendHook.
//
// OnAppend = validate (INVALID_ARGUMENT naming the field path) + every rule
// of the table in rules.h (FAILED_PRECONDITION "rule R-...: ...") + state
// update through the IndexTxn. All checks run before the first write, and
// the store drops the request's index rows on refusal, so a refused record
// changes nothing. Pilot parameters (DOMAIN.md "The pilot program") are
// configuration, each refusing, recording a finding row, or off.
//
// Cost (issue 4 "Performance"): the rules and the update of a record share
// one read and parse of each lot and product row (RuleContext), parsed rows
// (registrations, lot states) are reused across records while their row
// bytes, or the Evidence::Generation(), are unchanged, and the store's
// IndexTxn keeps hot rows in memory (store/index_txn.h IndexRowCache).
//
// The store runs the stateless field validation as Precheck in the
// appending thread, and the rules and update (OnPrecheckedAppend) in the
// commit leader; OnAppend does both, for callers other than the store.
//
// Thread-compatible: the store calls OnAppend from the commit leader only;
// Precheck is thread-safe.
// The Evidence must be thread-safe; the registration cache is.
#ifndef SEGLEDGER_LEDGER_DOMAIN_HOOK_H_
#define SEGLEDGER_LEDGER_DOMAIN_HOOK_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ledger/domain/evidence.h"
#include "ledger/store/log_store.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::domain {

enum class PilotMode { kRefuse, kFinding, kOff };

// Default DomainConfig::max_event_ahead; the findings use it too.
inline constexpr absl::Duration kMaxEventAhead = absl::Minutes(5);

struct DomainConfig {
  std::string party_id;  // the party this log belongs to
  std::string site_id;   // its site (empty for a party-level log, e.g. MAH)
  Evidence* evidence = nullptr;  // not owned; nullptr: no peer evidence
  // A CMO needs this many years of commercial biologics production.
  int cmo_min_experience_years = 3;
  PilotMode cmo_experience = PilotMode::kRefuse;
  // The MAH keeps this many technical/QA staff on each CMO site while it
  // produces.
  int min_mah_staff_on_site = 2;
  PilotMode mah_staff = PilotMode::kRefuse;
  // How far a record's event time may lie after the time the node records
  // it (clocks of the recording system and the node disagree this much).
  absl::Duration max_event_ahead = kMaxEventAhead;
};

class RegistrationCache;  // rule_context.h
struct RuleContext;       // rule_context.h

class DomainHook : public store::AppendHook {
 public:
  explicit DomainHook(DomainConfig config);

  absl::Status OnAppend(const v1::EntryBody& body,
                        store::IndexTxn& txn) override;

  // Field validation (ValidateRecord), in the appending thread.
  absl::Status Precheck(const store::AppendRecord& record) const override;
  // OnAppend without the field validation Precheck did.
  absl::Status OnPrecheckedAppend(const v1::EntryBody& body,
                                  store::IndexTxn& txn) override;

  // Validation and rules only; pilot breaches in finding mode are appended
  // to `findings`. Writes nothing.
  absl::Status Check(const v1::EntryBody& body, store::IndexTxn& txn,
                     std::vector<v1::RuleFinding>* findings) const;
  // State update only (used by OnAppend after Check, and by rebuilds).
  absl::Status Apply(const v1::EntryBody& body, store::IndexTxn& txn) const;

  // Pilot rules in finding mode that this record breaches (state reads only).
  absl::Status PilotFindings(const v1::EntryBody& body, store::IndexTxn& txn,
                             std::vector<v1::RuleFinding>* findings) const;

  const DomainConfig& config() const { return config_; }

 private:
  // Check without the field validation.
  absl::Status CheckRules(const v1::EntryBody& body, store::IndexTxn& txn,
                          std::vector<v1::RuleFinding>* findings) const;
  absl::Status CheckRules(RuleContext& ctx,
                          std::vector<v1::RuleFinding>* findings) const;
  absl::Status Apply(RuleContext& ctx) const;
  absl::Status CheckAndApply(const v1::EntryBody& body, store::IndexTxn& txn);

  DomainConfig config_;
  // Parsed registrations reused across records (thread-safe; copies of the
  // hook share it).
  std::shared_ptr<RegistrationCache> registrations_;
};

// Rebuilds the domain state from the log: deletes every "d/" row of `txn`
// and applies each body that `for_each_body` yields (in index order) without
// re-checking rules. The caller commits `txn`.
using BodyVisitor = std::function<absl::Status(const v1::EntryBody&)>;
absl::Status RebuildState(
    const std::function<absl::Status(const BodyVisitor&)>& for_each_body,
    const DomainHook& hook, store::IndexTxn& txn);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_HOOK_H_
