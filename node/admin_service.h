// AdminService: status, checkpoint now, key rotation and online backup.
// The calls that write synchronously (sign + fsync, key files, RocksDB
// checkpoints) run on the context's blocking pool, never on a gRPC thread.
// Thread-safe.
#ifndef SEGLEDGER_NODE_ADMIN_SERVICE_H_
#define SEGLEDGER_NODE_ADMIN_SERVICE_H_

#include "node/service_context.h"
#include "segledger/v1/admin_service.grpc.pb.h"

namespace segledger::node {

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::StatusRequest* request,
                                      v1::StatusResponse* response) override;
  grpc::ServerUnaryReactor* CheckpointNow(
      grpc::CallbackServerContext* context,
      const v1::CheckpointNowRequest* request,
      v1::CheckpointNowResponse* response) override;
  grpc::ServerUnaryReactor* RotateKey(grpc::CallbackServerContext* context,
                                      const v1::RotateKeyRequest* request,
                                      v1::RotateKeyResponse* response) override;
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* context,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) override;

 private:
  ServiceContext* const ctx_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_ADMIN_SERVICE_H_
