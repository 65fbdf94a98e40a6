#include "ledger/domain/graph.h"

#include <algorithm>
#include <deque>

#include "absl/strings/str_cat.h"
#include "ledger/domain/links.h"
#include "ledger/domain/rule_context.h"
#include "ledger/domain/validate.h"

namespace segledger::domain {

v1::EntryRef GraphEntry::Ref() const {
  v1::EntryRef r;
  r.set_origin(origin);
  r.set_index(index);
  r.set_leaf_hash(std::string(HashBytes(leaf_hash)));
  return r;
}

absl::Time GraphEntry::EventTime() const {
  const v1::RecordHeader* h = HeaderOf(body.record());
  if (h != nullptr && h->has_event_time())
    return FromProtoTime(h->event_time().time());
  return FromProtoTime(body.recorded_at());
}

void DomainGraph::Add(std::string origin, uint64_t index, const Hash& leaf_hash,
                      v1::EntryBody body) {
  LogEntries& log = by_pos_[origin];
  auto it = log.lower_bound(index);
  if (it != log.end() && it->first == index) {
    if (it->second->leaf_hash == leaf_hash) return;  // same entry again
    GraphEntry other{origin, index, leaf_hash, {}};
    add_findings_.push_back(DomainFinding{
        DomainFindingKind::kEquivocation,
        DefaultSeverityOf(DomainFindingKind::kEquivocation),
        absl::StrCat("log ", origin, " shows two different entries at index ",
                     index),
        {it->second->Ref(), other.Ref()}});
    return;
  }
  auto e = std::make_unique<GraphEntry>(
      GraphEntry{std::move(origin), index, leaf_hash, std::move(body)});
  const GraphEntry* p = e.get();
  entries_.push_back(std::move(e));
  log.emplace_hint(it, index, p);
  const v1::Record& r = p->body.record();
  RecordLinks links = LinksOf(r);
  for (const auto& lot : links.lots) by_lot_[lot].push_back(p);
  for (const auto& t : links.transfers) by_transfer_[t].push_back(p);
  auto latest = [&](std::map<std::string, const GraphEntry*>& m,
                    const std::string& key) {
    auto [slot, fresh] = m.emplace(key, p);
    if (!fresh && slot->second->EventTime() <= p->EventTime()) slot->second = p;
  };
  switch (r.kind_case()) {
    case v1::Record::kProductRegistration:
      products_[r.product_registration().product_id()].push_back(p);
      break;
    case v1::Record::kSiteRegistration:
      latest(sites_, r.site_registration().header().site_id());
      break;
    case v1::Record::kPartyRegistration: {
      const std::string& party = r.party_registration().header().party_id();
      latest(parties_, party);
      auto [slot, fresh] =
          log_parties_.emplace(std::make_pair(p->origin, party), p);
      if (!fresh && slot->second->EventTime() <= p->EventTime()) {
        slot->second = p;
      }
      break;
    }
    case v1::Record::kPersonnelAssignment:
      personnel_.push_back(p);
      break;
    case v1::Record::kCorrection:
      // A log corrects only its own entries (records.proto); the leaf hash
      // is checked by CorrectionsOf, whichever of the two came in first.
      if (r.correction().corrects().origin() == p->origin) {
        corrections_[{p->origin, r.correction().corrects().index()}].push_back(
            p);
      }
      break;
    default:
      break;
  }
}

absl::Status DomainGraph::AddSigned(absl::string_view origin,
                                    absl::string_view body,
                                    absl::string_view signature,
                                    const SignatureChecker& checker) {
  v1::EntryBody parsed;
  if (!parsed.ParseFromString(std::string(body))) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry body of ", origin, " does not parse"));
  }
  Hash leaf = LeafHash(body);
  if (checker) {
    absl::Status st = checker(origin, parsed.key_name(), body, signature);
    if (!st.ok()) {
      GraphEntry e{std::string(origin), parsed.index(), leaf, {}};
      add_findings_.push_back(DomainFinding{
          DomainFindingKind::kBadSignature,
          DefaultSeverityOf(DomainFindingKind::kBadSignature),
          absl::StrCat("signature of ", origin, " index ", parsed.index(),
                       " does not verify: ", st.message()),
          {e.Ref()}});
      return absl::OkStatus();
    }
  }
  const uint64_t index = parsed.index();  // before parsed is moved from
  Add(std::string(origin), index, leaf, std::move(parsed));
  return absl::OkStatus();
}

