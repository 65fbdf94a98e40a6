// Queries over this node's own store: loads only the entries a lot query
// needs (through the "d/ref/", "d/tref/" and "d/corr/" indexes the
// DomainHook maintains, state.h) into a
// DomainGraph, so a trace on a log of millions of records reads a handful of
// rows. Then run the graph's Timeline/Backward/Forward/MassBalance.
//
// Thread-safe as the KvStore is (reads only).
#ifndef SEGLEDGER_LEDGER_DOMAIN_STORE_QUERIES_H_
#define SEGLEDGER_LEDGER_DOMAIN_STORE_QUERIES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ledger/domain/graph.h"
#include "ledger/store/kv.h"

namespace segledger::domain {

enum class LoadScope {
  kLot,       // the lot's entries, those of its dispatches' and receipts'
              // transfers, and their corrections (timeline, balance)
  kBackward,  // plus, recursively, the inputs of what made it
  kForward,   // plus, recursively, the outputs of what consumed it
};

// Adds to `graph` the entries of log `origin` stored in `kv` (entries family,
// be64(index) -> SignedEntry) that `scope` needs for `lot`. DATA_LOSS when a
// referenced entry is missing or does not parse.
absl::Status LoadLotEntries(store::KvStore& kv, absl::string_view origin,
                            absl::string_view lot, LoadScope scope,
                            DomainGraph* graph);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_STORE_QUERIES_H_
