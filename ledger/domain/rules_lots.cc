// Rule checks on lots, transfers, releases and corrections (rules.h).
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/domain/rules_internal.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

using Items = LotQuantities;

Items DispatchItems(const v1::Dispatch& d) {
  Items items;
  for (const auto& c : d.containers())
    items.push_back({c.lot_id(), &c.quantity()});
  return items;
}

Items InputItems(const v1::Transformation& t) {
  Items items;
  for (const auto& i : t.inputs()) items.push_back({i.lot_id(), &i.quantity()});
  return items;
}

// The state of a lot that must be held here (FAILED_PRECONDITION if not).
absl::StatusOr<const v1::LotState*> HeldLot(RuleContext& ctx,
                                            const std::string& id) {
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, id));
  if (lot == nullptr) {
    return Refuse(absl::StrCat("lot ", id, " is not held at this site"));
  }
  return lot;
}

// Refuses unless every lot of `items` is held here with a positive balance.
absl::Status Held(RuleContext& ctx, const Items& items) {
  for (const auto& [lot_id, q] : items) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, lot_id));
    if (lot == nullptr) {
      return Refuse(absl::StrCat("lot ", lot_id, " is not held at this site"));
    }
    if (!Dec(lot->on_hand()).is_negative() && Dec(lot->on_hand()).is_zero()) {
      return Refuse(absl::StrCat("lot ", lot_id, " has nothing on hand"));
    }
  }
  return absl::OkStatus();
}

absl::Status WithinOnHand(RuleContext& ctx, const Items& items) {
  SEG_ASSIGN_OR_RETURN(const auto* per_lot, PerLot(ctx, items));
  for (const auto& [lot_id, need] : *per_lot) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, lot_id));
    if (need > Dec(lot->on_hand())) {
      return Refuse(absl::StrCat("lot ", lot_id, ": ", need.ToString(), " ",
                                 lot->unit(), " requested, ", lot->on_hand(),
                                 " on hand"));
    }
  }
  return absl::OkStatus();
}

absl::Status Units(RuleContext& ctx, const Items& items) {
  auto r = PerLot(ctx, items);
  if (r.ok() || absl::IsNotFound(r.status())) return absl::OkStatus();
  return r.status();
}

absl::StatusOr<VerifiedDispatch> EvidenceFor(RuleContext& ctx) {
  const v1::Receipt& r = ctx.record.receipt();
  if (ctx.config.evidence == nullptr) {
    return Refuse("no verified peer evidence is configured on this node");
  }
  SEG_ASSIGN_OR_RETURN(Hash h, HashFromBytes(r.dispatch().leaf_hash(),
                                             "receipt.dispatch.leaf_hash"));
  auto v = ctx.config.evidence->FindDispatch(r.dispatch().origin(),
                                             r.dispatch().index(), h);
  if (!v.ok()) return Refuse(v.status().message());
  return v;
}

}  // namespace

absl::StatusOr<ProductionFacts> Production(RuleContext& ctx) {
  ProductionFacts f;
  if (ctx.record.has_lot_produced()) {
    const auto& l = ctx.record.lot_produced();
    f = {l.product_id(), l.stage_id(), {{l.lot_id(), l.material_id()}}};
  } else if (ctx.record.has_transformation()) {
    const auto& t = ctx.record.transformation();
    f.product_id = t.product_id();
    f.stage_id = t.stage_id();
    for (const auto& o : t.outputs())
      f.outputs.push_back({o.lot_id(), o.material_id()});
  } else {
    return absl::InternalError("not a production record");
  }
  return f;
}

