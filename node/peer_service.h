// PeerService (proto/segledger/v1/peer_service.proto): what other nodes
// call - held size, evidence delivery, cosigning - and the read of what
// this node holds about other logs, over the PeerLayer's PeerStore.
// Verification and storage are the PeerStore's (ledger/peers); a refused
// request changes nothing. Thread-safe.
#ifndef SEGLEDGER_NODE_PEER_SERVICE_H_
#define SEGLEDGER_NODE_PEER_SERVICE_H_

#include "node/peer_layer.h"
#include "node/service_context.h"
#include "segledger/v1/peer_service.grpc.pb.h"

namespace segledger::node {

class PeerServiceImpl final : public v1::PeerService::CallbackService {
 public:
  // Both must outlive the server.
  PeerServiceImpl(ServiceContext* ctx, PeerLayer* layer)
      : ctx_(ctx), layer_(layer) {}

  grpc::ServerUnaryReactor* GetHeldSize(
      grpc::CallbackServerContext* context, const v1::HeldSizeRequest* request,
      v1::HeldSizeResponse* response) override;
  grpc::ServerUnaryReactor* DeliverEvidence(
      grpc::CallbackServerContext* context,
      const v1::DeliverEvidenceRequest* request,
      v1::DeliverEvidenceResponse* response) override;
  grpc::ServerUnaryReactor* Cosign(grpc::CallbackServerContext* context,
                                   const v1::CosignRequest* request,
                                   v1::CosignResponse* response) override;
  grpc::ServerUnaryReactor* GetPeerData(
      grpc::CallbackServerContext* context, const v1::PeerDataRequest* request,
      v1::PeerDataResponse* response) override;

 private:
  ServiceContext* const ctx_;
  PeerLayer* const layer_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_PEER_SERVICE_H_
