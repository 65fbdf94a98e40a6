// PeerStore: what a node knows about other logs, in the `peers` column
// family (key scheme in peer_keys.h): verified hand-off evidence, the
// latest verified checkpoint and the learned keys per origin, checkpoints
// it cosigned, equivocation records, and the follower's verified copies.
//
// Every accepted change is one synced KvBatch, written only after the
// evidence verified (handoff.h): refused evidence stores nothing. An
// equivocation (two signed roots for one size, a failed consistency proof)
// is persisted with both notes and the offered view is refused, never
// adopted. Evidence is idempotent by (origin, index): delivering it again
// changes nothing (exactly-once effect), except that a checkpoint it
// carries contradicting the held one is still an equivocation.
//
// PeerEvidence implements the domain's Evidence over this store, so a
// Receipt is accepted only when the dispatch it cites is held verified.
//
// Thread-safe: writers of one origin serialize on its mutex; reads go to
// the kv, except EvidenceOfTransfer's in-memory index (its own mutex).
#ifndef SEGLEDGER_LEDGER_PEERS_PEER_STORE_H_
#define SEGLEDGER_LEDGER_PEERS_PEER_STORE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "ledger/clock.h"
#include "ledger/domain/evidence.h"
#include "ledger/domain/findings.h"
#include "ledger/note.h"
#include "ledger/peers/handoff.h"
#include "ledger/peers/keyring.h"
#include "ledger/store/kv.h"
#include "ledger/thread_pool.h"
#include "ledger/verifier.h"
#include "segledger/v1/peers.pb.h"

namespace segledger::peers {

struct PeerConfig {
  std::string origin;
  std::vector<NoteVerifier> keys;  // trusted from index 0
  // The party this log speaks for: only its registrations (header.party_id)
  // found in this log are indexed for PeerEvidence. Empty: none.
  std::string party = {};
};

// An RFC 9162 consistency proof from the size a follow step ends at to the
// size of the checkpoint held for the origin (PeerStore::Follow), read from
// the origin's own log (ProofService.GetConsistencyProof).
struct HeldConsistencyProof {
  uint64_t held_size = 0;  // the size the proof leads to
  std::vector<Hash> proof;
};

struct AcceptResult {
  Hash leaf_hash{};
  bool duplicate = false;  // already held: nothing written
  uint64_t checkpoint_size = 0;
};

class PeerStore {
 public:
  // `kv`, `clock` (nullptr: system clock) and `pool` (nullptr: verify on
  // the calling thread; used by Follow for entry signatures) must outlive
  // the store.
  explicit PeerStore(store::KvStore& kv, const Clock* clock = nullptr,
                     ThreadPool* pool = nullptr);

  // Registers a peer log and the keys trusted for it (from configuration).
  // INVALID_ARGUMENT for an empty origin or no keys.
  absl::Status AddPeer(PeerConfig config);
  std::vector<std::string> Origins() const;
  // The configured origin of `party` (nullopt: no peer speaks for it).
  std::optional<std::string> OriginOfParty(absl::string_view party) const;

  // The keys trusted now for `origin`: learned keyring, else configured.
  // NOT_FOUND for an origin that is not a configured peer.
  absl::StatusOr<PeerKeyring> Keyring(absl::string_view origin) const;
  // Latest verified checkpoint of `origin` (nullopt: none yet).
  absl::StatusOr<std::optional<HeldCheckpoint>> Latest(
      absl::string_view origin) const;

  // Verifies and stores hand-off evidence (see the file comment). Errors:
  // NOT_FOUND unknown origin; INVALID_ARGUMENT forged or malformed;
  // FAILED_PRECONDITION stale consistency base or "equivocation: ..." (then
  // persisted).
  absl::StatusOr<AcceptResult> AcceptEvidence(
      const v1::HandoffEvidence& evidence);
  // NOT_FOUND when no evidence is held at (origin, index).
  absl::StatusOr<v1::StoredEvidence> GetEvidence(absl::string_view origin,
                                                 uint64_t index) const;
  // Every stored evidence of `origin` in index order.
  absl::StatusOr<std::vector<v1::StoredEvidence>> ListEvidence(
      absl::string_view origin) const;
  // The (origin, index) of every evidence held whose record names
  // `transfer` (a dispatch or receipt of it), ascending. Served from an
  // in-memory index: the first call reads every evidence row once (they
  // are written once, by AcceptEvidence, which then keeps it current), so
  // a lot query finds the other side of its hand-offs without a scan.
  // DATA_LOSS when a stored row does not parse.
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>>
  EvidenceOfTransfer(absl::string_view transfer) const;

