// The rule table and its checks (issue 4 item 3; DOMAIN.md "The pilot
// program" and "The chain for an ADC").
#include "ledger/domain/rules.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger/domain/rules_internal.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

using K = v1::Record::KindCase;

absl::Status KeyValidity(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(
      auto ks, ReadRow<v1::KeyState>(ctx.txn, "d/key/" + ctx.body.key_name()));
  if (!ks.has_value()) return absl::OkStatus();  // trusted out of band
  const absl::Time t = FromProtoTime(ctx.body.recorded_at());
  const std::string& name = ctx.body.key_name();
  if (ks->has_valid_from() && t < FromProtoTime(ks->valid_from())) {
    return Refuse(
        absl::StrCat("key ", name, " is not valid before ",
                     absl::FormatTime(FromProtoTime(ks->valid_from()))));
  }
  if (ks->has_valid_until() && t > FromProtoTime(ks->valid_until())) {
    return Refuse(
        absl::StrCat("key ", name, " expired at ",
                     absl::FormatTime(FromProtoTime(ks->valid_until()))));
  }
  // A revoked key signs nothing after its revocation entry, even when the
  // revocation's effective_at lies ahead (the verifier and peers refuse such
  // entries: a thief could otherwise backdate around a revocation).
  if (ks->has_revoked_at()) {
    return Refuse(
        absl::StrCat("key ", name, " is revoked (from ",
                     absl::FormatTime(FromProtoTime(ks->revoked_at())),
                     "): it signs nothing after its revocation"));
  }
  if (ks->has_retired_at() && t >= FromProtoTime(ks->retired_at())) {
    return Refuse(
        absl::StrCat("key ", name, " was rotated away at ",
                     absl::FormatTime(FromProtoTime(ks->retired_at()))));
  }
  return absl::OkStatus();
}

// A log never stops its own signing key with a record that key signs: the
// next entry could not be signed by any valid key (entry.proto: rotate to
// a new key before revoking the one that signs).
absl::Status KeyRecordSigner(RuleContext& ctx) {
  const std::string& signer = ctx.body.key_name();
  if (ctx.record.has_key_revocation()) {
    if (ctx.record.key_revocation().key_name() == signer) {
      return Refuse(absl::StrCat(
          "key_revocation.key_name: ", signer,
          " signs this entry; rotate to a new key (RotateKey) before "
          "revoking it"));
    }
    return absl::OkStatus();
  }
  const v1::KeyRegistration& k = ctx.record.key_registration();
  if (k.key_name() != signer) return absl::OkStatus();
  const absl::Time t = FromProtoTime(ctx.body.recorded_at());
  if (k.has_valid_until() && FromProtoTime(k.valid_until()) <= t) {
    return Refuse(absl::StrCat("key_registration.valid_until: ",
                               absl::FormatTime(FromProtoTime(k.valid_until())),
                               " would end key ", signer,
                               ", which signs this entry; rotate first"));
  }
  if (k.has_valid_from() && FromProtoTime(k.valid_from()) > t) {
    return Refuse(absl::StrCat("key_registration.valid_from: ",
                               absl::FormatTime(FromProtoTime(k.valid_from())),
                               " is after this entry, which key ", signer,
                               " signs"));
  }
  return absl::OkStatus();
}

absl::Status OwnParty(RuleContext& ctx) {
  if (ctx.header == nullptr || ctx.config.party_id.empty()) {
    return absl::OkStatus();
  }
  if (ctx.header->party_id() != ctx.config.party_id) {
    return Refuse(absl::StrCat("record authored by party ",
                               ctx.header->party_id(), " on the log of party ",
                               ctx.config.party_id));
  }
  return absl::OkStatus();
}

// ALCOA+ "contemporaneous": a record states what happened, so its event
// time is not after the moment it is recorded (beyond clock skew).
absl::Status EventTime(RuleContext& ctx) {
  if (ctx.header == nullptr || !ctx.header->has_event_time()) {
    return absl::OkStatus();
  }
  const absl::Time recorded = FromProtoTime(ctx.body.recorded_at());
  if (ctx.event_time > recorded + ctx.config.max_event_ahead) {
    return Refuse(absl::StrCat(
        "header.event_time ", absl::FormatTime(ctx.event_time),
        " is after the record time ", absl::FormatTime(recorded),
        " (more than ", absl::FormatDuration(ctx.config.max_event_ahead),
        " ahead): record an event once it has happened"));
  }
  return absl::OkStatus();
}

