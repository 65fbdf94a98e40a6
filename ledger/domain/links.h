// Which lots and transfers a record touches (for the lot -> entry index and
// the in-memory graph), and the EPCIS/CBV names of a record. Pure;
// thread-safe.
#ifndef SEGLEDGER_LEDGER_DOMAIN_LINKS_H_
#define SEGLEDGER_LEDGER_DOMAIN_LINKS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::domain {

template <typename S>
struct BasicRecordLinks {
  std::vector<S> lots;       // distinct, in record order
  std::vector<S> transfers;  // distinct
};
using RecordLinks = BasicRecordLinks<std::string>;
RecordLinks LinksOf(const v1::Record& record);
// The same, as views into `record` (which must outlive them).
BasicRecordLinks<absl::string_view> LinkViewsOf(const v1::Record& record);

// CBV 2.0 bizStep of a record ("shipping", "receiving", ...); "" if none.
absl::string_view CbvBizStep(const v1::Record& record);
// CBV 2.0 disposition name ("in_transit", ...); "" for UNSPECIFIED.
absl::string_view CbvDisposition(v1::Disposition d);
// The disposition a record gives its objects (UNSPECIFIED when none).
v1::Disposition DispositionOf(const v1::Record& record);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_LINKS_H_