const GraphEntry* DomainGraph::Find(absl::string_view origin,
                                    uint64_t index) const {
  auto log = by_pos_.find(origin);
  if (log == by_pos_.end()) return nullptr;
  auto it = log->second.find(index);
  return it == log->second.end() ? nullptr : it->second;
}

const GraphEntry* DomainGraph::ByRef(const v1::EntryRef& ref) const {
  const GraphEntry* e = Find(ref.origin(), ref.index());
  if (e == nullptr || HashBytes(e->leaf_hash) != ref.leaf_hash())
    return nullptr;
  return e;
}

std::vector<const GraphEntry*> DomainGraph::CorrectionsOf(
    const GraphEntry& e) const {
  std::vector<const GraphEntry*> out;
  auto it =
      corrections_.find(std::make_pair(absl::string_view(e.origin), e.index));
  if (it == corrections_.end()) return out;
  const std::string leaf(HashBytes(e.leaf_hash));
  for (const GraphEntry* c : it->second) {
    if (c->body.record().correction().corrects().leaf_hash() == leaf)
      out.push_back(c);
  }
  return out;
}

bool DomainGraph::DidNotOccur(const GraphEntry& e) const {
  return DidNotOccur(e, 0);
}

bool DomainGraph::DidNotOccur(const GraphEntry& e, int depth) const {
  // A correction voided in turn voids nothing. Leaf hashes chain a log, so
  // corrections of corrections cannot loop; the depth bounds a graph whose
  // entries were added without that check.
  if (depth > 16) return false;
  for (const GraphEntry* c : CorrectionsOf(e)) {
    if (c->body.record().correction().reason() ==
            v1::CORRECTION_REASON_DID_NOT_OCCUR &&
        !DidNotOccur(*c, depth + 1)) {
      return true;
    }
  }
  return false;
}

namespace {
const std::vector<const GraphEntry*>& Entries(
    const std::map<std::string, std::vector<const GraphEntry*>>& m,
    absl::string_view key) {
  static const auto* const kNone = new std::vector<const GraphEntry*>();
  auto it = m.find(std::string(key));
  return it == m.end() ? *kNone : it->second;
}
}  // namespace

const std::vector<const GraphEntry*>& DomainGraph::OfLot(
    absl::string_view lot) const {
  return Entries(by_lot_, lot);
}

const std::vector<const GraphEntry*>& DomainGraph::OfTransfer(
    absl::string_view transfer) const {
  return Entries(by_transfer_, transfer);
}

const GraphEntry* DomainGraph::PartyOf(absl::string_view origin,
                                       absl::string_view party) const {
  auto it = log_parties_.find({std::string(origin), std::string(party)});
  if (it != log_parties_.end()) return it->second;
  auto any = parties_.find(std::string(party));
  return any == parties_.end() ? nullptr : any->second;
}

const v1::ProductRegistration* DomainGraph::Product(
    absl::string_view id) const {
  auto it = products_.find(std::string(id));
  if (it == products_.end()) return nullptr;
  auto author = [](const GraphEntry* e) -> const std::string& {
    return e->body.record().product_registration().header().party_id();
  };
  // 2: the author is registered as MAH (in the registration's own log,
  // else anywhere here); 1: not registered here; 0: registered otherwise.
  auto rank = [&](const GraphEntry* e) {
    const GraphEntry* reg = PartyOf(e->origin, author(e));
    if (reg == nullptr) return 1;
    return reg->body.record().party_registration().role() == v1::PARTY_ROLE_MAH
               ? 2
               : 0;
  };
  int best = 0;
  for (const GraphEntry* e : it->second) best = std::max(best, rank(e));
  if (best == 0) return nullptr;
  // The MAH registered the product first; a party declaring itself a MAH
  // later, or writing "the MAH's" registration into its own log, does not
  // replace the plan.
  const GraphEntry* first = nullptr;
  for (const GraphEntry* e : it->second) {
    if (rank(e) == best &&
        (first == nullptr || e->EventTime() < first->EventTime())) {
      first = e;
    }
  }
  const GraphEntry* plan = first;
  for (const GraphEntry* e : it->second) {
    if (e->origin == first->origin && author(e) == author(first) &&
        plan->EventTime() <= e->EventTime()) {
      plan = e;
    }
  }
  return &plan->body.record().product_registration();
}

const v1::SiteRegistration* DomainGraph::Site(absl::string_view id) const {
  auto it = sites_.find(std::string(id));
  if (it == sites_.end()) return nullptr;
  return &it->second->body.record().site_registration();
}

