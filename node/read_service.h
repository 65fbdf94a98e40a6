// ReadService (entries, checkpoints) and ProofService (RFC 9162 inclusion
// and consistency proofs): thin handlers over LogStore reads, which are
// RocksDB point reads and never wait for an fsync. Thread-safe.
#ifndef SEGLEDGER_NODE_READ_SERVICE_H_
#define SEGLEDGER_NODE_READ_SERVICE_H_

#include "node/service_context.h"
#include "segledger/v1/ledger_service.grpc.pb.h"

namespace segledger::node {

class ReadServiceImpl final : public v1::ReadService::CallbackService {
 public:
  explicit ReadServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* GetEntry(grpc::CallbackServerContext* context,
                                     const v1::GetEntryRequest* request,
                                     v1::EntryResponse* response) override;
  grpc::ServerWriteReactor<v1::EntryResponse>* GetEntries(
      grpc::CallbackServerContext* context,
      const v1::GetEntriesRequest* request) override;
  grpc::ServerWriteReactor<v1::CheckpointResponse>* ListCheckpoints(
      grpc::CallbackServerContext* context,
      const v1::ListCheckpointsRequest* request) override;
  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* context,
      const v1::GetCheckpointRequest* request,
      v1::CheckpointResponse* response) override;

 private:
  ServiceContext* const ctx_;
};

class ProofServiceImpl final : public v1::ProofService::CallbackService {
 public:
  explicit ProofServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* context,
      const v1::InclusionProofRequest* request,
      v1::InclusionProofResponse* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* context,
      const v1::ConsistencyProofRequest* request,
      v1::ConsistencyProofResponse* response) override;
  grpc::ServerUnaryReactor* GetProofs(grpc::CallbackServerContext* context,
                                      const v1::ProofsRequest* request,
                                      v1::ProofsResponse* response) override;

 private:
  ServiceContext* const ctx_;
};

// Size of the latest signed checkpoint (NOT_FOUND before the first).
absl::StatusOr<uint64_t> LatestCheckpointSize(const store::LogStore& store);

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_READ_SERVICE_H_
