// The MAH view across logs (DESIGN.md "Cross-site hand-off", last
// paragraph): the follower's verified copies (PeerStore::Follow, in
// follower.cc) and verified hand-off evidence loaded into one DomainGraph,
// so the domain's queries and findings run across every verified log, with
// the equivocations recorded by this node added to the findings.
//
// Thread-safe as the stores are (reads only).
#ifndef SEGLEDGER_LEDGER_PEERS_FOLLOWER_H_
#define SEGLEDGER_LEDGER_PEERS_FOLLOWER_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/domain/findings.h"
#include "ledger/domain/graph.h"
#include "ledger/peers/peer_store.h"
#include "ledger/store/log_store.h"

namespace segledger::peers {

// Adds every followed entry and every verified evidence entry held in
// `peers` to `graph` (an entry present in both is added once). DATA_LOSS
// when a stored row does not parse.
absl::Status LoadVerifiedLogs(const PeerStore& peers,
                              domain::DomainGraph* graph);

// Adds to `graph` the verified hand-off evidence `peers` holds that names
// one of `transfers` (PeerStore::EvidenceOfTransfer): the other side of
// those shipments - the receiver's receipt of a dispatch, the sender's
// dispatch of a receipt - without loading whole logs. For a node that
// follows no log, whose lot queries load only its own entries
// (store_queries.h). DATA_LOSS when an indexed row is missing or does not
// parse.
absl::Status LoadTransferEvidence(const PeerStore& peers,
                                  const std::set<std::string>& transfers,
                                  domain::DomainGraph* graph);

// Adds every entry of this node's own log.
absl::Status LoadOwnLog(const store::LogStore& log, domain::DomainGraph* graph);

// Graph findings over `graph` plus the equivocations `peers` recorded.
absl::StatusOr<std::vector<domain::DomainFinding>> CrossLogFindings(
    const PeerStore& peers, const domain::DomainGraph& graph,
    const domain::FindingOptions& options);

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_FOLLOWER_H_