absl::StatusOr<int> MahStaffOnSite(RuleContext& ctx, absl::string_view site,
                                   absl::string_view mah, absl::Time t) {
  std::set<std::string> people;
  auto count = [&](const v1::PersonnelAssignment& p) {
    bool role_ok = p.role() == v1::PERSONNEL_ROLE_ON_SITE_QA ||
                   p.role() == v1::PERSONNEL_ROLE_TECHNICAL ||
                   p.role() == v1::PERSONNEL_ROLE_QP;
    // The rows are found by key prefix "d/pers/<site>/", which also holds
    // the rows of a site whose id extends this one's ("<site>/annex").
    if (role_ok && p.assigned_site_id() == site &&
        p.employer_party_id() == mah && InPeriod(p.period(), t)) {
      people.insert(p.person_id());
    }
  };
  SEG_ASSIGN_OR_RETURN(auto staff, FindStaff(ctx, site));
  if (staff != nullptr) {
    for (const auto& p : staff->assignments()) count(p);
    return static_cast<int>(people.size());
  }
  // No summary row: no assignment at the site, a personnel change since
  // the last production record here, or rows older than the summary
  // (state.h d/staff). The scan answers for all three.
  RegistrationCache* cache = ctx.registrations;
  absl::Status parse = absl::OkStatus();
  SEG_RETURN_IF_ERROR(ctx.txn.ScanPrefix(
      PersonnelPrefix(site), [&](absl::string_view k, absl::string_view v) {
        RegistrationCache::Ptr<v1::PersonnelAssignment> p;
        if (cache != nullptr) {
          p = cache->PersonnelRow(k, std::string(v));
        } else {
          auto parsed = std::make_shared<v1::PersonnelAssignment>();
          if (parsed->ParseFromString(std::string(v))) p = std::move(parsed);
        }
        if (p == nullptr) {
          parse = absl::DataLossError("corrupt personnel row");
          return false;
        }
        count(*p);
        return true;
      }));
  SEG_RETURN_IF_ERROR(parse);
  return static_cast<int>(people.size());
}

namespace {

absl::StatusOr<std::map<std::string, Decimal>> ComputePerLot(
    RuleContext& ctx, const Items& items) {
  std::map<std::string, Decimal> out;
  for (const auto& [lot_id, q] : items) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, lot_id));
    if (lot == nullptr) return absl::NotFoundError(lot_id);
    SEG_ASSIGN_OR_RETURN(Decimal d, InLotUnit(ctx, *lot, *q));
    Decimal& sum = out[std::string(lot_id)];
    SEG_ASSIGN_OR_RETURN(sum, sum.Add(d));
  }
  return out;
}

}  // namespace

absl::StatusOr<const std::map<std::string, Decimal>*> PerLot(
    RuleContext& ctx, const Items& items) {
  if (!ctx.per_lot.has_value() || ctx.per_lot_items != items) {
    ctx.per_lot = ComputePerLot(ctx, items);
    ctx.per_lot_items = items;
  }
  if (!ctx.per_lot->ok()) return ctx.per_lot->status();
  return &**ctx.per_lot;
}

absl::Status DispatchHeld(RuleContext& ctx) {
  return Held(ctx, DispatchItems(ctx.record.dispatch()));
}
absl::Status DispatchUnits(RuleContext& ctx) {
  return Units(ctx, DispatchItems(ctx.record.dispatch()));
}
absl::Status DispatchQuantity(RuleContext& ctx) {
  return WithinOnHand(ctx, DispatchItems(ctx.record.dispatch()));
}

absl::Status DispatchStatus(RuleContext& ctx) {
  for (const auto& c : ctx.record.dispatch().containers()) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, HeldLot(ctx, c.lot_id()));
    if (lot->status() != v1::LOT_STATUS_AVAILABLE) {
      return Refuse(absl::StrCat("lot ", c.lot_id(), " is ",
                                 v1::LotStatus_Name(lot->status())));
    }
  }
  return absl::OkStatus();
}

absl::Status DispatchRelease(RuleContext& ctx) {
  for (const auto& c : ctx.record.dispatch().containers()) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, HeldLot(ctx, c.lot_id()));
    if (!lot->site_released()) {
      return Refuse(
          absl::StrCat("lot ", c.lot_id(), " has no site QA release (ICH Q7)"));
    }
  }
  return absl::OkStatus();
}

