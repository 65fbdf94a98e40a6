// gRPC's own log lines (gpr_log: bind failures, TLS handshake errors) in
// segledgerd's JSON log, so stderr stays one JSON object per line
// (docs/operations.md "Monitoring"). Until Release(), lines are held, not
// written: a failed start stays one "cannot start" line, which carries what
// gRPC said (e.g. "Address already in use") as its "grpc" field.
// Process-wide; thread-safe.
#ifndef SEGLEDGER_NODE_GRPC_LOG_H_
#define SEGLEDGER_NODE_GRPC_LOG_H_

#include <string>

namespace segledger::node {

// Routes gpr_log through LogJson from now on, holding lines.
void RouteGrpcLogToJson();
// Writes the held lines and every later one as they come.
void ReleaseGrpcLog();
// The held lines' messages, "; "-joined (empty when none), and forgets them.
std::string TakeHeldGrpcLog();

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_GRPC_LOG_H_
