// Domain state in the store's index family (issue 4 item 4): lots and
// holdings, statuses, releases, authorisations, personnel, keys, transfer
// and lot -> entry indexes. Every key starts with "d/" (the store reserves
// "r/"). Rows:
//   d/lot/<lot>                 LotState
//   d/prod/<product>            ProductRegistration (latest)
//   d/site/<site>               SiteRegistration (latest)
//   d/party/<party>             PartyRegistration (latest)
//   d/pers/<site>/<person>      PersonnelAssignment (latest)
//   d/staff/<site>              SiteStaff (the site's d/pers rows, in order;
//                               deleted by a personnel change there, written
//                               again by the next production record)
//   d/key/<key name>            KeyState
//   d/dev/<deviation id>        Deviation (latest)
//   d/xin/<transfer>            ReceivedTransfer (received here; deleted
//                               when that receipt is voided)
//   d/ref/<lot>\0<be64 index>   "" (entries touching the lot)
//   d/tref/<transfer>\0<be64>   "" (entries of a transfer)
//   d/corr/<be64 index>\0<be64> "" (corrections of an entry)
//   d/qa/<be64 index>           <kind><lot>: entry `index` is a released
//                               site release (kind 's') or incoming
//                               acceptance ('a') of a lot held here
//   d/qaon/<lot>\0<kind>        be64 indexes of the released decisions of
//                               that kind behind the lot's site_released
//                               ('s') or incoming_accepted ('a') flag;
//                               read only while the flag is set (the
//                               records that clear the flag leave it)
//   d/made/<be64 index>         <lot>: entry `index` is the lot production
//                               that made the lot (for a correction)
//   d/sent/<be64 index>         Dispatch: entry `index` is a dispatch; its
//                               transfer id and, per container, the lot and
//                               the quantity taken in the lot's unit (what
//                               a correction gives back)
//   d/rcvd/<be64 index>         <transfer>: entry `index` is a receipt
//   d/xf/<be64 index>           Transformation: entry `index` is a
//                               transformation; its product, per input the
//                               lot and the quantity consumed in the lot's
//                               unit (what a correction gives back), and
//                               its output lots (what it forgets)
//   d/was/<be64 index><lot>     LotState of the lot just before receipt
//                               `index` ("" when not held here), one row
//                               per lot it received (what a correction
//                               puts back)
//   d/void/<be64 index>         be64 indexes of the "did not occur"
//                               corrections of entry `index` (Voided)
//   d/voids/<be64 index>        be64 index: entry `index` is a "did not
//                               occur" correction of that entry
//   d/find/<be64 index>/<rule>  RuleFinding (pilot rules in finding mode)
// Thread-compatible: functions operate on the caller's IndexTxn.
#ifndef SEGLEDGER_LEDGER_DOMAIN_STATE_H_
#define SEGLEDGER_LEDGER_DOMAIN_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "ledger/store/kv.h"
#include "ledger/store/log_store.h"
#include "segledger/v1/records.pb.h"

