// EPCIS 2.0 JSON-LD export (GS1 EPCIS 2.0, CBV 2.0) of the events of a
// verified bundle: LotProduced -> ObjectEvent ADD (commissioning),
// Transformation -> TransformationEvent, TraceCodeLink aggregations ->
// AggregationEvent ADD (packing), Dispatch/Receipt -> ObjectEvent with
// source and destination lists, every other record about lots ->
// ObjectEvent OBSERVE. Quantities carry UN/CEFACT Rec 20 codes as `uom`;
// readPoint and bizLocation are the recording site. Every event carries
// its ledger entry as the extension "sl:entry" {origin, index, leafHash}
// (namespace declared in @context) and eventID "ni:///sha-256;<leaf hash>".
// Identifiers: urn:segledger:{lot,site,party,code,transformation}:<id>.
// Pure; thread-compatible.
#ifndef SEGLEDGER_TOOLS_EPCIS_H_
#define SEGLEDGER_TOOLS_EPCIS_H_

#include <string>

#include "absl/time/time.h"
#include "ledger/domain/graph.h"
#include "tools/bundle_verify.h"

namespace segledger::tools {

inline constexpr char kSegledgerEpcisNamespace[] =
    "https://segledger.example/ns/epcis/v1#";

// One EPCISDocument (JSON text) with the events of every log of
// `contents`, in log then index order; `created` is its creationDate.
std::string EpcisDocument(const BundleContents& contents,
                          const domain::DomainGraph& graph, absl::Time created);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_EPCIS_H_