namespace {

// The stages of `p` that take the lot on: those listing its material as an
// input, else the stage after the lot's own (stages are in process order).
// Empty for a lot no later stage uses (the drug product).
std::vector<const v1::Stage*> UsingStages(const v1::ProductRegistration& p,
                                          const v1::LotState& lot) {
  std::vector<const v1::Stage*> users;
  int own = -1;
  for (int i = 0; i < p.stages_size(); ++i) {
    const v1::Stage& s = p.stages(i);
    if (s.stage_id() == lot.stage_id()) own = i;
    for (const std::string& m : s.input_material_ids()) {
      if (m == lot.material_id()) users.push_back(&s);
    }
  }
  if (users.empty() && own >= 0 && own + 1 < p.stages_size()) {
    users.push_back(&p.stages(own + 1));
  }
  return users;
}

}  // namespace

// DESIGN.md "Cross-site hand-off": a lot goes only to a site the product's
// registration (the manufacturing licence's segmentation) authorises for
// the stage that uses it.
absl::Status DispatchDestination(RuleContext& ctx) {
  const v1::Dispatch& d = ctx.record.dispatch();
  for (const auto& c : d.containers()) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, HeldLot(ctx, c.lot_id()));
    if (lot->product_id().empty()) continue;
    SEG_ASSIGN_OR_RETURN(const v1::ProductRegistration* p,
                         FindProduct(ctx, lot->product_id()));
    std::vector<const v1::Stage*> users = UsingStages(*p, *lot);
    if (users.empty()) continue;
    // Every container's lot must suit the destination, not just one.
    bool authorised = false;
    std::string stages;
    for (const v1::Stage* s : users) {
      for (const std::string& site : s->approved_site_ids()) {
        authorised |= site == d.to_site_id();
      }
      absl::StrAppend(&stages, stages.empty() ? "" : ", ", s->stage_id());
    }
    if (authorised) continue;
    return Refuse(absl::StrCat(
        "site ", d.to_site_id(), " is not authorised for the next stage (",
        stages, ") of lot ", c.lot_id(), " of ", lot->product_id()));
  }
  return absl::OkStatus();
}

// Queries, findings and receipts know a transfer by its id, so a log
// never dispatches an id it has already used (dispatched, received or
// named in any record); the first record naming it here that is not
// voided is the dispatch. A record said not to have occurred does not use
// the id: the shipment that did happen is dispatched under it.
absl::Status TransferUnique(RuleContext& ctx) {
  const std::string& id = ctx.record.dispatch().transfer_id();
  std::vector<uint64_t> named;
  const std::string prefix = TransferRefPrefix(id);
  SEG_RETURN_IF_ERROR(
      ctx.txn.ScanPrefix(prefix, [&](absl::string_view k, absl::string_view) {
        if (k.size() == prefix.size() + 8) {
          named.push_back(FromBe64(k.substr(prefix.size())));
        }
        return true;
      }));
  uint64_t earlier = 0;
  bool found = false;
  for (uint64_t index : named) {
    SEG_ASSIGN_OR_RETURN(bool voided, Voided(ctx.txn, index));
    if (voided) continue;
    earlier = index;
    found = true;
    break;
  }
  if (found) {
    return Refuse(absl::StrCat("transfer id ", id, " is already used by entry ",
                               earlier, " of this log"));
  }
  return absl::OkStatus();
}

absl::Status ReceiptEvidence(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(VerifiedDispatch v, EvidenceFor(ctx));
  if (v.dispatch.transfer_id() != ctx.record.receipt().transfer_id()) {
    return Refuse(absl::StrCat("dispatch is transfer ",
                               v.dispatch.transfer_id(), ", receipt names ",
                               ctx.record.receipt().transfer_id()));
  }
  return absl::OkStatus();
}

absl::Status ReceiptAddress(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(VerifiedDispatch v, EvidenceFor(ctx));
  if (v.dispatch.to_site_id() != ctx.header->site_id()) {
    return Refuse(absl::StrCat("dispatch ", v.dispatch.transfer_id(),
                               " is addressed to ", v.dispatch.to_site_id(),
                               ", not ", ctx.header->site_id()));
  }
  return absl::OkStatus();
}

