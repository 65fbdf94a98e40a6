// QueryService: the domain queries over this node's store, through
// ledger/domain/store_queries.h (which reads only the rows a lot needs).
// Reads only; thread-safe.
#ifndef SEGLEDGER_NODE_QUERY_SERVICE_H_
#define SEGLEDGER_NODE_QUERY_SERVICE_H_

#include "ledger/domain/findings.h"
#include "node/service_context.h"
#include "segledger/v1/query_service.grpc.pb.h"

namespace segledger::node {

class QueryServiceImpl final : public v1::QueryService::CallbackService {
 public:
  // `findings`: the pilot thresholds of the node's configuration.
  QueryServiceImpl(ServiceContext* ctx, domain::FindingOptions findings)
      : ctx_(ctx), findings_(findings) {}

  grpc::ServerUnaryReactor* Timeline(grpc::CallbackServerContext* context,
                                     const v1::LotQueryRequest* request,
                                     v1::TimelineResponse* response) override;
  grpc::ServerUnaryReactor* Trace(grpc::CallbackServerContext* context,
                                  const v1::TraceRequest* request,
                                  v1::TraceResponse* response) override;
  grpc::ServerUnaryReactor* MassBalance(
      grpc::CallbackServerContext* context, const v1::LotQueryRequest* request,
      v1::MassBalanceResponse* response) override;
  grpc::ServerUnaryReactor* Findings(grpc::CallbackServerContext* context,
                                     const v1::FindingsRequest* request,
                                     v1::FindingsResponse* response) override;

 private:
  ServiceContext* const ctx_;
  const domain::FindingOptions findings_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_QUERY_SERVICE_H_
