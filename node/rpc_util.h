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

// ThreadSanitizer and our streaming reactors. gRPC runs a reaction
// (OnReadDone, OnWriteDone, OnCancel, OnDone) on whichever of its threads
// saw an operation complete, after the operation was started (StartRead,
// StartWrite, Finish) on another; that order runs through gRPC's core,
// which Debian builds without TSan, so TSan cannot see it. A reactor calls
// GrpcHandOff(this) just before starting an operation and GrpcTakeOver(this)
// first thing in each reaction: a release and an acquire on the reactor,
// the order gRPC guarantees. A reaction that can return without starting
// an operation after it touched the reactor (OnCancel, say) also hands off
// last thing: gRPC runs OnDone only after every other reaction returned.
// No code in other builds.
#if defined(__SANITIZE_THREAD__)
#define SEGLEDGER_TSAN_HANDOFF 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SEGLEDGER_TSAN_HANDOFF 1
#endif
#endif
#ifdef SEGLEDGER_TSAN_HANDOFF
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void GrpcHandOff(const void* reactor) {
  __tsan_release(const_cast<void*>(reactor));
}
inline void GrpcTakeOver(const void* reactor) {
  __tsan_acquire(const_cast<void*>(reactor));
}
#else
inline void GrpcHandOff(const void*) {}
inline void GrpcTakeOver(const void*) {}
#endif

// Longest request_id accepted.
inline constexpr size_t kMaxRequestIdSize = 256;

// Checks one record as a client sent it. `path` prefixes field names in the
// INVALID_ARGUMENT message, e.g. "records[3]" -> "records[3].actor.person_id:
// empty". Key rotations must go through AdminService.RotateKey.
absl::Status ValidateAppendRecord(const v1::AppendRecordRequest& req,
                                  absl::string_view path);
// Key registrations and revocations change which keys speak for the log,
// as a rotation does: like AdminService.RotateKey they need the operator
// role (PERMISSION_DENIED naming `path`.record.<kind> otherwise).
absl::Status CheckRecordRole(const v1::Record& record, Role role,
                             absl::string_view path);

store::AppendRecord ToStoreRecord(v1::AppendRecordRequest req);
void FillAck(const store::AppendResult& result, v1::AppendAck* ack);

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_RPC_UTIL_H_