absl::Status OwnSite(RuleContext& ctx) {
  if (ctx.header == nullptr || ctx.header->site_id().empty()) {
    return absl::OkStatus();
  }
  if (ctx.header->site_id() != ctx.config.site_id) {
    return Refuse(absl::StrCat("record of site ", ctx.header->site_id(),
                               " on the log of site '", ctx.config.site_id,
                               "'"));
  }
  return absl::OkStatus();
}

// Only the product's MAH registers its plan (DOMAIN.md "product
// registration (MAH)"): the MAH the verified evidence names for a product
// it holds, else a party whose own registration says MAH. Another party's
// plan would approve its own sites for any stage (R-STAGE-AUTH reads it).
absl::Status ProductOwner(RuleContext& ctx) {
  const std::string& id = ctx.record.product_registration().product_id();
  const std::string& author = ctx.header->party_id();
  auto verified = EvidenceProduct(ctx, id);
  if (verified.ok()) {
    const std::string& mah = (*verified)->header().party_id();
    if (mah == author) return absl::OkStatus();
    return Refuse(absl::StrCat(
        "product_registration.product_id: product ", id,
        " is registered by party ", mah,
        " in verified evidence: only its MAH registers its plan, not party ",
        author));
  }
  if (!absl::IsNotFound(verified.status())) return verified.status();
  auto party = FindParty(ctx, author);
  if (absl::IsNotFound(party.status())) {
    return Refuse(absl::StrCat(
        "product_registration.header.party_id: party ", author,
        " has no party registration: only a party registered as MAH "
        "registers a product"));
  }
  if (!party.ok()) return party.status();
  if ((*party)->role() != v1::PARTY_ROLE_MAH) {
    return Refuse(absl::StrCat("product_registration.header.party_id: party ",
                               author, " is registered as ",
                               v1::PartyRole_Name((*party)->role()),
                               ": only the product's MAH registers its plan"));
  }
  return absl::OkStatus();
}

absl::Status StageAuth(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(ProductionFacts f, Production(ctx));
  auto product = FindProduct(ctx, f.product_id);
  if (!product.ok()) return Refuse(product.status().message());
  const v1::Stage* stage = FindStage(**product, f.stage_id);
  if (stage == nullptr) {
    return Refuse(absl::StrCat("stage ", f.stage_id,
                               " is not in the segmentation plan of ",
                               f.product_id));
  }
  const std::string& site = ctx.header->site_id();
  bool approved = false;
  for (const auto& s : stage->approved_site_ids()) approved |= s == site;
  if (!approved) {
    return Refuse(absl::StrCat("site ", site, " is not approved for stage ",
                               f.stage_id, " of ", f.product_id));
  }
  SEG_ASSIGN_OR_RETURN(auto reg, FindSite(ctx, site));
  if (reg == nullptr) {
    return Refuse(absl::StrCat("site ", site, " is not registered"));
  }
  for (const auto& a : reg->authorisations()) {
    if (a.product_id() == f.product_id && a.stage_id() == f.stage_id &&
        InPeriod(a.validity(), ctx.event_time)) {
      return absl::OkStatus();
    }
  }
  return Refuse(absl::StrCat("site ", site, " holds no authorisation for (",
                             f.product_id, ", ", f.stage_id, ") valid at ",
                             absl::FormatTime(ctx.event_time)));
}

absl::Status StageMaterial(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(ProductionFacts f, Production(ctx));
  SEG_ASSIGN_OR_RETURN(const v1::ProductRegistration* p,
                       FindProduct(ctx, f.product_id));
  const v1::Stage* stage = FindStage(*p, f.stage_id);
  if (stage == nullptr) return absl::OkStatus();  // R-STAGE-AUTH refuses
  for (const auto& [lot, material] : f.outputs) {
    if (material != stage->material_id()) {
      return Refuse(absl::StrCat("lot ", lot, " is material ", material,
                                 " but stage ", f.stage_id, " makes ",
                                 stage->material_id()));
    }
  }
  return absl::OkStatus();
}

