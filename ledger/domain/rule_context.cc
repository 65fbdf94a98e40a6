#include "ledger/domain/rule_context.h"

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"

namespace segledger::domain {

bool InPeriod(const v1::Period& p, absl::Time t) {
  if (t < FromProtoTime(p.from())) return false;
  return !p.has_until() || t <= FromProtoTime(p.until());
}

namespace {

constexpr size_t kMaxCached = 1024;  // registrations; cleared beyond
// Lots are many but each is hot only while it is made, moved and released.
constexpr size_t kMaxCachedLots = 4096;

}  // namespace

template <typename T>
RegistrationCache::Ptr<T> RegistrationCache::Row(Map<T>& map,
                                                 absl::string_view key,
                                                 const std::string& bytes,
                                                 size_t max_entries) {
  absl::MutexLock l(&mu_);
  auto it = map.find(key);
  if (it != map.end() && it->second.source == bytes) return it->second.value;
  auto parsed = std::make_shared<T>();
  if (!parsed->ParseFromString(bytes)) return nullptr;
  if (map.size() >= max_entries) map.clear();
  map[std::string(key)] = Entry<T>{bytes, parsed};
  return parsed;
}

RegistrationCache::Ptr<v1::ProductRegistration> RegistrationCache::ProductRow(
    absl::string_view key, const std::string& bytes) {
  return Row(products_, key, bytes, kMaxCached);
}

RegistrationCache::Ptr<v1::PartyRegistration> RegistrationCache::PartyRow(
    absl::string_view key, const std::string& bytes) {
  return Row(parties_, key, bytes, kMaxCached);
}

RegistrationCache::Ptr<v1::SiteRegistration> RegistrationCache::SiteRow(
    absl::string_view key, const std::string& bytes) {
  return Row(sites_, key, bytes, kMaxCached);
}

RegistrationCache::Ptr<v1::PersonnelAssignment> RegistrationCache::PersonnelRow(
    absl::string_view key, const std::string& bytes) {
  return Row(personnel_, key, bytes, kMaxCached);
}

RegistrationCache::Ptr<v1::SiteStaff> RegistrationCache::StaffRow(
    absl::string_view key, const std::string& bytes) {
  return Row(staff_, key, bytes, kMaxCached);
}

RegistrationCache::Ptr<v1::LotState> RegistrationCache::LotRow(
    absl::string_view key, const std::string& bytes) {
  return Row(lots_, key, bytes, kMaxCachedLots);
}

void RegistrationCache::RememberLot(absl::string_view key, std::string bytes,
                                    Ptr<v1::LotState> lot) {
  Entry<v1::LotState> e{std::move(bytes), std::move(lot)};
  absl::MutexLock l(&mu_);
  auto it = lots_.find(key);
  if (it != lots_.end()) {
    std::swap(it->second, e);  // the old entry is freed after the unlock
    return;
  }
  if (lots_.size() >= kMaxCachedLots) lots_.clear();
  lots_.emplace(std::string(key), std::move(e));
}

template <typename T, typename Find>
absl::StatusOr<RegistrationCache::Ptr<T>> RegistrationCache::FromEvidence(
    Map<T>& map, Evidence& e, absl::string_view id, Find find) {
  const uint64_t gen = e.Generation();
  const std::string source = absl::StrCat("gen:", gen);
  if (gen != 0) {
    absl::MutexLock l(&mu_);
    auto it = map.find(id);
    if (it != map.end() && it->second.source == source) {
      return it->second.value;
    }
  }
  SEG_ASSIGN_OR_RETURN(T found, find(id));
  auto value = std::make_shared<const T>(std::move(found));
  if (gen != 0) {
    absl::MutexLock l(&mu_);
    if (map.size() >= kMaxCached) map.clear();
    map[std::string(id)] = Entry<T>{source, value};
  }
  return value;
}

absl::StatusOr<RegistrationCache::Ptr<v1::ProductRegistration>>
RegistrationCache::EvidenceProduct(Evidence& e, absl::string_view id) {
  return FromEvidence(products_, e, id,
                      [&e](absl::string_view i) { return e.FindProduct(i); });
}

absl::StatusOr<RegistrationCache::Ptr<v1::PartyRegistration>>
RegistrationCache::EvidenceParty(Evidence& e, absl::string_view id) {
  return FromEvidence(parties_, e, id,
                      [&e](absl::string_view i) { return e.FindParty(i); });
}

namespace {

template <typename T>
using RowOf = RegistrationCache::Ptr<T> (RegistrationCache::*)(
    absl::string_view key, const std::string& bytes);

// This log's row `key` parsed, through the cache's `from_row` when `ctx`
// has one: nullptr when absent, DATA_LOSS when it does not parse.
template <typename T>
absl::StatusOr<RegistrationCache::Ptr<T>> ParsedRow(RuleContext& ctx,
                                                    const std::string& key,
                                                    RowOf<T> from_row) {
  absl::StatusOr<std::string> row = ctx.txn.Get(key);
  if (absl::IsNotFound(row.status())) return nullptr;
  if (!row.ok()) return row.status();
  RegistrationCache::Ptr<T> p;
  if (ctx.registrations != nullptr) {
    p = (ctx.registrations->*from_row)(key, *row);
  } else {
    auto parsed = std::make_shared<T>();
    if (parsed->ParseFromString(*row)) p = std::move(parsed);
  }
  if (p == nullptr) {
    return absl::DataLossError(absl::StrCat("index row ", key, " is corrupt"));
  }
  return p;
}

// A registration: this log's row `key`, else the evidence, else NOT_FOUND.
template <typename T, typename FromEvidence, typename Find>
absl::StatusOr<RegistrationCache::Ptr<T>> Registration(
    RuleContext& ctx, const std::string& key, RowOf<T> from_row,
    FromEvidence from_evidence, Find find, absl::string_view missing) {
  SEG_ASSIGN_OR_RETURN(RegistrationCache::Ptr<T> own,
                       ParsedRow<T>(ctx, key, from_row));
  if (own != nullptr) return own;
  Evidence* e = ctx.config.evidence;
  if (e == nullptr) return absl::NotFoundError(missing);
  if (ctx.registrations != nullptr) {
    return from_evidence(*ctx.registrations, *e);
  }
  SEG_ASSIGN_OR_RETURN(T found, find(*e));
  return std::make_shared<const T>(std::move(found));
}

}  // namespace

absl::StatusOr<RegistrationCache::Ptr<v1::ProductRegistration>> EvidenceProduct(
    RuleContext& ctx, absl::string_view id) {
  Evidence* e = ctx.config.evidence;
  if (e == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("product ", id, " is not registered"));
  }
  if (ctx.registrations != nullptr) {
    return ctx.registrations->EvidenceProduct(*e, id);
  }
  SEG_ASSIGN_OR_RETURN(v1::ProductRegistration found, e->FindProduct(id));
  return std::make_shared<const v1::ProductRegistration>(std::move(found));
}

