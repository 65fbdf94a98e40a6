// State updates of DomainHook::Apply (state.h rows). Runs only after every
// rule passed (or during a rebuild), so it may assume the checked facts.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/domain/apply_internal.h"
#include "ledger/domain/links.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

// A copy of the lot's row to update; nullopt when absent. (The rules read
// the same rows: RuleLot parsed them once for both.)
absl::StatusOr<std::optional<v1::LotState>> LotCopy(RuleContext& ctx,
                                                    const std::string& id) {
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, id));
  if (lot == nullptr) return std::nullopt;
  return std::optional<v1::LotState>(*lot);
}

absl::StatusOr<v1::LotState> LoadLot(RuleContext& ctx, const std::string& id) {
  SEG_ASSIGN_OR_RETURN(std::optional<v1::LotState> lot, LotCopy(ctx, id));
  if (!lot.has_value()) {
    v1::LotState fresh;
    fresh.set_lot_id(id);
    fresh.set_first_index(ctx.body.index());
    return fresh;
  }
  return *std::move(lot);
}

// field += d (decimal string fields of LotState).
absl::Status AddTo(std::string* field, Decimal d) {
  SEG_ASSIGN_OR_RETURN(Decimal sum, Dec(*field).Add(d));
  *field = sum.ToString();
  return absl::OkStatus();
}

absl::Status Move(RuleContext& ctx, v1::LotState& lot, const v1::Quantity& q,
                  std::string* field, int sign) {
  if (lot.unit().empty()) lot.set_unit(q.unit());
  SEG_ASSIGN_OR_RETURN(Decimal d, InLotUnit(ctx, lot, q));
  SEG_RETURN_IF_ERROR(AddTo(field, d));
  Decimal delta = sign > 0 ? d : Decimal::FromMicros(-d.micros());
  return AddTo(lot.mutable_on_hand(), delta);
}

// Rejection, recall and return (FinalStatus): the lot loses its site
// release and incoming acceptance with its status, so nothing that reads
// either flag finds a final lot fit to move or use.
void MakeFinal(v1::LotState& lot, v1::LotStatus status) {
  lot.set_status(status);
  lot.set_site_released(false);
  lot.set_incoming_accepted(false);
}

absl::Status NewLot(RuleContext& ctx, const std::string& id,
                    const std::string& product, const std::string& material,
                    const std::string& stage, const v1::Quantity& q,
                    absl::Time ready, const v1::LotProduced* lp,
                    const v1::TransformationOutput* out) {
  v1::LotState lot;
  lot.set_lot_id(id);
  lot.set_product_id(product);
  lot.set_material_id(material);
  lot.set_stage_id(stage);
  lot.set_unit(q.unit());
  lot.set_status(v1::LOT_STATUS_AVAILABLE);
  lot.set_first_index(ctx.body.index());
  *lot.mutable_available_since() = ToProtoTime(ready);
  if (lp != nullptr && lp->has_hold_until())
    *lot.mutable_hold_until() = lp->hold_until();
  if (lp != nullptr && lp->has_expiry()) *lot.mutable_expiry() = lp->expiry();
  if (out != nullptr && out->has_hold_until())
    *lot.mutable_hold_until() = out->hold_until();
  if (out != nullptr && out->has_expiry())
    *lot.mutable_expiry() = out->expiry();
  SEG_RETURN_IF_ERROR(Move(ctx, lot, q, lot.mutable_produced(), +1));
  PutLot(ctx, id, std::move(lot));
  return absl::OkStatus();
}

// d/was: each lot as it is just before this entry ("" when not held
// here), once per lot, so that a correction voiding the entry puts it back
// exactly (RestoreLotsBefore).
absl::Status RememberLotBefore(RuleContext& ctx, const std::string& lot_id) {
  const std::string key = WasKey(ctx.body.index(), lot_id);
  absl::StatusOr<std::string> seen = ctx.txn.Get(key);
  if (seen.ok()) return absl::OkStatus();  // named twice by the entry
  if (!absl::IsNotFound(seen.status())) return seen.status();
  SEG_ASSIGN_OR_RETURN(const v1::LotState* before, RuleLot(ctx, lot_id));
  ctx.txn.Put(key, before == nullptr ? "" : before->SerializeAsString());
  return absl::OkStatus();
}

