// Helpers shared by the node's services: status conversion, request
// validation (errors name the field path), proto <-> store types.
// Pure functions; thread-safe.
#ifndef SEGLEDGER_NODE_RPC_UTIL_H_
#define SEGLEDGER_NODE_RPC_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "ledger/store/log_store.h"
#include "node/service_context.h"
#include "segledger/v1/ledger_service.pb.h"

namespace segledger::node {

// absl::Status -> grpc::Status, code for code (the enums share values) and
// message unchanged.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Finishes a unary call with `status` (counting errors in the metrics) and
// returns the reactor, for handlers to `return Done(...)`.
grpc::ServerUnaryReactor* Done(ServiceContext* ctx,
                               grpc::ServerUnaryReactor* reactor,
                               const absl::Status& status);

// Longest request_id accepted.
inline constexpr size_t kMaxRequestIdSize = 256;

// Checks one record as a client sent it. `path` prefixes field names in the
// INVALID_ARGUMENT message, e.g. "records[3]" -> "records[3].actor.person_id:
// empty". Key rotations must go through AdminService.RotateKey.
absl::Status ValidateAppendRecord(const v1::AppendRecordRequest& req,
                                  absl::string_view path);

store::AppendRecord ToStoreRecord(v1::AppendRecordRequest req);
void FillAck(const store::AppendResult& result, v1::AppendAck* ack);

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_RPC_UTIL_H_