absl::StatusOr<const v1::ProductRegistration*> FindProduct(
    RuleContext& ctx, absl::string_view id) {
  auto cached = ctx.products.find(id);
  if (cached != ctx.products.end()) return cached->second.get();
  SEG_ASSIGN_OR_RETURN(
      RegistrationCache::Ptr<v1::ProductRegistration> p,
      ParsedRow<v1::ProductRegistration>(ctx, absl::StrCat("d/prod/", id),
                                         &RegistrationCache::ProductRow));
  // This log's row speaks for the product only when its author is
  // registered as a MAH: a row of another party (written before
  // R-PRODUCT-OWNER refused it) yields to the MAH's verified registration.
  bool own_is_mah = false;
  if (p != nullptr) {
    auto author = FindParty(ctx, p->header().party_id());
    if (!author.ok() && !absl::IsNotFound(author.status())) {
      return author.status();
    }
    own_is_mah = author.ok() && (*author)->role() == v1::PARTY_ROLE_MAH;
  }
  if (!own_is_mah) {
    auto verified = EvidenceProduct(ctx, id);
    if (verified.ok()) {
      p = *std::move(verified);
    } else if (p == nullptr || !absl::IsNotFound(verified.status())) {
      return verified.status();
    }
  }
  const v1::ProductRegistration* out = p.get();
  ctx.products.emplace(std::string(id), std::move(p));
  return out;
}

absl::StatusOr<RegistrationCache::Ptr<v1::PartyRegistration>> FindParty(
    RuleContext& ctx, absl::string_view id) {
  return Registration<v1::PartyRegistration>(
      ctx, absl::StrCat("d/party/", id), &RegistrationCache::PartyRow,
      [id](RegistrationCache& c, Evidence& e) {
        return c.EvidenceParty(e, id);
      },
      [id](Evidence& e) { return e.FindParty(id); },
      absl::StrCat("party ", id, " is not registered"));
}

