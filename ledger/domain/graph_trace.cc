// Traces, balances and the province view of DomainGraph (graph.h).
#include <algorithm>
#include <deque>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/links.h"
#include "ledger/domain/validate.h"

namespace segledger::domain {
namespace {

void AddRecord(TraceResult* out,
               std::set<std::pair<std::string, uint64_t>>* seen,
               const GraphEntry* e) {
  if (seen->insert({e->origin, e->index}).second)
    out->records.push_back(e->Ref());
}

// Quantity `q` in `unit` (nullopt when it cannot be converted).
std::optional<Decimal> In(const v1::Quantity& q, const std::string& unit,
                          std::optional<Decimal> density) {
  auto parsed = ParseQuantity(q, "q");
  if (!parsed.ok()) return std::nullopt;
  auto d = ConvertTo(*parsed, unit, density);
  if (!d.ok()) return std::nullopt;
  return *d;
}

void Bump(Decimal* field, std::optional<Decimal> d) {
  if (!d.has_value()) return;
  auto s = field->Add(*d);
  if (s.ok()) *field = *s;
}

}  // namespace

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

LotBalance DomainGraph::MassBalance(absl::string_view lot) const {
  LotBalance b;
  b.lot_id = std::string(lot);
  const std::optional<Decimal> density = Density(lot);
  // The lot's movements, then applied in log order: a destruction without a
  // quantity destroys what its site holds at that point (records.proto,
  // apply.cc), so it needs the site's running balance.
  using Field = Decimal LotBalance::Site::*;
  struct Move {
    const GraphEntry* entry;
    LotBalance::Site* site;
    Field field;
    std::optional<Decimal> amount;  // nullopt with all_on_hand
    bool all_on_hand = false;
  };
  std::vector<Move> moves;
  for (const GraphEntry* e : OfLot(lot)) {
    const v1::Record& r = e->body.record();
    const v1::RecordHeader* h = HeaderOf(r);
    if (h == nullptr || DidNotOccur(*e)) continue;
    auto unit_of = [&](const v1::Quantity& q) {
      if (b.unit.empty()) b.unit = q.unit();
      return In(q, b.unit, density);
    };
    LotBalance::Site* s = &b.sites[h->site_id()];
    auto move = [&](Field f, std::optional<Decimal> d) {
      moves.push_back(Move{e, s, f, d});
    };
    if (r.has_lot_produced()) {
      move(&LotBalance::Site::produced, unit_of(r.lot_produced().quantity()));
    } else if (r.has_transformation()) {
      for (const auto& o : r.transformation().outputs()) {
        if (o.lot_id() == lot)
          move(&LotBalance::Site::produced, unit_of(o.quantity()));
      }
      for (const auto& i : r.transformation().inputs()) {
        if (i.lot_id() == lot)
          move(&LotBalance::Site::consumed, unit_of(i.quantity()));
      }
    } else if (r.has_dispatch()) {
      const bool received = HasReceipt(r.dispatch().transfer_id());
      for (const auto& c : r.dispatch().containers()) {
        if (c.lot_id() != lot) continue;
        std::optional<Decimal> d = unit_of(c.quantity());
        move(&LotBalance::Site::dispatched, d);
        if (!received) Bump(&b.in_transit, d);
      }
    } else if (r.has_receipt()) {
      for (const auto& c : r.receipt().containers()) {
        if (c.lot_id() == lot)
          move(&LotBalance::Site::received, unit_of(c.received_quantity()));
      }
    } else if (r.has_qc_result() && r.qc_result().has_sample_quantity()) {
      move(&LotBalance::Site::sampled,
           unit_of(r.qc_result().sample_quantity()));
    } else if (r.has_status_change() &&
               r.status_change().action() == v1::STATUS_ACTION_DESTROY) {
      if (r.status_change().has_quantity()) {
        move(&LotBalance::Site::destroyed,
             unit_of(r.status_change().quantity()));
      } else {
        moves.push_back(
            Move{e, s, &LotBalance::Site::destroyed, std::nullopt, true});
      }
    }
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
  for (const Move& m : moves) {
    std::optional<Decimal> amount = m.amount;
    if (m.all_on_hand) {
      Decimal held = on_hand(*m.site);
      if (!held.is_negative()) amount = held;
    }
    Bump(&(m.site->*m.field), amount);
  }
  for (auto& [site, s] : b.sites) s.on_hand = on_hand(s);
  return b;
}

ShipmentBalance DomainGraph::Shipment(absl::string_view transfer) const {
  ShipmentBalance sb;
  sb.transfer_id = std::string(transfer);
  std::map<std::string, std::string> units;
  for (const GraphEntry* e : OfTransfer(transfer)) {
    const v1::Record& r = e->body.record();
    if (r.has_dispatch() && !DidNotOccur(*e)) {
      for (const auto& c : r.dispatch().containers()) {
        auto [u, fresh] = units.emplace(c.lot_id(), c.quantity().unit());
        auto d = In(c.quantity(), u->second, Density(c.lot_id()));
        if (!d)
          sb.unit_note = absl::StrCat("lot ", c.lot_id(), ": units differ");
        Bump(&sb.lots[c.lot_id()].first, d);
      }
    }
  }
  for (const GraphEntry* e : OfTransfer(transfer)) {
    const v1::Record& r = e->body.record();
    if (!r.has_receipt() || DidNotOccur(*e)) continue;
    sb.received = true;
    for (const auto& c : r.receipt().containers()) {
      auto [u, fresh] = units.emplace(c.lot_id(), c.received_quantity().unit());
      auto d = In(c.received_quantity(), u->second, Density(c.lot_id()));
      if (!d) sb.unit_note = absl::StrCat("lot ", c.lot_id(), ": units differ");
      Bump(&sb.lots[c.lot_id()].second, d);
    }
  }
  sb.units.insert(units.begin(), units.end());
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