  // Cosigns a peer checkpoint (C2SP signed note: adds `me`'s line) after
  // checking it is validly signed by the origin and consistent with what
  // this node verified of that origin: the same root as the checkpoint
  // held (Latest) or cosigned (LastCosigned) at its size, if any, and
  // `proof` (RFC 9162, from `proof_size`) from CosignBase to its size.
  // The checkpoint then becomes the held one when it is larger and the
  // proof was from the held size. FAILED_PRECONDITION for a checkpoint
  // smaller than the last cosigned or the held one (stale: not an
  // equivocation), a proof from another size than CosignBase (stale), or
  // an equivocation (persisted).
  //
  // Why one proof covers both rows: a cosign proven from the held size
  // makes the cosigned checkpoint the held one, and evidence and the
  // follower only move the held checkpoint forward by proof from it, so
  // the last cosigned checkpoint is a proven prefix of the held one. (A
  // store whose last cosigned checkpoint is above the held one - written
  // before 2026-12-07 - is proven from the cosigned one and does not move
  // the held one; until evidence or the follower passes it, the two were
  // never compared.)
  absl::StatusOr<std::string> Cosign(absl::string_view note,
                                     uint64_t proof_size,
                                     absl::Span<const Hash> proof,
                                     const NoteSigner& me);
  // The size a Cosign request's consistency proof must start from: the
  // larger of the last size cosigned for `origin` and the size of the
  // checkpoint held for it (0: neither). GetHeldSize reports it as
  // `cosigned_size`.
  absl::StatusOr<uint64_t> CosignBase(absl::string_view origin) const;
  // The last checkpoint cosigned for `origin` (note with our line).
  absl::StatusOr<std::optional<HeldCheckpoint>> LastCosigned(
      absl::string_view origin) const;
  // Every cosigned note of `origin` in size order.
  absl::StatusOr<std::vector<std::string>> CosignedNotes(
      absl::string_view origin) const;

  // Equivocations recorded for `origin` (empty: all origins).
  absl::StatusOr<std::vector<v1::EquivocationRecord>> Equivocations(
      absl::string_view origin = "") const;

  // ---- follower (follower.cc): verified copies of followed logs.
  // Where the follower of `origin` stands (size 0 when it never ran).
  absl::StatusOr<v1::FollowState> FollowStateOf(absl::string_view origin) const;
  // Verifies the entries [state.size, state.size + entries.size()) of
  // `origin` and `checkpoint` (a signed checkpoint of exactly that size)
  // and stores them in one batch. A checkpoint validly signed but
  // inconsistent with what was verified before is an equivocation
  // (persisted, FAILED_PRECONDITION); a bad entry is INVALID_ARGUMENT and
  // nothing is stored. Returns the new verified size.
  //
  // The checkpoint held for `origin` (Latest) may be larger than the
  // follower's position (evidence and cosign requests move it too). A
  // step that ends below it (at a size above 0) must come with `to_held`,
  // a consistency proof from the step's size to the held size: without
  // one, or with one to another size than held now (the held checkpoint
  // moved on: fetch it again), it is FAILED_PRECONDITION and nothing is
  // stored; a proof that does not verify between the step's and the held
  // root is an equivocation. `to_held` is ignored when the step needs
  // none.
  absl::StatusOr<uint64_t> Follow(
      absl::string_view origin, absl::Span<const v1::SignedEntry> entries,
      absl::string_view checkpoint,
      const std::optional<HeldConsistencyProof>& to_held = std::nullopt);
  // The followed copy at (origin, index) (NOT_FOUND).
  absl::StatusOr<v1::SignedEntry> FollowedEntry(absl::string_view origin,
                                                uint64_t index) const;

  store::KvStore& kv() const { return kv_; }
  // Changes after every write of verified entries (evidence or followed
  // copies: the only writes that change a registration PeerEvidence finds).
  // Never 0.
  uint64_t generation() const { return generation_.load() + 1; }
  const Clock& clock() const { return *clock_; }