const v1::ProductRegistration* DomainGraph::ProductOfLot(
    absl::string_view lot) const {
  // Not from a record said not to have occurred: a lot made again under
  // its id, with the right facts, may be of another product.
  for (const GraphEntry* e : OfLot(lot)) {
    const v1::Record& r = e->body.record();
    std::string product;
    if (r.has_lot_produced()) product = r.lot_produced().product_id();
    if (r.has_transformation()) product = r.transformation().product_id();
    if (product.empty() || DidNotOccur(*e)) continue;
    return Product(product);
  }
  return nullptr;
}

std::optional<Decimal> DomainGraph::Density(absl::string_view lot) const {
  const v1::ProductRegistration* p = ProductOfLot(lot);
  if (p == nullptr || p->density_g_per_ml().empty()) return std::nullopt;
  auto d = Decimal::Parse(p->density_g_per_ml());
  if (d.ok()) return *d;
  return std::nullopt;
}

Decimal DomainGraph::MassBalanceTolerancePercent(absl::string_view lot) const {
  const v1::ProductRegistration* p = ProductOfLot(lot);
  if (p == nullptr || p->mass_balance_tolerance_percent().empty()) {
    return Decimal();
  }
  auto d = Decimal::Parse(p->mass_balance_tolerance_percent());
  return d.ok() && !d->is_negative() ? *d : Decimal();
}

std::set<std::string> DomainGraph::TransfersOfLot(absl::string_view lot) const {
  std::set<std::string> out;
  for (const GraphEntry* e : OfLot(lot)) {
    const v1::Record& r = e->body.record();
    if (r.has_dispatch()) out.insert(r.dispatch().transfer_id());
    if (r.has_receipt()) out.insert(r.receipt().transfer_id());
  }
  return out;
}

std::vector<TimelineItem> DomainGraph::Timeline(absl::string_view lot) const {
  // The lot's records, then those of the shipments it travelled in that do
  // not name it (a transport condition report, a deviation or recall of
  // the transfer), each with the transfer it came through.
  std::vector<std::pair<const GraphEntry*, std::string>> all;
  std::set<const GraphEntry*> in;
  for (const GraphEntry* e : OfLot(lot)) {
    if (in.insert(e).second) all.emplace_back(e, "");
  }
  for (const std::string& t : TransfersOfLot(lot)) {
    for (const GraphEntry* e : OfTransfer(t)) {
      if (in.insert(e).second) all.emplace_back(e, t);
    }
  }
  // Corrections of those entries appear too, in event-time order, each
  // linked from what it corrects (corrected_by).
  for (size_t i = 0, n = all.size(); i < n; ++i) {
    for (const GraphEntry* c : CorrectionsOf(*all[i].first)) {
      if (in.insert(c).second) all.emplace_back(c, all[i].second);
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
    const GraphEntry* a = x.first;
    const GraphEntry* b = y.first;
    if (a->EventTime() != b->EventTime()) {
      return a->EventTime() < b->EventTime();
    }
    return std::tie(a->origin, a->index) < std::tie(b->origin, b->index);
  });
  std::vector<TimelineItem> out;
  for (const auto& [e, via] : all) {
    const v1::Record& r = e->body.record();
    const v1::RecordHeader* h = HeaderOf(r);
    TimelineItem item;
    item.ref = e->Ref();
    item.via_transfer = via;
    item.kind = std::string(RecordKindName(r));
    item.biz_step = std::string(CbvBizStep(r));
    item.event_time = e->EventTime();
    item.recorded_at = FromProtoTime(e->body.recorded_at());
    item.is_correction = r.has_correction();
    if (h != nullptr) {
      item.site_id = h->site_id();
      item.utc_offset_minutes = h->event_time().utc_offset_minutes();
      for (const v1::Actor& a : h->signatures()) {
        std::string meaning = v1::SignatureMeaning_Name(a.meaning());
        absl::string_view m = meaning;
        m.remove_prefix(std::min<size_t>(m.size(), 18));  // SIGNATURE_MEANING_
        item.signatures.push_back(absl::StrCat(
            a.printed_name(), " / ", m, " / ",
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProtoTime(a.signed_at()),
                             absl::UTCTimeZone())));
      }
    }
    for (const GraphEntry* c : CorrectionsOf(*e))
      item.corrected_by.push_back(c->Ref());
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace segledger::domain