namespace segledger::domain {

inline constexpr absl::string_view kDomainPrefix = "d/";

std::string Be64(uint64_t v);
uint64_t FromBe64(absl::string_view b);  // precondition: 8 bytes

std::string LotKey(absl::string_view lot);
std::string PersonnelPrefix(absl::string_view site);
std::string PersonnelKey(absl::string_view site, absl::string_view person);
std::string StaffKey(absl::string_view site);
std::string RefKey(absl::string_view lot, uint64_t index);
std::string RefPrefix(absl::string_view lot);
std::string TransferRefKey(absl::string_view transfer, uint64_t index);
std::string TransferRefPrefix(absl::string_view transfer);
std::string CorrectionKey(uint64_t corrected, uint64_t correction);
std::string CorrectionPrefix(uint64_t corrected);
inline constexpr char kSiteReleaseKind = 's';
inline constexpr char kAcceptanceKind = 'a';
std::string QaEntryKey(uint64_t index);
std::string QaInEffectKey(absl::string_view lot, char kind);
std::string MadeKey(uint64_t index);
std::string SentKey(uint64_t index);
std::string ReceivedKey(uint64_t index);
std::string TransformedKey(uint64_t index);
std::string WasPrefix(uint64_t index);
std::string WasKey(uint64_t index, absl::string_view lot);
std::string VoidKey(uint64_t index);
std::string VoidsKey(uint64_t correction);

// Reads a proto row; nullopt when absent; DATA_LOSS when it does not parse.
template <typename T>
absl::StatusOr<std::optional<T>> ReadRow(store::IndexTxn& txn,
                                         absl::string_view key) {
  auto v = txn.Get(key);
  if (absl::IsNotFound(v.status())) return std::optional<T>();
  if (!v.ok()) return v.status();
  T m;
  if (!m.ParseFromString(*v)) {
    return absl::DataLossError(absl::StrCat("index row ", key, " is corrupt"));
  }
  return std::optional<T>(std::move(m));
}

void WriteRow(store::IndexTxn& txn, absl::string_view key,
              const google::protobuf::Message& m);

// Entry indexes of a lot in this log, ascending.
absl::StatusOr<std::vector<uint64_t>> LotRefs(store::IndexTxn& txn,
                                              absl::string_view lot);

// Whether entry `index` is voided: a "did not occur" correction of it is
// recorded (d/void) that is not itself voided (as DomainGraph::DidNotOccur
// judges the log). False on a store written before d/void.
absl::StatusOr<bool> Voided(store::IndexTxn& txn, uint64_t index);

// The first entry after receipt `index` that touched a lot it received
// and is not voided, as (lot, entry index); nullopt when there is none (or
// `index` has no d/was rows).
absl::StatusOr<std::optional<std::pair<std::string, uint64_t>>> UsedSince(
    store::IndexTxn& txn, uint64_t index);
// The same for `lots`: the first entry after `index` that touched one of
// them and is not voided.
absl::StatusOr<std::optional<std::pair<std::string, uint64_t>>> LotsUsedSince(
    store::IndexTxn& txn, const std::vector<std::string>& lots, uint64_t index);
// The output lot ids of a transformation (a d/xf row).
std::vector<std::string> OutputLots(const v1::Transformation& t);

// An in-memory index family with transactions, for tests, rebuilds and
// tools. Not thread-safe.
class MemoryIndex {
 public:
  class Txn : public store::IndexTxn {
   public:
    // `leaves` (may be empty: UNIMPLEMENTED) answers LeafHash.
    explicit Txn(MemoryIndex* base, store::LeafLookup leaves = nullptr)
        : base_(base), leaves_(std::move(leaves)) {}
    absl::StatusOr<std::string> Get(absl::string_view key) override;
    void Put(absl::string_view key, absl::string_view value) override;
    void Delete(absl::string_view key) override;
    absl::Status ScanPrefix(
        absl::string_view prefix,
        const std::function<bool(absl::string_view, absl::string_view)>& fn)
        override;
    absl::StatusOr<Hash> LeafHash(uint64_t index) override;
    void Commit();  // applies the overlay to the base
    void Discard() { overlay_.clear(); }

   private:
    MemoryIndex* base_;
    const store::LeafLookup leaves_;
    std::map<std::string, std::optional<std::string>> overlay_;
  };
  const std::map<std::string, std::string>& rows() const { return rows_; }

 private:
  std::map<std::string, std::string> rows_;
};

// A read-only IndexTxn over a KvStore's index family (for queries on a
// node's own store). Put/Delete are ignored. `kv` must outlive the view.
class KvIndexView : public store::IndexTxn {
 public:
  explicit KvIndexView(store::KvStore* kv) : kv_(kv) {}
  absl::StatusOr<std::string> Get(absl::string_view key) override;
  void Put(absl::string_view, absl::string_view) override {}
  void Delete(absl::string_view) override {}
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      override;

 private:
  store::KvStore* kv_;
};

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_STATE_H_
