// Traces, balances and the province view of DomainGraph (graph.h).
#include <algorithm>
#include <deque>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/links.h"
#include "ledger/domain/validate.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

void AddRecord(TraceResult* out,
               std::set<std::pair<std::string, uint64_t>>* seen,
               const GraphEntry* e) {
  if (seen->insert({e->origin, e->index}).second)
    out->records.push_back(e->Ref());
}

// Quantity `q` in `unit`, or why it cannot be.
absl::StatusOr<Decimal> In(const v1::Quantity& q, const std::string& unit,
                           std::optional<Decimal> density) {
  SEG_ASSIGN_OR_RETURN(Quantity parsed, ParseQuantity(q, "quantity"));
  return ConvertTo(parsed, unit, density);
}

// Adds `d` to `field`; the overflow otherwise.
absl::Status Bump(Decimal* field, Decimal d) {
  SEG_ASSIGN_OR_RETURN(*field, field->Add(d));
  return absl::OkStatus();
}

using Field = Decimal LotBalance::Site::*;

// Calls fn(lot, field, movement, quantity) for each quantity `r` adds to
// or takes from a site's balance of a lot; a destruction without a
// quantity (all on hand) passes nullptr.
template <typename Fn>
void ForEachQuantity(const v1::Record& r, Fn fn) {
  if (r.has_lot_produced()) {
    fn(r.lot_produced().lot_id(), &LotBalance::Site::produced, "produced",
       &r.lot_produced().quantity());
  } else if (r.has_transformation()) {
    for (const auto& o : r.transformation().outputs()) {
      fn(o.lot_id(), &LotBalance::Site::produced, "produced", &o.quantity());
    }
    for (const auto& i : r.transformation().inputs()) {
      fn(i.lot_id(), &LotBalance::Site::consumed, "consumed", &i.quantity());
    }
  } else if (r.has_dispatch()) {
    for (const auto& c : r.dispatch().containers()) {
      fn(c.lot_id(), &LotBalance::Site::dispatched, "dispatched",
         &c.quantity());
    }
  } else if (r.has_receipt()) {
    for (const auto& c : r.receipt().containers()) {
      fn(c.lot_id(), &LotBalance::Site::received, "received",
         &c.received_quantity());
    }
  } else if (r.has_qc_result() && r.qc_result().has_sample_quantity()) {
    fn(r.qc_result().lot_id(), &LotBalance::Site::sampled, "sampled",
       &r.qc_result().sample_quantity());
  } else if (r.has_status_change() &&
             r.status_change().action() == v1::STATUS_ACTION_DESTROY) {
    fn(r.status_change().lot_id(), &LotBalance::Site::destroyed, "destroyed",
       r.status_change().has_quantity() ? &r.status_change().quantity()
                                        : nullptr);
  }
}

// The same for one lot: fn(field, movement, quantity).
template <typename Fn>
void ForEachLotQuantity(const v1::Record& r, absl::string_view lot, Fn fn) {
  ForEachQuantity(r, [&](absl::string_view l, Field f, const char* movement,
                         const v1::Quantity* q) {
    if (l == lot) fn(f, movement, q);
  });
}

UncountedQuantity Uncounted(const GraphEntry& e, absl::string_view lot,
                            absl::string_view movement, const v1::Quantity& q,
                            const absl::Status& why) {
  UncountedQuantity u;
  u.record = e.Ref();
  u.record_kind = std::string(RecordKindName(e.body.record()));
  u.lot_id = std::string(lot);
  u.movement = std::string(movement);
  u.quantity = absl::StrCat(q.value(), " ", q.unit());
  u.reason = std::string(why.message());
  return u;
}

}  // namespace

std::string DescribeUncounted(const UncountedQuantity& u) {
  return absl::StrCat(u.record_kind, " ", u.record.origin(), " index ",
                      u.record.index(), ": ", u.movement, " ", u.quantity,
                      " not counted (", u.reason, ")");
}