// Puts every lot of entry `index`'s d/was rows back as it was before the
// entry (a lot not held here before is forgotten) and drops the rows.
absl::Status RestoreLotsBefore(RuleContext& ctx, uint64_t index) {
  std::vector<std::pair<std::string, std::string>> was;
  const std::string prefix = WasPrefix(index);
  SEG_RETURN_IF_ERROR(
      ctx.txn.ScanPrefix(prefix, [&](absl::string_view k, absl::string_view v) {
        was.emplace_back(k.substr(prefix.size()), v);
        return true;
      }));
  for (const auto& [lot_id, bytes] : was) {
    ctx.txn.Delete(WasKey(index, lot_id));
    if (bytes.empty()) {
      DeleteLot(ctx, lot_id);
      continue;
    }
    v1::LotState lot;
    if (!lot.ParseFromString(bytes)) {
      return absl::DataLossError(
          absl::StrCat("index row d/was/ of entry ", index, " is corrupt"));
    }
    PutLot(ctx, lot_id, std::move(lot));
  }
  return absl::OkStatus();
}

absl::Status ApplyLotProduced(RuleContext& ctx) {
  const auto& l = ctx.record.lot_produced();
  ctx.txn.Put(MadeKey(ctx.body.index()), l.lot_id());
  absl::Time ready =
      FromProtoTime(l.production().has_until() ? l.production().until()
                                               : l.production().from());
  return NewLot(ctx, l.lot_id(), l.product_id(), l.material_id(), l.stage_id(),
                l.quantity(), ready, &l, nullptr);
}

// Takes `q` of a lot into `field` (dispatched, consumed): on hand down,
// that field up. Returns what was taken in the lot's unit as of now (what
// a correction voiding the entry gives back: GiveBack).
absl::StatusOr<v1::Quantity> TakeFrom(RuleContext& ctx,
                                      const std::string& lot_id,
                                      const v1::Quantity& q,
                                      std::string* (v1::LotState::*field)()) {
  SEG_ASSIGN_OR_RETURN(v1::LotState lot, LoadLot(ctx, lot_id));
  if (lot.unit().empty()) lot.set_unit(q.unit());
  SEG_ASSIGN_OR_RETURN(Decimal taken, InLotUnit(ctx, lot, q));
  v1::Quantity out;
  out.set_value(taken.ToString());
  out.set_unit(lot.unit());
  SEG_RETURN_IF_ERROR(Move(ctx, lot, q, (lot.*field)(), -1));
  PutLot(ctx, lot_id, std::move(lot));
  return out;
}

absl::Status ApplyTransformation(RuleContext& ctx) {
  const auto& t = ctx.record.transformation();
  // d/xf: what a correction voiding this transformation gives back (each
  // input's quantity in the lot's unit as taken now, as d/sent for a
  // dispatch) and which lots it forgets (the outputs, all made here).
  v1::Transformation done;
  done.set_product_id(t.product_id());
  for (const auto& in : t.inputs()) {
    auto* d = done.add_inputs();
    d->set_lot_id(in.lot_id());
    SEG_ASSIGN_OR_RETURN(*d->mutable_quantity(),
                         TakeFrom(ctx, in.lot_id(), in.quantity(),
                                  &v1::LotState::mutable_consumed));
  }
  for (const auto& o : t.outputs()) done.add_outputs()->set_lot_id(o.lot_id());
  WriteRow(ctx.txn, TransformedKey(ctx.body.index()), done);
  absl::Time ready = FromProtoTime(t.period().has_until() ? t.period().until()
                                                          : t.period().from());
  for (const auto& o : t.outputs()) {
    SEG_RETURN_IF_ERROR(NewLot(ctx, o.lot_id(), t.product_id(), o.material_id(),
                               t.stage_id(), o.quantity(), ready, nullptr, &o));
  }
  return absl::OkStatus();
}