absl::Status LotUnique(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(ProductionFacts f, Production(ctx));
  for (const auto& out : f.outputs) {
    SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, out.first));
    if (lot != nullptr) {
      return Refuse(absl::StrCat("lot ", out.first, " already exists"));
    }
  }
  return absl::OkStatus();
}

// A CMO for the pilot is a party registered as CMO, or any party producing
// a stage of a product whose MAH is another party, whatever role it gave
// itself (a CMO registered as a lab would otherwise need no experience).
absl::Status CmoExperience(RuleContext& ctx) {
  const std::string& author = ctx.header->party_id();
  auto party = FindParty(ctx, author);
  if (!party.ok()) {
    return Refuse(
        absl::StrCat("experience of party ", author,
                     " cannot be checked: ", party.status().message()));
  }
  SEG_ASSIGN_OR_RETURN(ProductionFacts f, Production(ctx));
  auto product = FindProduct(ctx, f.product_id);
  const bool for_another =
      product.ok() && (*product)->header().party_id() != author;
  if ((*party)->role() != v1::PARTY_ROLE_CMO && !for_another) {
    return absl::OkStatus();
  }
  if (!(*party)->has_first_commercial_production()) {
    return Refuse(absl::StrCat(
        "party_registration.first_commercial_production: none registered "
        "for party ",
        author, " (", v1::PartyRole_Name((*party)->role()),
        "), which produces stage ", f.stage_id, " of ", f.product_id,
        for_another
            ? absl::StrCat(" for its MAH ", (*product)->header().party_id())
            : "",
        ": a CMO needs ", ctx.config.cmo_min_experience_years,
        " years of commercial biologics production"));
  }
  const absl::TimeZone utc = absl::UTCTimeZone();
  absl::CivilSecond first = absl::ToCivilSecond(
      FromProtoTime((*party)->first_commercial_production()), utc);
  absl::CivilSecond needed(first.year() + ctx.config.cmo_min_experience_years,
                           first.month(), first.day(), first.hour(),
                           first.minute(), first.second());
  if (absl::FromCivil(needed, utc) > ctx.event_time) {
    return Refuse(absl::StrCat(
        "party_registration.first_commercial_production: CMO ", author,
        " started commercial biologics production on ",
        absl::FormatCivilTime(absl::CivilDay(first)), ", under the required ",
        ctx.config.cmo_min_experience_years, " years"));
  }
  return absl::OkStatus();
}

absl::Status MahStaff(RuleContext& ctx) {
  SEG_ASSIGN_OR_RETURN(ProductionFacts f, Production(ctx));
  auto product = FindProduct(ctx, f.product_id);
  if (!product.ok()) return absl::OkStatus();  // R-STAGE-AUTH refuses
  const std::string& mah = (*product)->header().party_id();
  if (mah == ctx.header->party_id()) return absl::OkStatus();
  SEG_ASSIGN_OR_RETURN(
      int n, MahStaffOnSite(ctx, ctx.header->site_id(), mah, ctx.event_time));
  if (n < ctx.config.min_mah_staff_on_site) {
    return Refuse(absl::StrCat(n, " MAH staff of ", mah, " on site ",
                               ctx.header->site_id(), " at ",
                               absl::FormatTime(ctx.event_time), "; at least ",
                               ctx.config.min_mah_staff_on_site, " required"));
  }
  return absl::OkStatus();
}