 private:
  absl::StatusOr<PeerKeyring> KeyringLocked(absl::string_view origin) const;
  absl::Status Persist(const v1::EquivocationRecord& record,
                       store::KvBatch* batch = nullptr);
  // Evidence of an entry already held writes nothing, but the signed
  // checkpoint it carries is still compared with the held one: an
  // equivocation is persisted and returned (FAILED_PRECONDITION).
  absl::Status CheckResentCheckpoint(const v1::HandoffEvidence& evidence,
                                     const PeerKeyring& keyring,
                                     const std::optional<HeldCheckpoint>& held);
  // x/ rows already put in the batch being built (a product registration
  // and its party's registration may be verified in one Follow batch).
  struct PendingIndex {
    std::map<std::string, uint64_t, std::less<>> index;       // x/ key -> index
    std::map<std::string, v1::PartyRole, std::less<>> roles;  // party -> role
  };
  // Points x/ at the registration in `v` when it speaks for its party (see
  // PeerEvidence) and is newer than the one held for that party.
  absl::Status IndexRegistrations(const VerifiedEntry& v, store::KvBatch& batch,
                                  PendingIndex& pending) const;
  absl::Status AddEvidenceRows(const v1::HandoffEvidence& evidence,
                               const Hash& leaf, const HandoffResult& res,
                               const std::optional<HeldCheckpoint>& held,
                               const PeerKeyring& before,
                               store::KvBatch& batch) const;
  // EvidenceOfTransfer's index: every e/ row read once (Locked: holds
  // transfer_mu_), and the entries added since.
  absl::Status IndexHeldEvidenceLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(transfer_mu_);
  void IndexEvidenceLocked(absl::string_view origin, uint64_t index,
                           const std::vector<std::string>& transfers) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(transfer_mu_);
  void IndexNewEvidence(absl::string_view origin, uint64_t index,
                        const v1::Record& record);

  store::KvStore& kv_;
  const Clock* clock_;
  ThreadPool* pool_;
  std::atomic<uint64_t> generation_{0};
  mutable absl::Mutex config_mu_;
  std::map<std::string, PeerConfig, std::less<>> configs_
      ABSL_GUARDED_BY(config_mu_);
  // Every read-verify-write of one origin's rows holds that origin's
  // mutex, so logs are verified in parallel (the MAH follows each site on
  // its own thread). Rows of different origins never overlap, except an
  // x/product/ id registered by two MAH parties (each from its own origin):
  // the first held stays. An x/ pointer is moved only by the origin
  // configured for the registering party, and only forward (higher index).
  absl::Mutex& OriginMutex(absl::string_view origin) const;
  mutable std::map<std::string, std::unique_ptr<absl::Mutex>, std::less<>>
      origin_mu_ ABSL_GUARDED_BY(config_mu_);
  // transfer id -> (origin, index) of the evidence naming it; built on
  // first use. Taken after an origin's mutex, never before.
  mutable absl::Mutex transfer_mu_;
  mutable bool transfers_indexed_ ABSL_GUARDED_BY(transfer_mu_) = false;
  mutable std::map<std::string, std::set<std::pair<std::string, uint64_t>>,
                   std::less<>>
      evidence_by_transfer_ ABSL_GUARDED_BY(transfer_mu_);
};

// The equivocations as verifier findings (kEquivocation, index = offered
// size) and as domain findings (kEquivocation).
std::vector<Finding> EquivocationFindings(
    absl::Span<const v1::EquivocationRecord> records);
std::vector<domain::DomainFinding> EquivocationDomainFindings(
    absl::Span<const v1::EquivocationRecord> records);

// The domain's Evidence over a PeerStore: a dispatch counts only when its
// evidence (or a followed copy) is stored verified. A registration counts
// only when it speaks for its party: it was verified in the log of the
// origin configured for header.party_id, and for a product that party is
// registered (the same way) with role MAH. Otherwise NOT_FOUND.
// Thread-safe.
class PeerEvidence : public domain::Evidence {
 public:
  explicit PeerEvidence(const PeerStore& peers) : peers_(peers) {}
  absl::StatusOr<domain::VerifiedDispatch> FindDispatch(
      absl::string_view origin, uint64_t index, const Hash& leaf_hash) override;
  // A receipt held as hand-off evidence (EvidenceOfTransfer; followed
  // copies are not indexed by transfer) that names `dispatch`.
  absl::StatusOr<v1::EntryRef> FindReceipt(
      const v1::EntryRef& dispatch, absl::string_view transfer_id) override;
  absl::StatusOr<v1::ProductRegistration> FindProduct(
      absl::string_view product_id) override;
  absl::StatusOr<v1::PartyRegistration> FindParty(
      absl::string_view party_id) override;
  // The store's generation: the DomainHook reuses what it found under it.
  uint64_t Generation() override { return peers_.generation(); }

 private:
  // The verified entry body at (origin, index), from evidence or follower.
  absl::StatusOr<std::pair<v1::SignedEntry, v1::EntryBody>> Load(
      absl::string_view origin, uint64_t index) const;
  // The verified body x/ `key` points at, when it speaks for its party
  // (see above); NOT_FOUND otherwise.
  absl::StatusOr<v1::EntryBody> RegistrationBody(absl::string_view key) const;
  friend class PeerStore;  // IndexRegistrations compares with what is held
  const PeerStore& peers_;
};

}  // namespace segledger::peers

#endif  // SEGLEDGER_LEDGER_PEERS_PEER_STORE_H_