absl::Status ApplyDispatch(RuleContext& ctx) {
  const auto& d = ctx.record.dispatch();
  // d/sent: what a correction voiding this dispatch gives back, in each
  // lot's unit as taken now (a later change of the product's density does
  // not change what left).
  v1::Dispatch sent;
  sent.set_transfer_id(d.transfer_id());
  for (const auto& c : d.containers()) {
    auto* s = sent.add_containers();
    s->set_lot_id(c.lot_id());
    SEG_ASSIGN_OR_RETURN(*s->mutable_quantity(),
                         TakeFrom(ctx, c.lot_id(), c.quantity(),
                                  &v1::LotState::mutable_dispatched));
  }
  WriteRow(ctx.txn, SentKey(ctx.body.index()), sent);
  return absl::OkStatus();
}

absl::Status ApplyReceipt(RuleContext& ctx) {
  const auto& r = ctx.record.receipt();
  // d/rcvd and d/was: each lot as it was before, so a correction voiding
  // this receipt puts it back exactly (WithdrawReceipt).
  ctx.txn.Put(ReceivedKey(ctx.body.index()), r.transfer_id());
  for (const auto& c : r.containers()) {
    SEG_RETURN_IF_ERROR(RememberLotBefore(ctx, c.lot_id()));
  }
  for (const auto& c : r.containers()) {
    SEG_ASSIGN_OR_RETURN(v1::LotState lot, LoadLot(ctx, c.lot_id()));
    SEG_RETURN_IF_ERROR(
        Move(ctx, lot, c.received_quantity(), lot.mutable_received(), +1));
    // Stock arriving is quarantined until accepted, and a lot rejected,
    // recalled or returned here stays so. A lot coming back (a return)
    // needs a new site release before it leaves again: the one given
    // before it left no longer covers it.
    if (r.decision() == v1::RECEIPT_DECISION_REJECTED) {
      lot.set_status(v1::LOT_STATUS_REJECTED);
    } else if (!FinalStatus(lot.status())) {
      lot.set_status(v1::LOT_STATUS_QUARANTINED);
    }
    lot.set_incoming_accepted(false);
    lot.set_site_released(false);
    *lot.mutable_available_since() = r.arrival();
    PutLot(ctx, c.lot_id(), std::move(lot));
  }
  v1::ReceivedTransfer rt;
  rt.set_transfer_id(r.transfer_id());
  *rt.mutable_dispatch() = r.dispatch();
  rt.set_receipt_index(ctx.body.index());
  WriteRow(ctx.txn, "d/xin/" + r.transfer_id(), rt);
  return absl::OkStatus();
}

absl::Status ApplyQc(RuleContext& ctx) {
  const auto& q = ctx.record.qc_result();
  if (!q.has_sample_quantity()) return absl::OkStatus();
  SEG_ASSIGN_OR_RETURN(auto lot, LotCopy(ctx, q.lot_id()));
  if (!lot.has_value()) return absl::OkStatus();  // tested elsewhere
  SEG_RETURN_IF_ERROR(
      Move(ctx, *lot, q.sample_quantity(), lot->mutable_sampled(), -1));
  PutLot(ctx, q.lot_id(), *std::move(lot));
  return absl::OkStatus();
}

// Remembers a released site release or incoming acceptance (`kind`) of
// `lot` at this entry, so that a correction voiding it can withdraw it:
// d/qa names the lot, d/qaon lists the decisions behind the lot's flag
// (`flag_set`: the flag was already set, by earlier decisions still in
// effect; else the list starts again).
absl::Status RememberRelease(RuleContext& ctx, char kind,
                             const std::string& lot, bool flag_set) {
  const uint64_t index = ctx.body.index();
  ctx.txn.Put(QaEntryKey(index),
              absl::StrCat(absl::string_view(&kind, 1), lot));
  const std::string key = QaInEffectKey(lot, kind);
  std::string list;
  if (flag_set) {
    absl::StatusOr<std::string> old = ctx.txn.Get(key);
    if (old.ok()) {
      list = *std::move(old);
    } else if (!absl::IsNotFound(old.status())) {
      return old.status();
    }
  }
  absl::StrAppend(&list, Be64(index));
  ctx.txn.Put(key, list);
  return absl::OkStatus();
}

