// gRPC connections from this node to its peers (NodeConfig.peers) and the
// transports the peer layer's loops use (ledger/peers/delivery.h):
// evidence delivery and held-size questions, follower reads of a peer's
// log, and cosigning requests. One channel per peer, opened lazily by
// gRPC and reconnected with its own backoff; every call has the
// configured deadline, so a peer that is down or slow delays only the
// loop pass that calls it.
//
// Mutual TLS: this node presents peer_tls_cert/peer_tls_key (default its
// server certificate, which the dev certificates make valid for client
// auth) and checks the peer's server certificate against peer_tls_ca
// (default tls_ca). An insecure node talks plaintext to its peers.
//
// Thread-safe (gRPC channels and stubs are).
#ifndef SEGLEDGER_NODE_PEER_LINKS_H_
#define SEGLEDGER_NODE_PEER_LINKS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "ledger/peers/delivery.h"
#include "segledger/v1/admin_service.pb.h"
#include "segledger/v1/ledger_service.grpc.pb.h"
#include "segledger/v1/peer_service.grpc.pb.h"

namespace segledger::node {

// The largest message this node takes from a peer: every answer to the
// calls it makes (a size, a note, a consistency proof, one entry of at
// most 65,535 bytes) is far smaller, so gRPC refuses anything larger
// (RESOURCE_EXHAUSTED) before it is held in memory.
inline constexpr int kMaxPeerMessageBytes = 1 << 20;

struct PeerLink {
  v1::PeerNode config;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::PeerService::Stub> peer;
  std::unique_ptr<v1::ReadService::Stub> read;
  std::unique_ptr<v1::ProofService::Stub> proof;
};

class PeerLinks {
 public:
  // INVALID_ARGUMENT naming the TLS field that cannot be read.
  static absl::StatusOr<std::unique_ptr<PeerLinks>> Create(
      const v1::NodeConfig& config);

  // nullptr for an origin that is not a configured peer.
  PeerLink* ByOrigin(absl::string_view origin) const;
  const std::vector<std::unique_ptr<PeerLink>>& links() const { return links_; }
  absl::Duration timeout() const { return timeout_; }

  // PeerService calls with the deadline; gRPC errors as absl::Status with
  // the peer's origin in the message.
  absl::StatusOr<v1::HeldSizeResponse> HeldSize(const PeerLink& link,
                                                absl::string_view our_origin);
  absl::StatusOr<v1::DeliverEvidenceResponse> Deliver(
      const PeerLink& link, const v1::HandoffEvidence& evidence);
  absl::StatusOr<std::string> Cosign(const PeerLink& link,
                                     const v1::CosignRequest& request);

 private:
  std::vector<std::unique_ptr<PeerLink>> links_;
  absl::Duration timeout_ = absl::Seconds(5);
};

// PeerTransport over PeerLinks (destination = the receiver's origin).
class GrpcPeerTransport final : public peers::PeerTransport {
 public:
  explicit GrpcPeerTransport(PeerLinks* links) : links_(links) {}
  absl::StatusOr<uint64_t> HeldSize(absl::string_view destination,
                                    absl::string_view origin) override;
  absl::Status Deliver(absl::string_view destination,
                       const v1::HandoffEvidence& evidence) override;

 private:
  PeerLinks* links_;
};

// FollowSource reading a peer's own log through its ReadService: the
// latest signed checkpoint, then entries streamed in index order; and
// consistency proofs through its ProofService.
class GrpcFollowSource final : public peers::FollowSource {
 public:
  GrpcFollowSource(const PeerLink* link, absl::Duration timeout)
      : link_(link), timeout_(timeout) {}
  absl::StatusOr<std::string> LatestCheckpoint() override;
  absl::Status Entries(
      uint64_t from, uint64_t to,
      const std::function<bool(v1::SignedEntry&)>& take) override;
  absl::StatusOr<std::optional<std::string>> CheckpointIn(
      uint64_t above, uint64_t at_most) override;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) override;

 private:
  const PeerLink* link_;
  absl::Duration timeout_;
};

// grpc::Status -> absl::Status (the codes share values), prefixing `what`.
absl::Status FromGrpc(const grpc::Status& s, absl::string_view what);

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_PEER_LINKS_H_