void DomainGraph::Trace(absl::string_view start, bool backward,
                        TraceResult* out) const {
  std::set<std::pair<std::string, uint64_t>> seen;
  std::deque<std::string> todo{std::string(start)};
  while (!todo.empty()) {
    std::string lot = todo.front();
    todo.pop_front();
    if (out->lots.count(lot)) continue;
    TracedLot& tl = out->lots[lot];
    tl.lot_id = lot;
    for (const GraphEntry* e : OfLot(lot)) {
      if (DidNotOccur(*e)) continue;
      const v1::Record& r = e->body.record();
      const v1::RecordHeader* h = HeaderOf(r);
      const std::string site = h != nullptr ? h->site_id() : "";
      if (r.has_lot_produced()) {
        tl.material_id = r.lot_produced().material_id();
        tl.sites.insert(site);
      } else if (r.has_transformation()) {
        const auto& t = r.transformation();
        bool is_output = false;
        for (const auto& o : t.outputs()) {
          if (o.lot_id() == lot) {
            is_output = true;
            tl.material_id = o.material_id();
          }
        }
        if (is_output) tl.sites.insert(site);
        if (is_output == backward) {
          // Backward: follow inputs of what made this lot; forward: outputs
          // of what consumed it.
          if (backward) {
            for (const auto& i : t.inputs()) todo.push_back(i.lot_id());
          } else {
            for (const auto& o : t.outputs()) todo.push_back(o.lot_id());
          }
        } else {
          continue;
        }
      } else if (r.has_dispatch()) {
        out->transfers.insert(r.dispatch().transfer_id());
        out->sites.insert(r.dispatch().to_site_id());
        tl.sites.insert(site);
      } else if (r.has_receipt()) {
        // A graph may hold a receipt without the sender's dispatch (a
        // site's own log, before the dispatch's evidence is loaded): the
        // receipt alone names the transfer and the site that took the lot
        // in. The dispatching site comes from the dispatch (it names the
        // lot) when that is in the graph; the receipt's reference to it
        // gives only the sender's log origin, not a site.
        out->transfers.insert(r.receipt().transfer_id());
        tl.sites.insert(site);
      } else if (!r.has_qa_release() && !r.has_qc_result() &&
                 !r.has_status_change()) {
        continue;
      }
      AddRecord(out, &seen, e);
    }
    for (const auto& s : tl.sites) {
      if (!s.empty()) out->sites.insert(s);
    }
  }
  // Once, after the walk (per lot it made the trace quadratic).
  for (const auto& t : out->transfers) {
    if (!HasReceipt(t)) out->in_transit.insert(t);
  }
}

TraceResult DomainGraph::Backward(absl::string_view lot) const {
  TraceResult out;
  Trace(lot, true, &out);
  return out;
}

TraceResult DomainGraph::Forward(absl::string_view lot) const {
  TraceResult out;
  Trace(lot, false, &out);
  return out;
}

bool DomainGraph::HasReceipt(absl::string_view transfer) const {
  for (const GraphEntry* e : OfTransfer(transfer)) {
    if (e->body.record().has_receipt() && !DidNotOccur(*e)) return true;
  }
  return false;
}

void DomainGraph::UncountedLots::Add(const v1::Record& r) {
  ForEachQuantity(
      r, [&](absl::string_view lot, Field, const char*, const v1::Quantity* q) {
        if (q == nullptr || lot.empty()) return;
        Lot& l = seen_[lot];
        if (l.may_leave_out) return;
        if (l.unit == nullptr) l.unit = &q->unit();
        absl::StatusOr<Quantity> p = ParseQuantity(*q, "quantity");
        if (p.ok() && q->unit() == *l.unit) {
          absl::StatusOr<Decimal> sum = l.total.Add(p->value);
          if (sum.ok()) {
            l.total = *sum;
            return;
          }
        }
        l.may_leave_out = true;
        lots_.insert(std::string(lot));
      });
}