// A correction saying entry `index` did not occur: if that entry is a
// released site release or incoming acceptance still behind the lot's
// flag, it no longer counts, and without another one the flag is cleared
// (an accepted lot goes back to quarantine).
absl::Status WithdrawRelease(RuleContext& ctx, uint64_t index) {
  absl::StatusOr<std::string> entry = ctx.txn.Get(QaEntryKey(index));
  if (absl::IsNotFound(entry.status())) return absl::OkStatus();
  if (!entry.ok()) return entry.status();
  if (entry->size() < 2) {
    return absl::DataLossError(
        absl::StrCat("index row d/qa/ of entry ", index, " is corrupt"));
  }
  const char kind = (*entry)[0];
  const std::string lot_id = entry->substr(1);
  SEG_ASSIGN_OR_RETURN(auto lot, LotCopy(ctx, lot_id));
  if (!lot.has_value()) return absl::OkStatus();
  const bool site = kind == kSiteReleaseKind;
  if (!(site ? lot->site_released() : lot->incoming_accepted())) {
    return absl::OkStatus();  // cleared since (arrival, rejection, ...)
  }
  const std::string key = QaInEffectKey(lot_id, kind);
  absl::StatusOr<std::string> list = ctx.txn.Get(key);
  if (absl::IsNotFound(list.status())) return absl::OkStatus();
  if (!list.ok()) return list.status();
  const std::string mine = Be64(index);
  std::string rest;
  bool found = false;
  for (size_t i = 0; i + 8 <= list->size(); i += 8) {
    absl::string_view one = absl::string_view(*list).substr(i, 8);
    if (one == mine) {
      found = true;
    } else {
      absl::StrAppend(&rest, one);
    }
  }
  if (!found) return absl::OkStatus();  // not behind the current flag
  if (!rest.empty()) {
    ctx.txn.Put(key, rest);
    return absl::OkStatus();
  }
  ctx.txn.Delete(key);
  if (site) {
    lot->set_site_released(false);
  } else {
    lot->set_incoming_accepted(false);
    if (lot->status() == v1::LOT_STATUS_AVAILABLE) {
      lot->set_status(v1::LOT_STATUS_QUARANTINED);
    }
  }
  PutLot(ctx, lot_id, *std::move(lot));
  return absl::OkStatus();
}

// A correction saying entry `index` did not occur: if that entry is the
// lot production that made a lot and no later entry touched the lot (but
// entries voided themselves), the lot is forgotten, so its id may be
// produced again (R-LOT-UNIQUE). A lot used since keeps its state
// (R-CORRECTION-USED refused the correction at append; a store written
// before that rule may hold such a correction).
absl::Status WithdrawProduction(RuleContext& ctx, uint64_t index) {
  absl::StatusOr<std::string> id = ctx.txn.Get(MadeKey(index));
  if (absl::IsNotFound(id.status())) return absl::OkStatus();
  if (!id.ok()) return id.status();
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, *id));
  if (lot == nullptr || lot->first_index() != index) return absl::OkStatus();
  SEG_ASSIGN_OR_RETURN(auto used, LotsUsedSince(ctx.txn, {*id}, index));
  if (used.has_value()) return absl::OkStatus();
  DeleteLot(ctx, *id);
  return absl::OkStatus();
}

// Gives a lot back `q` (already in the lot's unit) that entry `index` took
// into `field` (dispatched, consumed): on hand up, that field down. A lot
// no longer held here gets nothing. The lot's d/was rows of receipts after
// `index` get the same: each is the lot as it was before its receipt,
// which entry `index` had already changed, so that voiding such a receipt
// later does not take back what this gives.
absl::Status GiveBack(RuleContext& ctx, uint64_t index,
                      const std::string& lot_id, const v1::Quantity& q,
                      std::string* (v1::LotState::*field)()) {
  SEG_ASSIGN_OR_RETURN(auto lot, LotCopy(ctx, lot_id));
  if (!lot.has_value()) return absl::OkStatus();
  const Decimal back = Dec(q.value());
  auto give = [&](v1::LotState& s) -> absl::Status {
    SEG_RETURN_IF_ERROR(AddTo(s.mutable_on_hand(), back));
    return AddTo((s.*field)(), Decimal::FromMicros(-back.micros()));
  };
  SEG_RETURN_IF_ERROR(give(*lot));
  PutLot(ctx, lot_id, *std::move(lot));
  SEG_ASSIGN_OR_RETURN(std::vector<uint64_t> refs, LotRefs(ctx.txn, lot_id));
  for (uint64_t r : refs) {
    if (r <= index) continue;
    const std::string key = WasKey(r, lot_id);
    absl::StatusOr<std::string> was = ctx.txn.Get(key);
    if (absl::IsNotFound(was.status())) continue;  // no receipt
    if (!was.ok()) return was.status();
    if (was->empty()) continue;  // not held before that receipt
    v1::LotState before;
    if (!before.ParseFromString(*was)) {
      return absl::DataLossError(
          absl::StrCat("index row d/was/ of entry ", r, " is corrupt"));
    }
    SEG_RETURN_IF_ERROR(give(before));
    ctx.txn.Put(key, before.SerializeAsString());
  }
  return absl::OkStatus();
}

