// The hand-off outbox (DESIGN.md "Cross-site hand-off", steps 2 and 5).
//
// OutboxHook wraps the log's AppendHook (the DomainHook): the inner hook
// runs first, and only when it accepts does the outbox add, through the
// same IndexTxn, a row "o/p/<destination origin>\0<be64 index>" for a
// Dispatch or Receipt and "o/k/<be64 index>" for a key record. The rows
// land in the entry's own synced batch, so a queued delivery exists exactly
// when its entry does (a refused record leaves no row).
//
// Outbox reads those rows and keeps the delivery bookkeeping (attempts,
// next attempt with exponential backoff, delivered) in the `peers` family
// ("o/<destination>\0<be64 index>", peer_keys.h), and builds the evidence
// for a row from the LogStore: the entry, its inclusion proof at the
// latest checkpoint, that checkpoint, a consistency proof from the
// receiver's last known size, and the log's key records. The receiver is
// idempotent by (origin, index), so redelivery after a crash has
// exactly-once effect.
//
// OutboxHook: thread-compatible (the commit leader calls it). Outbox:
// thread-safe.
#ifndef SEGLEDGER_LEDGER_PEERS_OUTBOX_H_
#define SEGLEDGER_LEDGER_PEERS_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/clock.h"
#include "ledger/store/log_store.h"
#include "segledger/v1/entry.pb.h"
#include "segledger/v1/peers.pb.h"

namespace segledger::peers {

// The origin of the log a Dispatch or Receipt must be delivered to; an
// error refuses the record (the hook returns it).
using DestinationFn =
    std::function<absl::StatusOr<std::string>(const v1::EntryBody&)>;

// Receipt: the origin of the dispatch it names. Dispatch: the origin
// configured for its to_party_id (FAILED_PRECONDITION naming it when none).
DestinationFn DestinationsByParty(
    std::map<std::string, std::string> party_to_origin);

class OutboxHook : public store::AppendHook {
 public:
  // `inner` (may be null) is not owned and must outlive the hook.
  OutboxHook(store::AppendHook* inner, DestinationFn destination)
      : inner_(inner), destination_(std::move(destination)) {}
  absl::Status OnAppend(const v1::EntryBody& body,
                        store::IndexTxn& txn) override;
  // The inner hook's Precheck; the outbox rows need state.
  absl::Status Precheck(const store::AppendRecord& record) const override;
  absl::Status OnPrecheckedAppend(const v1::EntryBody& body,
                                  store::IndexTxn& txn) override;

 private:
  absl::Status AddRows(const v1::EntryBody& body, store::IndexTxn& txn);

  store::AppendHook* inner_;
  DestinationFn destination_;
};

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(60);
};

struct Delivery {
  std::string destination;
  uint64_t index = 0;
  v1::OutboxState state;
};

class Outbox {
 public:
  // `log` and `clock` (nullptr: system clock) must outlive the outbox.
  explicit Outbox(store::LogStore& log, const Clock* clock = nullptr,
                  BackoffPolicy policy = {});

  // Undelivered rows whose next attempt is due at `now`, in (destination,
  // index) order, at most `max`. Each destination's rows are read from the
  // first one not known delivered (rows are added in index order and a
  // delivered row stays delivered), so a pass costs the rows still in
  // flight rather than the whole history; the first pass after opening
  // reads them all.
  absl::StatusOr<std::vector<Delivery>> Pending(
      absl::Time now = absl::InfiniteFuture(),
      size_t max = std::numeric_limits<size_t>::max()) const;
  // Records the delivery (idempotent). NOT_FOUND when no such row exists.
  absl::Status MarkDelivered(absl::string_view destination, uint64_t index);
  // Records a failed attempt: attempts + 1, next attempt after
  // min(initial * 2^(attempts-1), max). NOT_FOUND when no such row exists.
  absl::Status MarkFailed(absl::string_view destination, uint64_t index,
                          const absl::Status& error);
  const std::string& origin() const { return log_.origin(); }

  absl::StatusOr<v1::OutboxState> State(absl::string_view destination,
                                        uint64_t index) const;

  // Evidence for entry `index` for a receiver that holds size
  // `receiver_size` of this log (0: none). Signs a checkpoint when none
  // covers the entry yet.
  absl::StatusOr<v1::HandoffEvidence> BuildEvidence(uint64_t index,
                                                    uint64_t receiver_size);

 private:
  absl::Status CheckRow(absl::string_view destination, uint64_t index) const;
  // Pending's work for one destination: its rows from the first not known
  // delivered; appends to `rows` up to `max`.
  absl::Status PendingOf(const std::string& destination, absl::Time now,
                         size_t max, std::vector<Delivery>& rows) const;
  absl::Status AddKeyRecords(uint64_t size, v1::HandoffEvidence& ev) const;

  store::LogStore& log_;
  const Clock* clock_;
  BackoffPolicy policy_;
  absl::Mutex mu_;  // serializes bookkeeping updates
  mutable absl::Mutex cursor_mu_;
  // Per destination: every row below this index is delivered.
  mutable std::map<std::string, uint64_t, std::less<>> delivered_below_
      ABSL_GUARDED_BY(cursor_mu_);
};

// Index-family key of an outbox row.
std::string OutboxRowKey(absl::string_view destination, uint64_t index);

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_OUTBOX_H_
