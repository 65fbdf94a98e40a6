#include "ledger/domain/findings.h"

namespace segledger::domain {

absl::string_view DomainFindingKindName(DomainFindingKind k) {
  static constexpr absl::string_view kNames[kNumDomainFindingKinds] = {
      "dispatch_not_received",
      "receipt_without_dispatch",
      "quantity_mismatch",
      "container_mismatch",
      "seal_mismatch",
      "received_at_wrong_site",
      "unhandled_temperature_excursion",
      "unauthorised_site",
      "dispatch_before_release",
      "used_before_acceptance",
      "input_past_hold_time",
      "release_with_open_deviation",
      "insufficient_mah_staff",
      "cmo_experience",
      "broken_chain",
      "bad_signature",
      "key_outside_validity",
      "equivocation",
      "late_record",
      "uncounted_quantity",
  };
  return kNames[static_cast<int>(k)];
}

FindingSeverity DefaultSeverityOf(DomainFindingKind k) {
  switch (k) {
    case DomainFindingKind::kReceiptWithoutDispatch:
    case DomainFindingKind::kUnauthorisedSite:
    case DomainFindingKind::kReleaseWithOpenDeviation:
    case DomainFindingKind::kBrokenChain:
    case DomainFindingKind::kBadSignature:
    case DomainFindingKind::kEquivocation:
      return FindingSeverity::kCritical;
    case DomainFindingKind::kLateRecord:
      return FindingSeverity::kWarning;
    default:
      return FindingSeverity::kMajor;
  }
}

absl::string_view FindingSeverityName(FindingSeverity s) {
  switch (s) {
    case FindingSeverity::kInfo:
      return "info";
    case FindingSeverity::kWarning:
      return "warning";
    case FindingSeverity::kMajor:
      return "major";
    case FindingSeverity::kCritical:
      return "critical";
  }
  return "unknown";
}

std::vector<DomainFinding> FindingsAbout(
    std::vector<DomainFinding> findings,
    const std::set<std::string>& complete) {
  std::vector<DomainFinding> out;
  for (DomainFinding& f : findings) {
    bool about = f.records.empty();
    for (const v1::EntryRef& r : f.records) about |= complete.count(r.origin());
    if (about) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace segledger::domain