absl::StatusOr<RegistrationCache::Ptr<v1::SiteRegistration>> FindSite(
    RuleContext& ctx, absl::string_view site_id) {
  return ParsedRow<v1::SiteRegistration>(ctx, absl::StrCat("d/site/", site_id),
                                         &RegistrationCache::SiteRow);
}

absl::StatusOr<RegistrationCache::Ptr<v1::SiteStaff>> FindStaff(
    RuleContext& ctx, absl::string_view site_id) {
  return ParsedRow<v1::SiteStaff>(ctx, StaffKey(site_id),
                                  &RegistrationCache::StaffRow);
}

absl::StatusOr<const v1::LotState*> RuleLot(RuleContext& ctx,
                                            absl::string_view id) {
  auto it = ctx.lots.find(id);
  if (it == ctx.lots.end()) {
    SEG_ASSIGN_OR_RETURN(
        auto lot,
        ParsedRow<v1::LotState>(ctx, LotKey(id), &RegistrationCache::LotRow));
    it = ctx.lots.emplace(std::string(id), std::move(lot)).first;
  }
  return it->second.get();
}

void PutLot(RuleContext& ctx, const std::string& id, v1::LotState lot) {
  const std::string key = LotKey(id);
  std::string bytes;
  lot.SerializeToString(&bytes);
  ctx.txn.Put(key, bytes);
  auto parsed = std::make_shared<const v1::LotState>(std::move(lot));
  if (ctx.registrations != nullptr) {
    ctx.registrations->RememberLot(key, std::move(bytes), parsed);
  }
  ctx.lots.insert_or_assign(id, std::move(parsed));
  ctx.per_lot.reset();
}

void DeleteLot(RuleContext& ctx, const std::string& id) {
  ctx.txn.Delete(LotKey(id));
  ctx.lots.insert_or_assign(id, nullptr);
  ctx.per_lot.reset();
}

const v1::Stage* FindStage(const v1::ProductRegistration& p,
                           absl::string_view stage_id) {
  for (const v1::Stage& s : p.stages()) {
    if (s.stage_id() == stage_id) return &s;
  }
  return nullptr;
}

std::optional<Decimal> DensityOf(RuleContext& ctx, const v1::LotState& lot) {
  // A lot received here has no product (a dispatch names lots, not their
  // product): a transformation consuming it makes the same product, and
  // converts with that product's density.
  const std::string* product = &lot.product_id();
  if (product->empty() && ctx.record.has_transformation()) {
    product = &ctx.record.transformation().product_id();
  }
  if (product->empty()) return std::nullopt;
  auto p = FindProduct(ctx, *product);
  if (!p.ok() || (*p)->density_g_per_ml().empty()) return std::nullopt;
  auto d = Decimal::Parse((*p)->density_g_per_ml());
  if (!d.ok()) return std::nullopt;
  return *d;
}

namespace {

bool NeedsDensity(absl::string_view from, absl::string_view to) {
  auto a = LookupUnit(from);
  auto b = LookupUnit(to);
  return a.ok() && b.ok() && a->dimension != b->dimension &&
         a->dimension != Dimension::kCount && b->dimension != Dimension::kCount;
}

}  // namespace

absl::StatusOr<Decimal> InLotUnit(RuleContext& ctx, const v1::LotState& lot,
                                  const v1::Quantity& q) {
  SEG_ASSIGN_OR_RETURN(Quantity parsed, ParseQuantity(q, "quantity"));
  // The density matters only between mass and volume: look the product up
  // only then (the result is the same as converting with it).
  auto d = ConvertTo(parsed, lot.unit(), std::nullopt);
  if (!d.ok() && NeedsDensity(parsed.unit, lot.unit())) {
    d = ConvertTo(parsed, lot.unit(), DensityOf(ctx, lot));
  }
  if (!d.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("lot ", lot.lot_id(), ": ", d.status().message()));
  }
  return *d;
}

Decimal Dec(const std::string& s) {
  if (s.empty()) return Decimal();
  auto d = Decimal::Parse(s);
  return d.ok() ? *d : Decimal();
}

bool FinalStatus(v1::LotStatus s) {
  return s == v1::LOT_STATUS_REJECTED || s == v1::LOT_STATUS_RECALLED ||
         s == v1::LOT_STATUS_RETURNED;
}

bool ReceivedNotAccepted(const v1::LotState& lot) {
  // A receipt resets incoming_accepted and an acceptance sets it, so for a
  // lot ever received here it tells whether its latest arrival was
  // accepted, also for a lot made here that came back.
  return !Dec(lot.received()).is_zero() && !lot.incoming_accepted();
}

}  // namespace segledger::domain