absl::Status ReceiptOnce(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(
      auto seen, ReadRow<v1::ReceivedTransfer>(
                     ctx.txn, "d/xin/" + ctx.record.receipt().transfer_id()));
  if (seen.has_value()) {
    const v1::EntryRef& named = ctx.record.receipt().dispatch();
    if (seen->dispatch().origin() != named.origin() ||
        seen->dispatch().index() != named.index()) {
      return Refuse(absl::StrCat(
          "transfer id ", seen->transfer_id(), " was received at index ",
          seen->receipt_index(), " for dispatch ", seen->dispatch().origin(),
          " ", seen->dispatch().index(), "; this dispatch ", named.origin(),
          " ", named.index(),
          " reuses the id (transfer ids are unique across the chain)"));
    }
    return Refuse(absl::StrCat("transfer ", seen->transfer_id(),
                               " was received at index ",
                               seen->receipt_index()));
  }
  return absl::OkStatus();
}

absl::Status InputsHeld(RuleContext& ctx) {
  return Held(ctx, InputItems(ctx.record.transformation()));
}
absl::Status InputUnits(RuleContext& ctx) {
  return Units(ctx, InputItems(ctx.record.transformation()));
}
absl::Status InputsQuantity(RuleContext& ctx) {
  return WithinOnHand(ctx, InputItems(ctx.record.transformation()));
}

absl::Status InputsAccepted(RuleContext& ctx) {
  for (const auto& in : ctx.record.transformation().inputs()) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, HeldLot(ctx, in.lot_id()));
    if (lot->status() != v1::LOT_STATUS_AVAILABLE) {
      return Refuse(absl::StrCat("input lot ", in.lot_id(), " is ",
                                 v1::LotStatus_Name(lot->status())));
    }
    if (ReceivedNotAccepted(*lot)) {
      return Refuse(absl::StrCat("input lot ", in.lot_id(),
                                 " has no incoming acceptance"));
    }
  }
  return absl::OkStatus();
}

absl::Status StatusLotHeld(RuleContext& ctx) {
  const std::string& id = ctx.record.status_change().lot_id();
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, id));
  if (lot == nullptr)
    return Refuse(absl::StrCat("lot ", id, " is not held here"));
  return absl::OkStatus();
}

