// Records segbench sends to a node, and per-run request-id prefixes.
// Thread-safe (pure functions).
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_GRPC_RECORDS_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_GRPC_RECORDS_H_

#include <cstdint>
#include <string>

#include "segledger/v1/ledger_service.pb.h"

namespace segledger::bench {

// A unique prefix per run so request ids never replay an earlier run's.
std::string RunPrefix();

// One record with a ~300-byte signed body: a key registration, which the
// node's domain rules accept (tests/node use the same shape).
v1::AppendRecordRequest MakeRecord(const std::string& request_id, uint64_t n,
                                   size_t payload_bytes);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_GRPC_RECORDS_H_