// A correction saying entry `index` did not occur: if that entry is a
// dispatch, each lot it took from gets the quantity back (on hand up,
// dispatched down), whatever happened to the lot since: a lot dispatched
// again since simply holds more, and a lot since destroyed, rejected,
// recalled or returned keeps that status. The transfer id is free again
// (R-TRANSFER-UNIQUE skips voided entries). R-CORRECTION-RECEIVED refused
// the correction when a verified receipt of it is held here.
absl::Status WithdrawDispatch(RuleContext& ctx, uint64_t index) {
  SEG_ASSIGN_OR_RETURN(auto sent,
                       ReadRow<v1::Dispatch>(ctx.txn, SentKey(index)));
  if (!sent.has_value()) return absl::OkStatus();
  for (const auto& c : sent->containers()) {
    SEG_RETURN_IF_ERROR(GiveBack(ctx, index, c.lot_id(), c.quantity(),
                                 &v1::LotState::mutable_dispatched));
  }
  // Given back once: a second correction of the entry finds no row.
  ctx.txn.Delete(SentKey(index));
  return absl::OkStatus();
}

// A correction saying entry `index` did not occur: if that entry is a
// receipt and no entry since touched a lot it received (but entries
// voided themselves), each lot is put back as it was before the receipt
// (not held here: forgotten), and the transfer may be received again
// (R-RECEIPT-ONCE). A lot used since keeps its state (R-CORRECTION-USED
// refused the correction at append).
absl::Status WithdrawReceipt(RuleContext& ctx, uint64_t index) {
  absl::StatusOr<std::string> transfer = ctx.txn.Get(ReceivedKey(index));
  if (absl::IsNotFound(transfer.status())) return absl::OkStatus();
  if (!transfer.ok()) return transfer.status();
  SEG_ASSIGN_OR_RETURN(auto used, UsedSince(ctx.txn, index));
  if (used.has_value()) return absl::OkStatus();
  SEG_RETURN_IF_ERROR(RestoreLotsBefore(ctx, index));
  const std::string xin = "d/xin/" + *transfer;
  SEG_ASSIGN_OR_RETURN(auto rt, ReadRow<v1::ReceivedTransfer>(ctx.txn, xin));
  if (rt.has_value() && rt->receipt_index() == index) ctx.txn.Delete(xin);
  ctx.txn.Delete(ReceivedKey(index));
  return absl::OkStatus();
}

// A correction saying entry `index` did not occur: if that entry is a
// transformation and no entry since touched a lot it made (but entries
// voided themselves), its outputs are forgotten and each input gets back
// what it consumed (on hand up, consumed down), whatever happened to the
// input since, as for a voided dispatch; so the transformation that did
// happen can be recorded, under the same output lot ids. With an output
// used since nothing changes (R-CORRECTION-USED refused the correction at
// append).
absl::Status WithdrawTransformation(RuleContext& ctx, uint64_t index) {
  SEG_ASSIGN_OR_RETURN(
      auto done, ReadRow<v1::Transformation>(ctx.txn, TransformedKey(index)));
  if (!done.has_value()) return absl::OkStatus();
  SEG_ASSIGN_OR_RETURN(auto used,
                       LotsUsedSince(ctx.txn, OutputLots(*done), index));
  if (used.has_value()) return absl::OkStatus();
  for (const auto& o : done->outputs()) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, o.lot_id()));
    if (lot != nullptr && lot->first_index() == index) {
      DeleteLot(ctx, o.lot_id());
    }
  }
  for (const auto& in : done->inputs()) {
    SEG_RETURN_IF_ERROR(GiveBack(ctx, index, in.lot_id(), in.quantity(),
                                 &v1::LotState::mutable_consumed));
  }
  // Given back once: a second correction of the entry finds no row.
  ctx.txn.Delete(TransformedKey(index));
  return absl::OkStatus();
}

