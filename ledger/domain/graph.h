// DomainGraph: the queries of DOMAIN.md "Queries an inspector and MAH QA
// need" over a set of verified entries from one or many logs (the MAH view,
// segaudit), and the findings of its item 5.
//
// Entries come in as (origin, index, leaf hash, EntryBody); the caller has
// verified them (signature, inclusion, checkpoint) or passes a signature
// checker to AddSigned. The node queries its own store through
// store_queries.h, which loads only the entries a query needs into a graph.
//
// Thread-compatible: build on one thread, then query from any number of
// threads (queries are const).
#ifndef SEGLEDGER_LEDGER_DOMAIN_GRAPH_H_
#define SEGLEDGER_LEDGER_DOMAIN_GRAPH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger/domain/findings.h"
#include "ledger/hash.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::domain {

struct GraphEntry {
  std::string origin;
  uint64_t index = 0;
  Hash leaf_hash{};
  v1::EntryBody body;
  v1::EntryRef Ref() const;
  absl::Time EventTime() const;  // header event time, else recorded_at
};

struct TimelineItem {
  v1::EntryRef ref;
  std::string kind;      // record kind, e.g. "dispatch"
  std::string biz_step;  // CBV
  std::string site_id;
  absl::Time event_time;
  int utc_offset_minutes = 0;
  absl::Time recorded_at;
  std::vector<std::string> signatures;     // "Name / MEANING / RFC3339 time"
  std::vector<v1::EntryRef> corrected_by;  // corrections of this entry
  bool is_correction = false;
  // Set when the record is in the lot's timeline because it names a
  // transfer the lot was dispatched or received in, not the lot itself
  // (a transport condition report, a deviation or recall of the shipment).
  std::string via_transfer;
};

struct TracedLot {
  std::string lot_id;
  std::string material_id;
  std::set<std::string> sites;  // where it was produced or held
};

struct TraceResult {
  std::map<std::string, TracedLot> lots;  // includes the start lot
  std::set<std::string> sites;
  std::set<std::string> transfers;
  std::set<std::string> in_transit;   // dispatched, not yet received
  std::vector<v1::EntryRef> records;  // every record involved
};

// A quantity a balance leaves out of its sums: it does not convert to the
// unit the balance is kept in (a count against a mass or volume; mass
// against volume without the product's density in the graph), does not
// parse, or would overflow the sum.
struct UncountedQuantity {
  v1::EntryRef record;
  std::string record_kind;  // "receipt", ...
  std::string lot_id;
  // What the quantity is: "produced", "consumed", "received", "dispatched",
  // "sampled" or "destroyed".
  std::string movement;
  std::string quantity;  // as recorded: "<value> <unit>"
  std::string reason;    // e.g. "cannot convert H87 to LTR: count vs ..."
};
// "<record_kind> <origin> index <n>: <movement> <quantity> not counted
// (<reason>)".
std::string DescribeUncounted(const UncountedQuantity& u);

struct LotBalance {
  std::string lot_id;
  // The unit of the lot's first quantity in the graph; every sum below is
  // in it.
  std::string unit;
  struct Site {
    Decimal produced, received, consumed, dispatched, sampled, destroyed,
        on_hand;
  };
  std::map<std::string, Site> sites;  // by site id
  // The lot's quantity in dispatches whose transfer has no receipt in the
  // graph. A shipment received short is not in transit: compare its
  // dispatched and received quantities with Shipment().
  Decimal in_transit;
  // The lot's quantities left out of the sums above, in log order. While
  // there is one the balance is incomplete: its sums and on-hand figures
  // are not to be read as balanced.
  std::vector<UncountedQuantity> uncounted;
};

struct ShipmentBalance {
  std::string transfer_id;
  bool received = false;
  // lot -> (dispatched, received) in the dispatch's unit of the lot.
  std::map<std::string, std::pair<Decimal, Decimal>> lots;
  std::map<std::string, std::string> units;  // lot -> that unit
  // The quantities left out of `lots` (a lot named here cannot be compared
  // dispatched against received), and their DescribeUncounted joined by
  // "; " (empty: none).
  std::vector<UncountedQuantity> uncounted;
  std::string unit_note;
};

class DomainGraph {
 public:
  using SignatureChecker = std::function<absl::Status(
      absl::string_view origin, absl::string_view key_name,
      absl::string_view body, absl::string_view signature)>;

  // Adds a verified entry. A second entry at the same (origin, index) with
  // another leaf hash is recorded as equivocation and not indexed.
  void Add(std::string origin, uint64_t index, const Hash& leaf_hash,
           v1::EntryBody body);
  // Parses `body` (leaf hash computed from the bytes as given) and adds it;
  // with a checker, a failing signature is a kBadSignature finding and the
  // entry is not added. INVALID_ARGUMENT when the body does not parse.
  absl::Status AddSigned(absl::string_view origin, absl::string_view body,
                         absl::string_view signature,
                         const SignatureChecker& checker);

  size_t size() const { return entries_.size(); }
  const GraphEntry* Find(absl::string_view origin, uint64_t index) const;

