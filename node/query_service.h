// QueryService: the domain queries over this node's store, through
// ledger/domain/store_queries.h (which reads only the rows a lot needs),
// or, on a node that follows other logs and for findings, over the graph
// of every verified log, shared by the calls while no log grew
// (graph_cache.h). Calls run on the node's query threads, at most
// NodeOptions.max_queries queued or running (RESOURCE_EXHAUSTED beyond).
// Reads only; thread-safe.
#ifndef SEGLEDGER_NODE_QUERY_SERVICE_H_
#define SEGLEDGER_NODE_QUERY_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/domain/findings.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/store_queries.h"
#include "node/graph_cache.h"
#include "node/peer_layer.h"
#include "node/service_context.h"
#include "segledger/v1/query_service.grpc.pb.h"

namespace segledger::node {

class QueryServiceImpl final : public v1::QueryService::CallbackService {
 public:
  // `findings`: the pilot thresholds of the node's configuration.
  QueryServiceImpl(ServiceContext* ctx, domain::FindingOptions findings)
      : ctx_(ctx),
        findings_(findings),
        cache_(ctx->store,
               ctx->peers != nullptr ? ctx->peers->peer_store() : nullptr,
               &ctx->metrics->query_graph_builds_total) {}

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
  // The calls' work, on the query threads (query_service.cc RunQuery).
  absl::Status DoTimeline(const v1::LotQueryRequest& request,
                          v1::TimelineResponse* response);
  absl::Status DoTrace(const v1::TraceRequest& request,
                       v1::TraceResponse* response);
  absl::Status DoMassBalance(const v1::LotQueryRequest& request,
                             v1::MassBalanceResponse* response);
  // Findings of at least `min` severity.
  absl::Status DoFindings(domain::FindingSeverity min,
                          v1::FindingsResponse* response);

  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> Load(
      const std::string& lot_id, domain::LoadScope scope);
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> All();

  ServiceContext* const ctx_;
  const domain::FindingOptions findings_;
  GraphCache cache_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_QUERY_SERVICE_H_
