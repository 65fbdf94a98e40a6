#include "node/peer_service.h"

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/peers/handoff.h"
#include "ledger/status_macros.h"
#include "node/json_log.h"
#include "node/rpc_util.h"

namespace segledger::node {
namespace {

// An origin the request names must be a configured peer.
absl::Status KnownPeer(const PeerLayer& layer, absl::string_view field,
                       absl::string_view origin) {
  if (origin.empty())
    return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  if (layer.PeerByOrigin(origin) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(field, ": \"", origin, "\" is not a configured peer"));
  }
  return absl::OkStatus();
}

// Who may hand this node another log's evidence or checkpoint: the node
// of that log's party (a peer certificate of the party configured for
// `origin`), or an operator of this node (re-delivery by hand; insecure
// mode). Another party's node may not relay it: the evidence is genuine,
// but what a party sends to whom is the party's business, and a relay
// could fill this node with entries never meant for it.
absl::Status MayActFor(const PeerLayer& layer, const Authorizer& authz,
                       const Caller& caller, absl::string_view field,
                       absl::string_view origin) {
  if (caller.role == Role::kOperator && caller.party == authz.local_party()) {
    return absl::OkStatus();
  }
  const v1::PeerNode* peer = layer.PeerByOrigin(origin);
  if (peer != nullptr && caller.role == Role::kPeer &&
      caller.party == peer->party()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": ", caller.subject, " (party ", caller.party,
                   ") may not act for ", origin, ", which belongs to party ",
                   peer != nullptr ? peer->party() : "unknown"));
}

// Proofs longer than any tree of 2^64 leaves has (2 * 64 hashes for a
// consistency proof) are refused before anything is verified or stored.
constexpr int kMaxProofHashes = 128;

absl::Status CheckProofSizes(const v1::HandoffEvidence& ev) {
  auto check = [](const auto& proof, absl::string_view field) {
    if (proof.size() > kMaxProofHashes) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", proof.size(), " hashes, at most ", kMaxProofHashes));
    }
    return absl::OkStatus();
  };
  SEG_RETURN_IF_ERROR(
      check(ev.consistency_proof(), "evidence.consistency_proof"));
  SEG_RETURN_IF_ERROR(
      check(ev.entry().inclusion_proof(), "evidence.entry.inclusion_proof"));
  for (int i = 0; i < ev.key_records_size(); ++i) {
    SEG_RETURN_IF_ERROR(
        check(ev.key_records(i).inclusion_proof(),
              absl::StrCat("evidence.key_records[", i, "].inclusion_proof")));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* PeerServiceImpl::GetHeldSize(
    grpc::CallbackServerContext* context, const v1::HeldSizeRequest* request,
    v1::HeldSizeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kPeerHeldSize).status();
  if (s.ok()) s = KnownPeer(*layer_, "origin", request->origin());
  if (!s.ok()) return Done(ctx_, reactor, s);
  peers::PeerStore& ps = *layer_->peer_store();
  absl::StatusOr<std::optional<peers::HeldCheckpoint>> held =
      ps.Latest(request->origin());
  if (!held.ok()) return Done(ctx_, reactor, held.status());
  if (held->has_value()) response->set_size((*held)->size);
  // The base a Cosign request's proof must start from: the larger of the
  // last size cosigned and the held size (PeerStore::CosignBase).
  absl::StatusOr<uint64_t> base = ps.CosignBase(request->origin());
  if (!base.ok()) return Done(ctx_, reactor, base.status());
  response->set_cosigned_size(*base);
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeerServiceImpl::DeliverEvidence(
    grpc::CallbackServerContext* context,
    const v1::DeliverEvidenceRequest* request,
    v1::DeliverEvidenceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = ctx_->Admit(*context, Rpc::kDeliverEvidence);
  absl::Status s = caller.status();
  if (s.ok() && !request->has_evidence()) {
    s = absl::InvalidArgumentError("evidence: missing");
  }
  if (s.ok()) {
    s = KnownPeer(*layer_, "evidence.origin", request->evidence().origin());
  }
  if (s.ok()) {
    s = MayActFor(*layer_, *ctx_->authz, *caller, "evidence.origin",
                  request->evidence().origin());
  }
  if (s.ok()) s = CheckProofSizes(request->evidence());
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<peers::AcceptResult> r =
      layer_->peer_store()->AcceptEvidence(request->evidence());
  if (!r.ok()) {
    layer_->NoteIfEquivocation(r.status(), "evidence");
    LogJson("warn", "evidence refused",
            {{"origin", request->evidence().origin()},
             {"index", absl::StrCat(request->evidence().entry().index())},
             {"error", r.status().ToString()}});
    return Done(ctx_, reactor, r.status());
  }
  response->set_duplicate(r->duplicate);
  response->set_held_size(r->checkpoint_size);
  response->set_leaf_hash(std::string(HashBytes(r->leaf_hash)));
  if (!r->duplicate) {
    LogJson("info", "evidence stored",
            {{"origin", request->evidence().origin()},
             {"index", absl::StrCat(request->evidence().entry().index())}});
  }
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeerServiceImpl::Cosign(
    grpc::CallbackServerContext* context, const v1::CosignRequest* request,
    v1::CosignResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = ctx_->Admit(*context, Rpc::kCosign);
  if (!caller.ok()) return Done(ctx_, reactor, caller.status());
  absl::Status s;
  absl::StatusOr<Checkpoint> cp = PeekCheckpoint(request->checkpoint());
  if (!cp.ok()) {
    return Done(ctx_, reactor,
                absl::InvalidArgumentError(
                    absl::StrCat("checkpoint: ", cp.status().message())));
  }
  s = KnownPeer(*layer_, "checkpoint origin", cp->origin);
  if (s.ok()) {
    s = MayActFor(*layer_, *ctx_->authz, *caller, "checkpoint origin",
                  cp->origin);
  }
  if (s.ok() && request->proof_size() > kMaxProofHashes) {
    s = absl::InvalidArgumentError(
        absl::StrCat("proof: ", request->proof_size(), " hashes, at most ",
                     kMaxProofHashes));
  }
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<std::vector<Hash>> proof =
      peers::HashesFromBytes(request->proof(), "proof");
  if (!proof.ok()) return Done(ctx_, reactor, proof.status());
  std::shared_ptr<const NoteSigner> me = ctx_->store->CurrentSigner();
  if (me == nullptr) {
    return Done(ctx_, reactor,
                absl::FailedPreconditionError("no current signing key"));
  }
  absl::StatusOr<std::string> cosigned = layer_->peer_store()->Cosign(
      request->checkpoint(), request->base_size(), *proof, *me);
  if (!cosigned.ok()) {
    layer_->NoteIfEquivocation(cosigned.status(), "cosign");
    return Done(ctx_, reactor, cosigned.status());
  }
  response->set_cosigned(*std::move(cosigned));
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeerServiceImpl::GetPeerData(
    grpc::CallbackServerContext* context, const v1::PeerDataRequest* request,
    v1::PeerDataResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kPeerData).status();
  if (s.ok()) s = layer_->FillPeerData(request->origin(), response);
  return Done(ctx_, reactor, s);
}

}  // namespace segledger::node