  // The corrections of `e` in the graph: entries of e's own log whose
  // `corrects` names e's index and leaf hash (a correction naming another
  // log's entry, or another leaf hash, corrects nothing).
  std::vector<const GraphEntry*> CorrectionsOf(const GraphEntry& e) const;
  // Whether `e` is voided: corrected as "did not occur" by a correction
  // that is not itself voided. Traces, balances and shipments skip voided
  // entries; the timeline shows them with their corrections.
  bool DidNotOccur(const GraphEntry& e) const;

  // Every record naming the lot, and every record naming a transfer the
  // lot was dispatched or received in, in event-time order, with the
  // corrections of each (CorrectionsOf), voided records included.
  std::vector<TimelineItem> Timeline(absl::string_view lot_id) const;
  // Transfers of the lot's dispatches and receipts.
  std::set<std::string> TransfersOfLot(absl::string_view lot_id) const;
  TraceResult Backward(absl::string_view lot_id) const;
  TraceResult Forward(absl::string_view lot_id) const;
  LotBalance MassBalance(absl::string_view lot_id) const;
  ShipmentBalance Shipment(absl::string_view transfer_id) const;
  // Every record at a site of `province` (ISO 3166-2) plus the transfers
  // touching those sites.
  std::vector<v1::EntryRef> ProvinceView(absl::string_view province) const;
  std::vector<DomainFinding> Findings(const FindingOptions& options) const;

 private:
  friend class FindingScanner;
  const GraphEntry* ByRef(const v1::EntryRef& ref) const;
  // The entries naming a lot or a transfer, in the order added.
  const std::vector<const GraphEntry*>& OfLot(absl::string_view lot) const;
  const std::vector<const GraphEntry*>& OfTransfer(
      absl::string_view transfer) const;
  // The plan of the product's MAH (nullptr when unknown). Registrations by
  // an author registered as MAH count over those by an author with no
  // registration in the graph; an author registered with another role never
  // speaks for the product. The MAH is the author of the first of them (by
  // event time), and its plan the latest it registered in that log.
  const v1::ProductRegistration* Product(absl::string_view id) const;
  // The entry of the party's registration in log `origin`, else of its
  // latest anywhere in the graph (nullptr: none).
  const GraphEntry* PartyOf(absl::string_view origin,
                            absl::string_view party) const;
  const v1::SiteRegistration* Site(absl::string_view id) const;
  // The registration of the product a lot was produced for (nullptr when
  // unknown to this graph).
  const v1::ProductRegistration* ProductOfLot(absl::string_view lot) const;
  std::optional<Decimal> Density(absl::string_view lot) const;
  // The product's mass-balance tolerance in percent (DOMAIN.md "Record
  // catalogue", product registration); zero when unknown.
  Decimal MassBalanceTolerancePercent(absl::string_view lot) const;
  void Trace(absl::string_view lot, bool backward, TraceResult* out) const;
  // Whether a receipt of the transfer, not voided, is in the graph.
  bool HasReceipt(absl::string_view transfer) const;
  // The lots whose MassBalance may leave a quantity out, from the records
  // fed to Add (at least every one not voided): not all of a lot's
  // quantities share one unit, one does not parse, or their total would
  // overflow. Every other lot's balance counts everything, so Findings
  // computes only these balances, noting quantities as it visits each
  // entry. Holds views into the records: they must outlive it.
  class UncountedLots {
   public:
    void Add(const v1::Record& r);
    const std::set<std::string>& lots() const { return lots_; }

   private:
    struct Lot {
      const std::string* unit = nullptr;
      Decimal total;
      bool may_leave_out = false;
    };
    absl::flat_hash_map<absl::string_view, Lot> seen_;
    std::set<std::string> lots_;
  };
  bool DidNotOccur(const GraphEntry& e, int depth) const;

  std::vector<std::unique_ptr<GraphEntry>> entries_;
  // origin -> index -> entry. A B-tree per log: a node holds a dozen or
  // more entries (a million cost tens of thousands of nodes, not a million,
  // and no copy of the origin each), and a log's entries iterate in index
  // order (Findings).
  using LogEntries = absl::btree_map<uint64_t, const GraphEntry*>;
  std::map<std::string, LogEntries, std::less<>> by_pos_;
  std::map<std::string, std::vector<const GraphEntry*>> by_lot_;
  std::map<std::string, std::vector<const GraphEntry*>> by_transfer_;
  // (origin, index) pairs, looked up by (string_view, index) without
  // copying the origin (every entry's DidNotOccur asks).
  struct PosLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const absl::string_view ao = a.first, bo = b.first;
      return ao < bo || (ao == bo && a.second < b.second);
    }
  };
  std::map<std::pair<std::string, uint64_t>, std::vector<const GraphEntry*>,
           PosLess>
      corrections_;  // corrected (origin, index) -> same-log corrections
  // Every registration of each product, in the order added (Product()).
  std::map<std::string, std::vector<const GraphEntry*>> products_;
  std::map<std::string, const GraphEntry*> sites_;
  std::map<std::string, const GraphEntry*> parties_;
  // (origin, party) -> the latest registration of the party in that log.
  std::map<std::pair<std::string, std::string>, const GraphEntry*> log_parties_;
  std::vector<const GraphEntry*> personnel_;
  std::vector<DomainFinding> add_findings_;  // equivocation, bad signature
};

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_GRAPH_H_