absl::Status StatusTransition(RuleContext& ctx) {
  const auto& s = ctx.record.status_change();
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, HeldLot(ctx, s.lot_id()));
  if (lot->status() == v1::LOT_STATUS_DESTROYED) {
    return Refuse(absl::StrCat("lot ", s.lot_id(), " is destroyed"));
  }
  // Rejection, recall and return are final: such a lot leaves only by
  // destruction or return (a recalled or returned lot may also be
  // rejected). Otherwise a hold and its release, or a quarantine, would
  // lead it back to available.
  if (FinalStatus(lot->status()) && s.action() != v1::STATUS_ACTION_DESTROY &&
      s.action() != v1::STATUS_ACTION_RETURN &&
      !(s.action() == v1::STATUS_ACTION_REJECT &&
        lot->status() != v1::LOT_STATUS_REJECTED)) {
    return Refuse(absl::StrCat(
        "lot ", s.lot_id(), " is ", v1::LotStatus_Name(lot->status()),
        ": status_change.action ", v1::StatusAction_Name(s.action()),
        " is not allowed (only destroy, return or reject)"));
  }
  if (s.action() == v1::STATUS_ACTION_RELEASE_FROM_HOLD &&
      lot->status() != v1::LOT_STATUS_ON_HOLD) {
    return Refuse(absl::StrCat("lot ", s.lot_id(), " is not on hold"));
  }
  if (s.action() == v1::STATUS_ACTION_DESTROY && s.has_quantity()) {
    SEG_ASSIGN_OR_RETURN(Decimal q, InLotUnit(ctx, *lot, s.quantity()));
    if (q > Dec(lot->on_hand())) {
      return Refuse(absl::StrCat("lot ", s.lot_id(), ": destroying ",
                                 q.ToString(), ", ", lot->on_hand(),
                                 " on hand"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReleaseLot(RuleContext& ctx) {
  const auto& r = ctx.record.qa_release();
  if (r.kind() != v1::RELEASE_KIND_SITE_RELEASE &&
      r.kind() != v1::RELEASE_KIND_INCOMING_ACCEPTANCE) {
    return absl::OkStatus();
  }
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, r.lot_id()));
  if (lot == nullptr) {
    return Refuse(absl::StrCat("lot ", r.lot_id(), " is not held here"));
  }
  if (r.kind() == v1::RELEASE_KIND_INCOMING_ACCEPTANCE &&
      Dec(lot->received()).is_zero()) {
    return Refuse(absl::StrCat("lot ", r.lot_id(), " was not received here"));
  }
  const bool final_status =
      FinalStatus(lot->status()) || lot->status() == v1::LOT_STATUS_DESTROYED;
  if (final_status && r.decision() == v1::RELEASE_DECISION_RELEASED) {
    return Refuse(absl::StrCat("lot ", r.lot_id(), " is ",
                               v1::LotStatus_Name(lot->status()),
                               " and cannot be released again"));
  }
  return absl::OkStatus();
}

absl::Status ReleaseSignature(RuleContext& ctx) {
  const auto& r = ctx.record.qa_release();
  const v1::SignatureMeaning want =
      r.decision() == v1::RELEASE_DECISION_RELEASED
          ? v1::SIGNATURE_MEANING_RELEASED
          : v1::SIGNATURE_MEANING_REJECTED;
  for (const auto& a : ctx.header->signatures()) {
    if (a.meaning() == want) return absl::OkStatus();
  }
  return Refuse(absl::StrCat("QA release of ", r.lot_id(),
                             " carries no signature with meaning ",
                             v1::SignatureMeaning_Name(want)));
}

absl::Status SampleUnits(RuleContext& ctx) {
  const auto& q = ctx.record.qc_result();
  if (!q.has_sample_quantity()) return absl::OkStatus();
  return Units(ctx, {{q.lot_id(), &q.sample_quantity()}});
}

absl::Status SampleQuantity(RuleContext& ctx) {
  const auto& q = ctx.record.qc_result();
  if (!q.has_sample_quantity()) return absl::OkStatus();
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, q.lot_id()));
  if (lot == nullptr) return absl::OkStatus();  // sampled elsewhere
  return WithinOnHand(ctx, {{q.lot_id(), &q.sample_quantity()}});
}

absl::Status CorrectionRef(RuleContext& ctx) {
  const v1::EntryRef& ref = ctx.record.correction().corrects();
  if (ref.origin() != ctx.body.log_origin() ||
      ref.index() >= ctx.body.index()) {
    return Refuse(
        absl::StrCat("a correction names an earlier entry of this "
                     "log; got ",
                     ref.origin(), " index ", ref.index()));
  }
  std::string leaf;
  if (ref.index() + 1 == ctx.body.index()) {
    leaf = ctx.body.prev_hash();
  } else {
    SEG_ASSIGN_OR_RETURN(Hash h, ctx.txn.LeafHash(ref.index()));
    leaf = std::string(HashBytes(h));
  }
  if (leaf != ref.leaf_hash()) {
    return Refuse(absl::StrCat("leaf hash of entry ", ref.index(),
                               " differs from the one named"));
  }
  return absl::OkStatus();
}

// A dispatch said not to have occurred gives its quantities back
// (WithdrawDispatch), which is wrong once the receiver holds them: when
// this node holds a verified receipt of it, the dispatch did occur.
absl::Status CorrectionReceived(RuleContext& ctx) {
  const v1::Correction& x = ctx.record.correction();
  if (x.reason() != v1::CORRECTION_REASON_DID_NOT_OCCUR ||
      ctx.config.evidence == nullptr) {
    return absl::OkStatus();
  }
  SEG_ASSIGN_OR_RETURN(
      auto sent, ReadRow<v1::Dispatch>(ctx.txn, SentKey(x.corrects().index())));
  if (!sent.has_value()) return absl::OkStatus();  // no dispatch (or old)
  auto receipt =
      ctx.config.evidence->FindReceipt(x.corrects(), sent->transfer_id());
  if (absl::IsNotFound(receipt.status())) return absl::OkStatus();
  if (!receipt.ok()) return receipt.status();
  return Refuse(absl::StrCat(
      "entry ", x.corrects().index(), " dispatched transfer ",
      sent->transfer_id(), ", whose receipt (", receipt->origin(), " index ",
      receipt->index(),
      ") is held here as verified evidence: the shipment arrived, so it "
      "cannot be said not to have occurred"));
}

