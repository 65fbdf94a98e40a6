// Record-specific cross-field checks (the generic walk is in validate.cc).
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/quantity.h"
#include "ledger/domain/validate.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

absl::Status Err(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// Each id in `ids` (via `get`) must be distinct; path names the duplicate.
template <typename Range, typename Get>
absl::Status Unique(const Range& items, Get get, absl::string_view path) {
  std::set<std::string> seen;
  int i = 0;
  for (const auto& item : items) {
    const std::string& key = get(item);
    if (!seen.insert(key).second) {
      return Err(absl::StrCat(path, "[", i, "]"),
                 absl::StrCat("duplicate '", key, "'"));
    }
    ++i;
  }
  return absl::OkStatus();
}

absl::Status CheckParty(const v1::PartyRegistration& p) {
  if (!p.unified_social_credit_code().empty()) {
    absl::Status st =
        ValidateUnifiedSocialCreditCode(p.unified_social_credit_code());
    if (!st.ok()) {
      return Err("party_registration.unified_social_credit_code", st.message());
    }
  }
  if (p.role() == v1::PARTY_ROLE_CMO && !p.has_first_commercial_production()) {
    return Err("party_registration.first_commercial_production",
               "missing for a CMO (DOMAIN.md pilot: experience)");
  }
  return absl::OkStatus();
}

absl::Status CheckProduct(const v1::ProductRegistration& p) {
  SEG_RETURN_IF_ERROR(Unique(
      p.stages(),
      [](const v1::Stage& s) -> const std::string& { return s.stage_id(); },
      "product_registration.stages"));
  for (int i = 0; i < p.stages_size(); ++i) {
    const v1::Stage& s = p.stages(i);
    if (!s.yield_min_percent().empty() && !s.yield_max_percent().empty()) {
      auto lo = Decimal::Parse(s.yield_min_percent());
      auto hi = Decimal::Parse(s.yield_max_percent());
      if (lo.ok() && hi.ok() && *hi < *lo) {
        return Err(absl::StrCat("product_registration.stages[", i,
                                "].yield_max_percent"),
                   "below yield_min_percent");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDispatch(const v1::Dispatch& d) {
  SEG_RETURN_IF_ERROR(Unique(
      d.containers(),
      [](const v1::ShipmentContainer& c) -> const std::string& {
        return c.container_id();
      },
      "dispatch.containers"));
  if (d.to_site_id() == d.header().site_id()) {
    return Err("dispatch.to_site_id", "same as the dispatching site");
  }
  return absl::OkStatus();
}

absl::Status CheckReceipt(const v1::Receipt& r) {
  return Unique(
      r.containers(),
      [](const v1::ContainerCheck& c) -> const std::string& {
        return c.container_id();
      },
      "receipt.containers");
}

absl::Status CheckTransformation(const v1::Transformation& t) {
  SEG_RETURN_IF_ERROR(Unique(
      t.outputs(),
      [](const v1::TransformationOutput& o) -> const std::string& {
        return o.lot_id();
      },
      "transformation.outputs"));
  SEG_RETURN_IF_ERROR(Unique(
      t.inputs(),
      [](const v1::TransformationInput& o) -> const std::string& {
        return o.lot_id();
      },
      "transformation.inputs"));
  std::set<std::string> outs;
  for (const auto& o : t.outputs()) outs.insert(o.lot_id());
  for (int i = 0; i < t.inputs_size(); ++i) {
    if (outs.count(t.inputs(i).lot_id())) {
      return Err(absl::StrCat("transformation.inputs[", i, "].lot_id"),
                 "also an output");
    }
  }
  return absl::OkStatus();
}

// DOMAIN.md: a recall names its trigger lots, reason and level. An
// acknowledgement of a recall (acknowledges set) refers to one that did.
absl::Status CheckRecall(const v1::Recall& r) {
  if (r.has_acknowledges()) return absl::OkStatus();
  if (r.trigger_lot_ids_size() == 0) {
    return Err("recall.trigger_lot_ids", "empty");
  }
  if (r.reason().empty()) return Err("recall.reason", "empty");
  if (r.level() == v1::RECALL_LEVEL_UNSPECIFIED) {
    return Err("recall.level", "unspecified");
  }
  return absl::OkStatus();
}

absl::Status CheckTraceCodes(const v1::TraceCodeLink& t) {
  if (t.ranges_size() == 0 && t.aggregations_size() == 0) {
    return Err("trace_code_link", "needs ranges or aggregations");
  }
  for (int i = 0; i < t.ranges_size(); ++i) {
    std::string p = absl::StrCat("trace_code_link.ranges[", i, "]");
    for (const auto* code : {&t.ranges(i).first(), &t.ranges(i).last()}) {
      absl::Status st = ValidateTraceCode(*code);
      if (!st.ok()) return Err(p, st.message());
    }
    if (t.ranges(i).last() < t.ranges(i).first()) {
      return Err(p + ".last", "before first");
    }
  }
  for (int i = 0; i < t.aggregations_size(); ++i) {
    const auto& a = t.aggregations(i);
    std::string p = absl::StrCat("trace_code_link.aggregations[", i, "]");
    absl::Status st = ValidateTraceCode(a.parent_code());
    if (!st.ok()) return Err(p + ".parent_code", st.message());
    for (int j = 0; j < a.child_codes_size(); ++j) {
      st = ValidateTraceCode(a.child_codes(j));
      if (!st.ok()) {
        return Err(absl::StrCat(p, ".child_codes[", j, "]"), st.message());
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSiteScoped(const v1::Record& r, const v1::RecordHeader& h) {
  // Records about things happening at a site must name it.
  switch (r.kind_case()) {
    case v1::Record::kSiteRegistration:
    case v1::Record::kLotProduced:
    case v1::Record::kTransformation:
    case v1::Record::kDispatch:
    case v1::Record::kReceipt:
    case v1::Record::kStatusChange:
    case v1::Record::kQaRelease:
    case v1::Record::kPersonnelAssignment:
      if (h.site_id().empty()) {
        return Err(absl::StrCat(RecordKindName(r), ".header.site_id"), "empty");
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::Status ValidateRecord(const v1::Record& r) {
  if (r.kind_case() == v1::Record::KIND_NOT_SET) {
    return absl::InvalidArgumentError("record: empty");
  }
  const v1::RecordHeader* h = HeaderOf(r);
  if (h == nullptr) return absl::OkStatus();  // key records: core
  const auto* f = v1::Record::descriptor()->FindFieldByNumber(r.kind_case());
  SEG_RETURN_IF_ERROR(
      ValidateMessage(r.GetReflection()->GetMessage(r, f), f->name()));
  SEG_RETURN_IF_ERROR(CheckSiteScoped(r, *h));
  switch (r.kind_case()) {
    case v1::Record::kPartyRegistration:
      return CheckParty(r.party_registration());
    case v1::Record::kProductRegistration:
      return CheckProduct(r.product_registration());
    case v1::Record::kDispatch:
      return CheckDispatch(r.dispatch());
    case v1::Record::kReceipt:
      return CheckReceipt(r.receipt());
    case v1::Record::kTransformation:
      return CheckTransformation(r.transformation());
    case v1::Record::kTraceCodeLink:
      return CheckTraceCodes(r.trace_code_link());
    case v1::Record::kRecall:
      return CheckRecall(r.recall());
    default:
      return absl::OkStatus();
  }
}

}  // namespace segledger::domain