// What a "did not occur" correction of entry `index` withdraws (docs/
// rules.md "Corrections"); d/void records it first, for the rules that
// skip voided entries.
absl::Status WithdrawEntry(RuleContext& ctx, uint64_t index) {
  const std::string key = VoidKey(index);
  std::string list;
  absl::StatusOr<std::string> old = ctx.txn.Get(key);
  if (old.ok()) {
    list = *std::move(old);
  } else if (!absl::IsNotFound(old.status())) {
    return old.status();
  }
  absl::StrAppend(&list, Be64(ctx.body.index()));
  ctx.txn.Put(key, list);
  ctx.txn.Put(VoidsKey(ctx.body.index()), Be64(index));  // R-CORRECTION-UNDO
  SEG_RETURN_IF_ERROR(WithdrawRelease(ctx, index));
  SEG_RETURN_IF_ERROR(WithdrawDispatch(ctx, index));
  SEG_RETURN_IF_ERROR(WithdrawReceipt(ctx, index));
  SEG_RETURN_IF_ERROR(WithdrawTransformation(ctx, index));
  return WithdrawProduction(ctx, index);
}

absl::Status ApplyRelease(RuleContext& ctx) {
  const auto& r = ctx.record.qa_release();
  SEG_ASSIGN_OR_RETURN(auto lot, LotCopy(ctx, r.lot_id()));
  if (!lot.has_value()) return absl::OkStatus();  // e.g. MAH market release
  const bool ok = r.decision() == v1::RELEASE_DECISION_RELEASED;
  switch (r.kind()) {
    case v1::RELEASE_KIND_SITE_RELEASE:
      if (ok) {
        SEG_RETURN_IF_ERROR(RememberRelease(ctx, kSiteReleaseKind, r.lot_id(),
                                            lot->site_released()));
      }
      lot->set_site_released(ok);
      break;
    case v1::RELEASE_KIND_INCOMING_ACCEPTANCE:
      if (ok) {
        SEG_RETURN_IF_ERROR(RememberRelease(ctx, kAcceptanceKind, r.lot_id(),
                                            lot->incoming_accepted()));
      }
      lot->set_incoming_accepted(ok);
      // Lifts the receipt's quarantine only: a lot put on hold stays held
      // until released from hold.
      if (ok && lot->status() == v1::LOT_STATUS_QUARANTINED) {
        lot->set_status(v1::LOT_STATUS_AVAILABLE);
      }
      break;
    case v1::RELEASE_KIND_MAH_MARKET_RELEASE:
      lot->set_market_released(ok);
      break;
    default:
      break;
  }
  if (!ok) MakeFinal(*lot, v1::LOT_STATUS_REJECTED);
  PutLot(ctx, r.lot_id(), *std::move(lot));
  return absl::OkStatus();
}

absl::Status ApplyStatus(RuleContext& ctx) {
  const auto& s = ctx.record.status_change();
  SEG_ASSIGN_OR_RETURN(v1::LotState lot, LoadLot(ctx, s.lot_id()));
  switch (s.action()) {
    case v1::STATUS_ACTION_QUARANTINE:
      lot.set_status(v1::LOT_STATUS_QUARANTINED);
      break;
    case v1::STATUS_ACTION_HOLD:
      lot.set_status(v1::LOT_STATUS_ON_HOLD);
      break;
    case v1::STATUS_ACTION_RELEASE_FROM_HOLD:
      // Back to quarantine when the hold came before incoming acceptance.
      lot.set_status(ReceivedNotAccepted(lot) ? v1::LOT_STATUS_QUARANTINED
                                              : v1::LOT_STATUS_AVAILABLE);
      break;
    case v1::STATUS_ACTION_REJECT:
      MakeFinal(lot, v1::LOT_STATUS_REJECTED);
      break;
    case v1::STATUS_ACTION_RETURN:
      MakeFinal(lot, v1::LOT_STATUS_RETURNED);
      break;
    case v1::STATUS_ACTION_DESTROY: {
      v1::Quantity q;
      if (s.has_quantity()) {
        q = s.quantity();
      } else {
        q.set_value(Dec(lot.on_hand()).ToString());
        q.set_unit(lot.unit());
      }
      SEG_RETURN_IF_ERROR(Move(ctx, lot, q, lot.mutable_destroyed(), -1));
      if (Dec(lot.on_hand()).is_zero())
        lot.set_status(v1::LOT_STATUS_DESTROYED);
      break;
    }
    default:
      break;
  }
  PutLot(ctx, s.lot_id(), std::move(lot));
  return absl::OkStatus();
}