// A lot production, receipt or transformation said not to have occurred
// forgets the lots it made or puts the lots it received back as they were
// (WithdrawProduction, WithdrawReceipt, WithdrawTransformation), which
// would undo what was recorded since, or leave it standing on a lot that
// never existed: refused while an entry since, not itself voided, touched
// a lot it made or received. (A transformation's inputs get back what it
// consumed, whatever happened to them since, as for a dispatch.)
absl::Status CorrectionUsed(RuleContext& ctx) {
  const v1::Correction& x = ctx.record.correction();
  if (x.reason() != v1::CORRECTION_REASON_DID_NOT_OCCUR) {
    return absl::OkStatus();
  }
  const uint64_t index = x.corrects().index();
  std::string what;
  std::optional<std::pair<std::string, uint64_t>> used;
  absl::StatusOr<std::string> transfer = ctx.txn.Get(ReceivedKey(index));
  absl::StatusOr<std::string> made = ctx.txn.Get(MadeKey(index));
  for (const auto* row : {&transfer, &made}) {
    if (!row->ok() && !absl::IsNotFound(row->status())) return row->status();
  }
  SEG_ASSIGN_OR_RETURN(
      auto done, ReadRow<v1::Transformation>(ctx.txn, TransformedKey(index)));
  if (transfer.ok()) {
    what = absl::StrCat(" received transfer ", *transfer);
    SEG_ASSIGN_OR_RETURN(used, UsedSince(ctx.txn, index));
  } else if (done.has_value()) {
    what = absl::StrCat(" is a transformation of product ", done->product_id());
    SEG_ASSIGN_OR_RETURN(used,
                         LotsUsedSince(ctx.txn, OutputLots(*done), index));
  } else if (made.ok()) {
    // Only while the lot is still the one it made (not forgotten and
    // produced again since).
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, *made));
    if (lot == nullptr || lot->first_index() != index) {
      return absl::OkStatus();
    }
    what = absl::StrCat(" produced lot ", *made);
    SEG_ASSIGN_OR_RETURN(used, LotsUsedSince(ctx.txn, {*made}, index));
  }
  if (!used.has_value()) return absl::OkStatus();
  return Refuse(absl::StrCat("entry ", index, what, "; lot ", used->first,
                             " was used since by entry ", used->second,
                             ": correct that entry as not occurred first"));
}

// A "did not occur" correction withdrew what the entry it names did to
// the state; saying that correction did not occur in turn would bring the
// entry back for the findings (DomainGraph counts it again) but not its
// effect on the state, which nothing here can redo. Refused: record the
// entry's facts again as a new entry instead. (A store written before
// d/voids has no row to find.)
absl::Status CorrectionUndo(RuleContext& ctx) {
  const v1::Correction& x = ctx.record.correction();
  if (x.reason() != v1::CORRECTION_REASON_DID_NOT_OCCUR) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> voided =
      ctx.txn.Get(VoidsKey(x.corrects().index()));
  if (absl::IsNotFound(voided.status())) return absl::OkStatus();
  if (!voided.ok()) return voided.status();
  if (voided->size() != 8) {
    return absl::DataLossError(absl::StrCat(
        "index row d/voids/ of entry ", x.corrects().index(), " is corrupt"));
  }
  return Refuse(absl::StrCat(
      "entry ", x.corrects().index(), " says entry ", FromBe64(*voided),
      " did not occur and withdrew it; a correction cannot bring it back: "
      "record entry ",
      FromBe64(*voided), "'s facts again as a new entry"));
}

}  // namespace segledger::domain
