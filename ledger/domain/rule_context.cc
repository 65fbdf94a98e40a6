#include "ledger/domain/rule_context.h"

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"

namespace segledger::domain {

absl::StatusOr<v1::ProductRegistration> FindProductUncached(
    RuleContext& ctx, absl::string_view id);

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  int64_t s = absl::ToUnixSeconds(t);
  ts.set_seconds(s);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(s))));
  return ts;
}

bool InPeriod(const v1::Period& p, absl::Time t) {
  if (t < ToTime(p.from())) return false;
  return !p.has_until() || t <= ToTime(p.until());
}

absl::StatusOr<v1::ProductRegistration> FindProduct(RuleContext& ctx,
                                                    absl::string_view id) {
  auto cached = ctx.products.find(std::string(id));
  if (cached != ctx.products.end()) return cached->second;
  SEG_ASSIGN_OR_RETURN(v1::ProductRegistration p, FindProductUncached(ctx, id));
  ctx.products.emplace(std::string(id), p);
  return p;
}

absl::StatusOr<v1::ProductRegistration> FindProductUncached(
    RuleContext& ctx, absl::string_view id) {
  SEG_ASSIGN_OR_RETURN(auto local, ReadRow<v1::ProductRegistration>(
                                       ctx.txn, absl::StrCat("d/prod/", id)));
  if (local.has_value()) return *local;
  if (ctx.config.evidence != nullptr) {
    return ctx.config.evidence->FindProduct(id);
  }
  return absl::NotFoundError(
      absl::StrCat("product ", id, " is not registered"));
}

absl::StatusOr<v1::PartyRegistration> FindParty(RuleContext& ctx,
                                                absl::string_view id) {
  SEG_ASSIGN_OR_RETURN(auto local, ReadRow<v1::PartyRegistration>(
                                       ctx.txn, absl::StrCat("d/party/", id)));
  if (local.has_value()) return *local;
  if (ctx.config.evidence != nullptr) return ctx.config.evidence->FindParty(id);
  return absl::NotFoundError(absl::StrCat("party ", id, " is not registered"));
}

const v1::Stage* FindStage(const v1::ProductRegistration& p,
                           absl::string_view stage_id) {
  for (const v1::Stage& s : p.stages()) {
    if (s.stage_id() == stage_id) return &s;
  }
  return nullptr;
}

std::optional<Decimal> DensityOf(RuleContext& ctx, const v1::LotState& lot) {
  if (lot.product_id().empty()) return std::nullopt;
  auto p = FindProduct(ctx, lot.product_id());
  if (!p.ok() || p->density_g_per_ml().empty()) return std::nullopt;
  auto d = Decimal::Parse(p->density_g_per_ml());
  if (!d.ok()) return std::nullopt;
  return *d;
}

absl::StatusOr<Decimal> InLotUnit(RuleContext& ctx, const v1::LotState& lot,
                                  const v1::Quantity& q) {
  SEG_ASSIGN_OR_RETURN(Quantity parsed, ParseQuantity(q, "quantity"));
  auto d = ConvertTo(parsed, lot.unit(), DensityOf(ctx, lot));
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

}  // namespace segledger::domain
