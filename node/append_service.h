// AppendService: unary batch appends and the bulk append stream, over
// LogStore::AppendAsync (group commit). No gRPC thread ever waits for an
// fsync: reactors are finished, and stream acks written, from the store's
// commit callback. Thread-safe.
#ifndef SEGLEDGER_NODE_APPEND_SERVICE_H_
#define SEGLEDGER_NODE_APPEND_SERVICE_H_

#include "node/service_context.h"
#include "segledger/v1/ledger_service.grpc.pb.h"

namespace segledger::node {

class AppendServiceImpl final : public v1::AppendService::CallbackService {
 public:
  // `ctx` must outlive the service.
  explicit AppendServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override;

  grpc::ServerBidiReactor<v1::AppendStreamRequest, v1::AppendStreamResponse>*
  AppendStream(grpc::CallbackServerContext* context) override;

 private:
  class StreamReactor;
  ServiceContext* const ctx_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_APPEND_SERVICE_H_
