// The node's cross-site hand-off layer (DESIGN.md "Cross-site hand-off",
// docs/protocol.md), wiring ledger/peers into segledgerd:
//
//  - the domain's Evidence is PeerEvidence over the PeerStore (in the
//    log's own RocksDB, `peers` family), so a Receipt is accepted only
//    when the dispatch it cites is held verified;
//  - the log's AppendHook is OutboxHook(DomainHook): a Dispatch or Receipt
//    queues its delivery in the entry's own synced batch;
//  - three background loops: delivery (on every log growth and every
//    deliver_interval: DeliverDue over gRPC, per-row exponential backoff),
//    the follower (every follow_interval: FollowOnce, one thread per peer
//    with follow set), and cosigning (every cosign_interval: each peer is asked
//    to cosign our latest checkpoint with a consistency proof from the
//    last size it cosigned; the returned note is checked and kept);
//  - key records are delivered to every peer (KeyRecordPass);
//  - equivocations from any source are persisted by the PeerStore and
//    logged here as errors.
//
// With no peers configured the node is stand-alone: no outbox (a Dispatch
// is recorded without delivery), no loops.
//
// Thread-safe: the loops run on their own threads; the accessors may be
// called from gRPC handlers.
#ifndef SEGLEDGER_NODE_PEER_LAYER_H_
#define SEGLEDGER_NODE_PEER_LAYER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "ledger/domain/evidence.h"
#include "ledger/peers/outbox.h"
#include "ledger/peers/peer_store.h"
#include "ledger/store/log_store.h"
#include "ledger/thread_pool.h"
#include "node/peer_links.h"
#include "segledger/v1/admin_service.pb.h"

namespace segledger::node {

// Evidence that answers NOT_FOUND until a target is set (the PeerStore
// exists only once the log's kv is open, after the hook was built).
class LateEvidence final : public domain::Evidence {
 public:
  void Set(domain::Evidence* target) { target_.store(target); }
  absl::StatusOr<domain::VerifiedDispatch> FindDispatch(
      absl::string_view origin, uint64_t index, const Hash& leaf) override;
  absl::StatusOr<v1::EntryRef> FindReceipt(
      const v1::EntryRef& dispatch, absl::string_view transfer_id) override;
  absl::StatusOr<v1::ProductRegistration> FindProduct(
      absl::string_view product_id) override;
  absl::StatusOr<v1::PartyRegistration> FindParty(
      absl::string_view party_id) override;

 private:
  std::atomic<domain::Evidence*> target_{nullptr};
};

class PeerLayer {
 public:
  // Checks config.peers: INVALID_ARGUMENT naming peers[i].<field> for an
  // empty or duplicate origin or party, the node's own origin, an empty
  // address, or a missing or malformed verifier key.
  static absl::StatusOr<std::unique_ptr<PeerLayer>> Create(
      const v1::NodeConfig& config);
  ~PeerLayer();  // Stop()

  bool enabled() const { return !config_.peers().empty(); }
  // For the DomainHook's DomainConfig.evidence.
  domain::Evidence* evidence() { return &evidence_; }
  // The hook to open the log with: OutboxHook around `inner` when peers
  // are configured, else `inner`.
  store::AppendHook* Wrap(store::AppendHook* inner);

  // After the log opened: the PeerStore on its kv, the outbox, and the
  // loops. `store` must outlive the layer or Stop().
  absl::Status Attach(store::LogStore* store);
  // Stops the loops (idempotent).
  void Stop();

  peers::PeerStore* peer_store() { return peers_.get(); }
  store::LogStore* log() { return log_; }
  const v1::NodeConfig& config() const { return config_; }
  // The configured peer with this origin (nullptr: none).
  const v1::PeerNode* PeerByOrigin(absl::string_view origin) const;
  // True when some peer is followed (the node answers multi-log queries).
  bool follows_any() const;

  // Per-peer state for AdminService.GetStatus.
  absl::Status FillStatus(v1::StatusResponse* out) const;
  // What this node holds about other logs (PeerService.GetPeerData).
  absl::Status FillPeerData(absl::string_view origin,
                            v1::PeerDataResponse* out) const;
  // Our checkpoints as cosigned by peers, in (peer, size) order.
  absl::StatusOr<std::vector<std::string>> OurCosignedNotes() const;

  // Logs an equivocation (and counts it) when `s` reports one.
  void NoteIfEquivocation(const absl::Status& s, absl::string_view source);

  // One pass of each loop (the loops call these; tests may too).
  void DeliverPass();
  // Key records (registration, rotation, revocation) go to every peer as
  // evidence, so a peer that gets no hand-off from us (a cosigner) learns
  // a rotation before it must check a checkpoint signed by the new key.
  // Delivered markers: "K/<peer origin>\0<be64 index>" in the peers family.
  void KeyRecordPass();
  void FollowPass();
  void CosignPass();

 private:
  explicit PeerLayer(v1::NodeConfig config) : config_(std::move(config)) {}
  void Loop(absl::Duration period, bool on_growth,
            const std::function<void()>& pass);
  void FollowOne(const PeerLink& link);
  void SetError(const std::string& origin, const absl::Status& s);
  absl::Status CosignWith(const PeerLink& link, const std::string& note,
                          uint64_t size);

  v1::NodeConfig config_;
  LateEvidence evidence_;
  std::unique_ptr<peers::OutboxHook> outbox_hook_;
  std::unique_ptr<PeerLinks> links_;
  store::LogStore* log_ = nullptr;
  std::unique_ptr<ThreadPool> verify_pool_;
  std::unique_ptr<peers::PeerStore> peers_;
  std::unique_ptr<peers::PeerEvidence> peer_evidence_;
  std::unique_ptr<peers::Outbox> outbox_;
  std::unique_ptr<GrpcPeerTransport> transport_;
  struct KeyRetry {
    absl::Time next = absl::InfinitePast();
    absl::Duration backoff = absl::ZeroDuration();
    size_t delivered = 0;  // leading key-record rows the peer holds
  };
  std::map<std::string, KeyRetry> key_retry_;  // delivery thread only
  absl::Notification stop_;
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_PEER_LAYER_H_
