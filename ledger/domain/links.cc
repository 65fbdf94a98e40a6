#include "ledger/domain/links.h"

#include <algorithm>

namespace segledger::domain {
namespace {

void Add(std::vector<absl::string_view>& v, absl::string_view s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

RecordLinks LinksOf(const v1::Record& r) {
  BasicRecordLinks<absl::string_view> v = LinkViewsOf(r);
  return RecordLinks{{v.lots.begin(), v.lots.end()},
                     {v.transfers.begin(), v.transfers.end()}};
}

BasicRecordLinks<absl::string_view> LinkViewsOf(const v1::Record& r) {
  BasicRecordLinks<absl::string_view> l;
  switch (r.kind_case()) {
    case v1::Record::kLotProduced:
      Add(l.lots, r.lot_produced().lot_id());
      break;
    case v1::Record::kTransformation:
      for (const auto& i : r.transformation().inputs()) Add(l.lots, i.lot_id());
      for (const auto& o : r.transformation().outputs())
        Add(l.lots, o.lot_id());
      break;
    case v1::Record::kQcResult:
      Add(l.lots, r.qc_result().lot_id());
      break;
    case v1::Record::kQaRelease:
      Add(l.lots, r.qa_release().lot_id());
      break;
    case v1::Record::kStatusChange:
      Add(l.lots, r.status_change().lot_id());
      break;
    case v1::Record::kTraceCodeLink:
      Add(l.lots, r.trace_code_link().lot_id());
      break;
    case v1::Record::kDispatch:
      for (const auto& c : r.dispatch().containers()) Add(l.lots, c.lot_id());
      Add(l.transfers, r.dispatch().transfer_id());
      break;
    case v1::Record::kReceipt:
      for (const auto& c : r.receipt().containers()) Add(l.lots, c.lot_id());
      Add(l.transfers, r.receipt().transfer_id());
      break;
    case v1::Record::kTransportConditionReport:
      Add(l.transfers, r.transport_condition_report().transfer_id());
      break;
    case v1::Record::kDeviation:
      for (const auto& x : r.deviation().affected_lot_ids()) Add(l.lots, x);
      for (const auto& x : r.deviation().affected_transfer_ids()) {
        Add(l.transfers, x);
      }
      break;
    case v1::Record::kRecall:
      for (const auto& x : r.recall().trigger_lot_ids()) Add(l.lots, x);
      for (const auto& x : r.recall().scope_lot_ids()) Add(l.lots, x);
      for (const auto& x : r.recall().scope_transfer_ids()) Add(l.transfers, x);
      break;
    default:
      break;
  }
  return l;
}

absl::string_view CbvBizStep(const v1::Record& r) {
  switch (r.kind_case()) {
    case v1::Record::kLotProduced:
      return "commissioning";
    case v1::Record::kTransformation:
      return "creating_class_instance";
    case v1::Record::kQcResult:
      return "inspecting";
    case v1::Record::kQaRelease:
      return r.qa_release().kind() == v1::RELEASE_KIND_INCOMING_ACCEPTANCE
                 ? "accepting"
                 : "inspecting";
    case v1::Record::kDispatch:
      return "shipping";
    case v1::Record::kReceipt:
      return "receiving";
    case v1::Record::kTransportConditionReport:
      return "sensor_reporting";
    case v1::Record::kStatusChange:
      return r.status_change().action() == v1::STATUS_ACTION_DESTROY
                 ? "destroying"
                 : "holding";
    case v1::Record::kRecall:
      return "holding";
    default:
      return "";
  }
}

absl::string_view CbvDisposition(v1::Disposition d) {
  static constexpr absl::string_view kNames[] = {"",
                                                 "active",
                                                 "in_transit",
                                                 "conformant",
                                                 "non_conformant",
                                                 "container_open",
                                                 "mismatch_quantity",
                                                 "recalled",
                                                 "destroyed",
                                                 "returned",
                                                 "non_sellable_other"};
  int i = static_cast<int>(d);
  if (i < 0 || i >= static_cast<int>(std::size(kNames))) return "";
  return kNames[i];
}

v1::Disposition DispositionOf(const v1::Record& r) {
  switch (r.kind_case()) {
    case v1::Record::kLotProduced:
    case v1::Record::kTransformation:
      return v1::DISPOSITION_ACTIVE;
    case v1::Record::kDispatch:
      return v1::DISPOSITION_IN_TRANSIT;
    case v1::Record::kQcResult:
      return r.qc_result().outcome() == v1::QC_OUTCOME_OUT_OF_SPECIFICATION
                 ? v1::DISPOSITION_NON_CONFORMANT
                 : v1::DISPOSITION_CONFORMANT;
    case v1::Record::kReceipt:
      switch (r.receipt().decision()) {
        case v1::RECEIPT_DECISION_ACCEPTED:
          return v1::DISPOSITION_CONFORMANT;
        case v1::RECEIPT_DECISION_REJECTED:
          return v1::DISPOSITION_NON_CONFORMANT;
        default:
          return v1::DISPOSITION_NON_SELLABLE_OTHER;
      }
    case v1::Record::kStatusChange:
      switch (r.status_change().action()) {
        case v1::STATUS_ACTION_DESTROY:
          return v1::DISPOSITION_DESTROYED;
        case v1::STATUS_ACTION_RETURN:
          return v1::DISPOSITION_RETURNED;
        case v1::STATUS_ACTION_RELEASE_FROM_HOLD:
          return v1::DISPOSITION_ACTIVE;
        default:
          return v1::DISPOSITION_NON_SELLABLE_OTHER;
      }
    case v1::Record::kRecall:
      return v1::DISPOSITION_RECALLED;
    default:
      return v1::DISPOSITION_UNSPECIFIED;
  }
}

}  // namespace segledger::domain