LotBalance DomainGraph::MassBalance(absl::string_view lot) const {
  LotBalance b;
  b.lot_id = std::string(lot);
  const std::optional<Decimal> density = Density(lot);
  // The lot's movements, then applied in log order: a destruction without a
  // quantity destroys what its site holds at that point (records.proto,
  // apply.cc), so it needs the site's running balance.
  struct Move {
    const GraphEntry* entry;
    LotBalance::Site* site;
    Field field;
    const char* movement;
    const v1::Quantity* quantity;  // nullptr: a destruction of all on hand
    absl::StatusOr<Decimal> amount;
    bool in_transit;  // a dispatch no receipt in the graph answers
  };
  std::vector<Move> moves;
  for (const GraphEntry* e : OfLot(lot)) {
    const v1::Record& r = e->body.record();
    const v1::RecordHeader* h = HeaderOf(r);
    if (h == nullptr || DidNotOccur(*e)) continue;
    LotBalance::Site* s = &b.sites[h->site_id()];
    const bool in_transit =
        r.has_dispatch() && !HasReceipt(r.dispatch().transfer_id());
    ForEachLotQuantity(
        r, lot, [&](Field f, const char* movement, const v1::Quantity* q) {
          if (q == nullptr) {
            moves.push_back(Move{e, s, f, movement, q, Decimal(), false});
            return;
          }
          if (b.unit.empty()) b.unit = q->unit();
          moves.push_back(
              Move{e, s, f, movement, q, In(*q, b.unit, density), in_transit});
        });
  }
  std::stable_sort(moves.begin(), moves.end(),
                   [](const Move& x, const Move& y) {
                     return std::tie(x.entry->origin, x.entry->index) <
                            std::tie(y.entry->origin, y.entry->index);
                   });
  auto on_hand = [](const LotBalance::Site& s) {
    return Decimal::FromMicros(s.produced.micros() + s.received.micros() -
                               s.consumed.micros() - s.dispatched.micros() -
                               s.sampled.micros() - s.destroyed.micros());
  };
  for (Move& m : moves) {
    if (m.quantity == nullptr) {
      Decimal held = on_hand(*m.site);
      if (held.is_negative()) continue;  // nothing left to destroy
      m.amount = held;
    }
    absl::Status s = m.amount.status();
    if (s.ok()) s = Bump(&(m.site->*m.field), *m.amount);
    if (s.ok() && m.in_transit) s = Bump(&b.in_transit, *m.amount);
    if (s.ok()) continue;
    if (m.quantity != nullptr) {
      b.uncounted.push_back(
          Uncounted(*m.entry, lot, m.movement, *m.quantity, s));
    } else {  // a destruction of all on hand whose sum overflowed
      b.uncounted.push_back(
          Uncounted(*m.entry, lot, m.movement, v1::Quantity(), s));
      b.uncounted.back().quantity = "all on hand";
    }
  }
  for (auto& [site, s] : b.sites) s.on_hand = on_hand(s);
  return b;
}

ShipmentBalance DomainGraph::Shipment(absl::string_view transfer) const {
  ShipmentBalance sb;
  sb.transfer_id = std::string(transfer);
  std::map<std::string, std::string> units;
  // The lot's quantity in its unit of the shipment (the first one seen,
  // the dispatch's), or an uncounted quantity.
  auto count = [&](const GraphEntry& e, const std::string& lot,
                   const char* movement, const v1::Quantity& q, Decimal* sum) {
    auto [u, fresh] = units.emplace(lot, q.unit());
    absl::StatusOr<Decimal> d = In(q, u->second, Density(lot));
    absl::Status s = d.ok() ? Bump(sum, *d) : d.status();
    if (!s.ok()) sb.uncounted.push_back(Uncounted(e, lot, movement, q, s));
  };
  for (const GraphEntry* e : OfTransfer(transfer)) {
    const v1::Record& r = e->body.record();
    if (r.has_dispatch() && !DidNotOccur(*e)) {
      for (const auto& c : r.dispatch().containers()) {
        count(*e, c.lot_id(), "dispatched", c.quantity(),
              &sb.lots[c.lot_id()].first);
      }
    }
  }
  for (const GraphEntry* e : OfTransfer(transfer)) {
    const v1::Record& r = e->body.record();
    if (!r.has_receipt() || DidNotOccur(*e)) continue;
    sb.received = true;
    for (const auto& c : r.receipt().containers()) {
      count(*e, c.lot_id(), "received", c.received_quantity(),
            &sb.lots[c.lot_id()].second);
    }
  }
  sb.units.insert(units.begin(), units.end());
  for (const UncountedQuantity& u : sb.uncounted) {
    absl::StrAppend(&sb.unit_note, sb.unit_note.empty() ? "" : "; ",
                    DescribeUncounted(u));
  }
  return sb;
}

std::vector<v1::EntryRef> DomainGraph::ProvinceView(
    absl::string_view province) const {
  std::set<std::string> sites;
  for (const auto& [id, e] : sites_) {
    if (e->body.record().site_registration().province() == province) {
      sites.insert(id);
    }
  }
  std::set<std::string> transfers;
  for (const auto& e : entries_) {
    const v1::Record& r = e->body.record();
    if (r.has_dispatch() && (sites.count(r.dispatch().header().site_id()) ||
                             sites.count(r.dispatch().to_site_id()))) {
      transfers.insert(r.dispatch().transfer_id());
    }
  }
  std::vector<v1::EntryRef> out;
  for (const auto& e : entries_) {
    const v1::RecordHeader* h = HeaderOf(e->body.record());
    bool at_site = h != nullptr && sites.count(h->site_id()) > 0;
    bool transfer = false;
    for (const auto& t : LinksOf(e->body.record()).transfers) {
      transfer = transfer || transfers.count(t) > 0;
    }
    if (at_site || transfer) out.push_back(e->Ref());
  }
  return out;
}

}  // namespace segledger::domain