// DOMAIN.md "Two releases": the MAH's QP releases the DP to market, and a
// state lot release carries its certificate. The product of a market
// release is that of the lot's row here (QaRelease names no product): a
// lot this log does not hold, or holds without a product (received), may
// be released only by a party registered as MAH.
absl::Status MarketRelease(RuleContext& ctx) {
  const v1::QaRelease& r = ctx.record.qa_release();
  if (r.kind() == v1::RELEASE_KIND_STATE_LOT_RELEASE && !r.has_certificate()) {
    return Refuse(
        absl::StrCat("qa_release.certificate: the state lot release of lot ",
                     r.lot_id(), " carries its certificate"));
  }
  if (r.kind() != v1::RELEASE_KIND_MAH_MARKET_RELEASE) {
    return absl::OkStatus();
  }
  const std::string& author = ctx.header->party_id();
  SEG_ASSIGN_OR_RETURN(const v1::LotState* lot, RuleLot(ctx, r.lot_id()));
  if (lot != nullptr && !lot->product_id().empty()) {
    auto product = FindProduct(ctx, lot->product_id());
    if (product.ok()) {
      const std::string& mah = (*product)->header().party_id();
      if (mah == author) return absl::OkStatus();
      return Refuse(absl::StrCat(
          "qa_release.kind: only the MAH of ", lot->product_id(), " (", mah,
          ") releases lot ", r.lot_id(), " to market, not party ", author));
    }
  }
  auto party = FindParty(ctx, author);
  if (party.ok() && (*party)->role() == v1::PARTY_ROLE_MAH) {
    return absl::OkStatus();
  }
  if (!party.ok() && !absl::IsNotFound(party.status())) return party.status();
  return Refuse(absl::StrCat(
      "qa_release.kind: party ", author, " is ",
      party.ok()
          ? absl::StrCat("registered as ", v1::PartyRole_Name((*party)->role()))
          : "not registered",
      ": only a MAH releases a lot to market (lot ", r.lot_id(),
      ", whose product is not known here)"));
}

