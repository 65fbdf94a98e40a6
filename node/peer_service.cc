#include "node/peer_service.h"

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/peers/handoff.h"
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
  absl::StatusOr<std::optional<peers::HeldCheckpoint>> cos =
      ps.LastCosigned(request->origin());
  if (!cos.ok()) return Done(ctx_, reactor, cos.status());
  if (cos->has_value()) response->set_cosigned_size((*cos)->size);
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* PeerServiceImpl::DeliverEvidence(
    grpc::CallbackServerContext* context,
    const v1::DeliverEvidenceRequest* request,
    v1::DeliverEvidenceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kDeliverEvidence).status();
  if (s.ok() && !request->has_evidence()) {
    s = absl::InvalidArgumentError("evidence: missing");
  }
  if (s.ok()) {
    s = KnownPeer(*layer_, "evidence.origin", request->evidence().origin());
  }
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
  absl::Status s = ctx_->Admit(*context, Rpc::kCosign).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<Checkpoint> cp = PeekCheckpoint(request->checkpoint());
  if (!cp.ok()) {
    return Done(ctx_, reactor,
                absl::InvalidArgumentError(
                    absl::StrCat("checkpoint: ", cp.status().message())));
  }
  s = KnownPeer(*layer_, "checkpoint origin", cp->origin);
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