// Recalls the trigger lots and the scope lots held here (the scope is the
// frozen forward trace, which need not repeat the triggers). A destroyed
// lot stays destroyed.
// A recall, or a site's acknowledgement of another party's recall,
// recalls the lots it names that this log holds: an acknowledging site
// lists the lots of the recall it holds, which then leave only by
// destruction or return (the recall is in the MAH's log, not here).
absl::Status ApplyRecall(RuleContext& ctx) {
  const auto& r = ctx.record.recall();
  for (const auto* ids : {&r.trigger_lot_ids(), &r.scope_lot_ids()}) {
    for (const std::string& id : *ids) {
      SEG_ASSIGN_OR_RETURN(auto lot, LotCopy(ctx, id));
      if (!lot.has_value() || lot->status() == v1::LOT_STATUS_DESTROYED ||
          lot->status() == v1::LOT_STATUS_RECALLED) {
        continue;
      }
      MakeFinal(*lot, v1::LOT_STATUS_RECALLED);
      PutLot(ctx, id, *std::move(lot));
    }
  }
  return absl::OkStatus();
}

// d/staff/<site> for a production record's site (state.h): derived from
// the site's d/pers rows when a personnel change there deleted it, or it
// was never written, so R-MAH-STAFF reads one row for every later
// production record there. From the rows, not by editing an old summary:
// the summary is then a function of the rows, the same after a rebuild,
// and right on a store whose rows predate it. Not written for a site with
// no assignment (the rule's scan of no rows is as cheap).
absl::Status EnsureSiteStaff(RuleContext& ctx) {
  const std::string& site = ctx.header->site_id();
  const std::string key = StaffKey(site);
  absl::StatusOr<std::string> row = ctx.txn.Get(key);
  if (row.ok() || !absl::IsNotFound(row.status())) return row.status();
  v1::SiteStaff staff;
  bool parsed = true;
  SEG_RETURN_IF_ERROR(ctx.txn.ScanPrefix(
      PersonnelPrefix(site), [&](absl::string_view, absl::string_view v) {
        parsed = staff.add_assignments()->ParseFromArray(
            v.data(), static_cast<int>(v.size()));
        return parsed;
      }));
  if (!parsed) {
    return absl::DataLossError(
        absl::StrCat("a personnel row of site ", site, " is corrupt"));
  }
  if (staff.assignments_size() > 0) WriteRow(ctx.txn, key, staff);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyKeys(RuleContext& ctx) {
  const v1::Record& r = ctx.record;
  auto load = [&](const std::string& name) -> absl::StatusOr<v1::KeyState> {
    SEG_ASSIGN_OR_RETURN(auto ks,
                         ReadRow<v1::KeyState>(ctx.txn, "d/key/" + name));
    v1::KeyState out = ks.has_value() ? *ks : v1::KeyState();
    out.set_key_name(name);
    return out;
  };
  if (r.has_key_registration()) {
    const auto& k = r.key_registration();
    SEG_ASSIGN_OR_RETURN(v1::KeyState ks, load(k.key_name()));
    if (k.has_valid_from()) *ks.mutable_valid_from() = k.valid_from();
    if (k.has_valid_until()) *ks.mutable_valid_until() = k.valid_until();
    WriteRow(ctx.txn, "d/key/" + k.key_name(), ks);
  } else if (r.has_key_rotation()) {
    const auto& k = r.key_rotation();
    SEG_ASSIGN_OR_RETURN(v1::KeyState old, load(k.old_key_name()));
    // Effective from the entry after the rotation (log_store.h RotateKey).
    absl::Time at =
        FromProtoTime(ctx.body.recorded_at()) + absl::Nanoseconds(1);
    if (k.has_effective_at() && FromProtoTime(k.effective_at()) > at) {
      at = FromProtoTime(k.effective_at());
    }
    *old.mutable_retired_at() = ToProtoTime(at);
    WriteRow(ctx.txn, "d/key/" + k.old_key_name(), old);
    SEG_ASSIGN_OR_RETURN(v1::KeyState next, load(k.new_key_name()));
    WriteRow(ctx.txn, "d/key/" + k.new_key_name(), next);
  } else if (r.has_key_revocation()) {
    const auto& k = r.key_revocation();
    SEG_ASSIGN_OR_RETURN(v1::KeyState ks, load(k.key_name()));
    *ks.mutable_revoked_at() =
        k.has_effective_at() ? k.effective_at() : ctx.body.recorded_at();
    WriteRow(ctx.txn, "d/key/" + k.key_name(), ks);
  }
  return absl::OkStatus();
}

absl::Status ApplyRecord(RuleContext& ctx) {
  const v1::Record& r = ctx.record;
  switch (r.kind_case()) {
    case v1::Record::kPartyRegistration:
      WriteRow(ctx.txn, "d/party/" + ctx.header->party_id(),
               r.party_registration());
      return absl::OkStatus();
    case v1::Record::kSiteRegistration:
      WriteRow(ctx.txn, "d/site/" + ctx.header->site_id(),
               r.site_registration());
      return absl::OkStatus();
    case v1::Record::kProductRegistration:
      WriteRow(ctx.txn, "d/prod/" + r.product_registration().product_id(),
               r.product_registration());
      return absl::OkStatus();
    case v1::Record::kPersonnelAssignment: {
      const auto& p = r.personnel_assignment();
      WriteRow(ctx.txn, PersonnelKey(p.assigned_site_id(), p.person_id()), p);
      // The summary no longer matches the rows: the next production record
      // at the site derives it again (EnsureSiteStaff). Rewriting it here
      // made every assignment O(assignments at the site) in bytes written.
      ctx.txn.Delete(StaffKey(p.assigned_site_id()));
      return absl::OkStatus();
    }
    case v1::Record::kDeviation:
      WriteRow(ctx.txn, "d/dev/" + r.deviation().deviation_id(), r.deviation());
      return absl::OkStatus();
    case v1::Record::kCorrection:
      ctx.txn.Put(
          CorrectionKey(r.correction().corrects().index(), ctx.body.index()),
          "");
      if (r.correction().reason() == v1::CORRECTION_REASON_DID_NOT_OCCUR) {
        return WithdrawEntry(ctx, r.correction().corrects().index());
      }
      return absl::OkStatus();
    case v1::Record::kLotProduced:
      SEG_RETURN_IF_ERROR(EnsureSiteStaff(ctx));
      return ApplyLotProduced(ctx);
    case v1::Record::kTransformation:
      SEG_RETURN_IF_ERROR(EnsureSiteStaff(ctx));
      return ApplyTransformation(ctx);
    case v1::Record::kDispatch:
      return ApplyDispatch(ctx);
    case v1::Record::kReceipt:
      return ApplyReceipt(ctx);
    case v1::Record::kQcResult:
      return ApplyQc(ctx);
    case v1::Record::kQaRelease:
      return ApplyRelease(ctx);
    case v1::Record::kStatusChange:
      return ApplyStatus(ctx);
    case v1::Record::kRecall:
      return ApplyRecall(ctx);
    default:
      return ApplyKeys(ctx);
  }
}

void ApplyIndexes(RuleContext& ctx) {
  BasicRecordLinks<absl::string_view> links = LinkViewsOf(ctx.record);
  for (const auto& lot : links.lots)
    ctx.txn.Put(RefKey(lot, ctx.body.index()), "");
  for (const auto& t : links.transfers) {
    ctx.txn.Put(TransferRefKey(t, ctx.body.index()), "");
  }
}

}  // namespace segledger::domain