constexpr Rule kRules[] = {
    {"R-KEY-VALIDITY", K::KIND_NOT_SET, PilotParam::kNone,
     "a key signs only within its validity", &KeyValidity},
    {"R-KEY-SIGNER", K::kKeyRegistration, PilotParam::kNone,
     "a key record never ends the key that signs it", &KeyRecordSigner},
    {"R-KEY-SIGNER", K::kKeyRevocation, PilotParam::kNone,
     "a key record never ends the key that signs it", &KeyRecordSigner},
    {"R-OWN-PARTY", K::KIND_NOT_SET, PilotParam::kNone,
     "records are authored by the log's party", &OwnParty},
    {"R-EVENT-TIME", K::KIND_NOT_SET, PilotParam::kNone,
     "an event is recorded once it has happened", &EventTime},
    {"R-OWN-SITE", K::KIND_NOT_SET, PilotParam::kNone,
     "site records belong to the log's site", &OwnSite},
    {"R-PRODUCT-OWNER", K::kProductRegistration, PilotParam::kNone,
     "only the product's MAH registers its plan", &ProductOwner},
    {"R-STAGE-AUTH", K::kLotProduced, PilotParam::kNone,
     "only an authorised site records a stage", &StageAuth},
    {"R-STAGE-AUTH", K::kTransformation, PilotParam::kNone,
     "only an authorised site records a stage", &StageAuth},
    {"R-STAGE-MATERIAL", K::kLotProduced, PilotParam::kNone,
     "a stage makes its planned material", &StageMaterial},
    {"R-STAGE-MATERIAL", K::kTransformation, PilotParam::kNone,
     "a stage makes its planned material", &StageMaterial},
    {"R-LOT-UNIQUE", K::kLotProduced, PilotParam::kNone,
     "a lot id is produced once", &LotUnique},
    {"R-LOT-UNIQUE", K::kTransformation, PilotParam::kNone,
     "a lot id is produced once", &LotUnique},
    {"R-CMO-EXPERIENCE", K::kLotProduced, PilotParam::kCmoExperience,
     "CMO has the required years of production", &CmoExperience},
    {"R-CMO-EXPERIENCE", K::kTransformation, PilotParam::kCmoExperience,
     "CMO has the required years of production", &CmoExperience},
    {"R-MAH-STAFF", K::kLotProduced, PilotParam::kMahStaff,
     "enough MAH staff on site during production", &MahStaff},
    {"R-MAH-STAFF", K::kTransformation, PilotParam::kMahStaff,
     "enough MAH staff on site during production", &MahStaff},
    {"R-LOT-HELD", K::kDispatch, PilotParam::kNone,
     "a lot is dispatched only by its holder", &DispatchHeld},
    {"R-UNITS", K::kDispatch, PilotParam::kNone,
     "quantities in compatible units", &DispatchUnits},
    {"R-DISPATCH-QTY", K::kDispatch, PilotParam::kNone,
     "dispatch only from quantity on hand", &DispatchQuantity},
    {"R-DISPATCH-STATUS", K::kDispatch, PilotParam::kNone,
     "never dispatch a quarantined, held or rejected lot", &DispatchStatus},
    {"R-DISPATCH-RELEASE", K::kDispatch, PilotParam::kNone,
     "dispatch only after site QA release", &DispatchRelease},
    {"R-DISPATCH-DESTINATION", K::kDispatch, PilotParam::kNone,
     "dispatch only to a site authorised for the stage that uses the lot",
     &DispatchDestination},
    {"R-TRANSFER-UNIQUE", K::kDispatch, PilotParam::kNone,
     "a transfer id is dispatched once and names no earlier record",
     &TransferUnique},
    {"R-RECEIPT-EVIDENCE", K::kReceipt, PilotParam::kNone,
     "a receipt names a verified dispatch", &ReceiptEvidence},
    {"R-RECEIPT-ADDRESS", K::kReceipt, PilotParam::kNone,
     "the dispatch is addressed to this site", &ReceiptAddress},
    {"R-RECEIPT-ONCE", K::kReceipt, PilotParam::kNone,
     "a transfer is received once", &ReceiptOnce},
    {"R-LOT-HELD", K::kTransformation, PilotParam::kNone,
     "inputs are held here", &InputsHeld},
    {"R-UNITS", K::kTransformation, PilotParam::kNone,
     "quantities in compatible units", &InputUnits},
    {"R-TRANSFORM-ACCEPTED", K::kTransformation, PilotParam::kNone,
     "consume only accepted input lots", &InputsAccepted},
    {"R-TRANSFORM-QTY", K::kTransformation, PilotParam::kNone,
     "never consume more than held", &InputsQuantity},
    {"R-LOT-HELD", K::kStatusChange, PilotParam::kNone,
     "status changes apply to lots held here", &StatusLotHeld},
    {"R-STATUS-TRANSITION", K::kStatusChange, PilotParam::kNone,
     "status changes follow the lot lifecycle", &StatusTransition},
    {"R-RELEASE-LOT", K::kQaRelease, PilotParam::kNone,
     "site release and incoming acceptance name a lot held here", &ReleaseLot},
    {"R-RELEASE-SIGNATURE", K::kQaRelease, PilotParam::kNone,
     "a release carries a released/rejected signature", &ReleaseSignature},
    {"R-MARKET-RELEASE", K::kQaRelease, PilotParam::kNone,
     "only the product's MAH releases to market; a state lot release carries "
     "its certificate",
     &MarketRelease},
    {"R-UNITS", K::kQcResult, PilotParam::kNone,
     "quantities in compatible units", &SampleUnits},
    {"R-SAMPLE-QTY", K::kQcResult, PilotParam::kNone,
     "samples come from quantity on hand", &SampleQuantity},
    {"R-CORRECTION-REF", K::kCorrection, PilotParam::kNone,
     "a correction names an earlier entry of this log", &CorrectionRef},
    {"R-CORRECTION-RECEIVED", K::kCorrection, PilotParam::kNone,
     "a dispatch received at its destination did occur", &CorrectionReceived},
    {"R-CORRECTION-USED", K::kCorrection, PilotParam::kNone,
     "a production, receipt or transformation whose lots were used since "
     "did occur",
     &CorrectionUsed},
    {"R-CORRECTION-UNDO", K::kCorrection, PilotParam::kNone,
     "a \"did not occur\" correction is not itself said not to have occurred",
     &CorrectionUndo},
};

}  // namespace

absl::Span<const Rule> RuleTable() { return kRules; }

}  // namespace segledger::domain
