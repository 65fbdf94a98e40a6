// `segbench grpc`: load on a running segledgerd over gRPC, with the
// same-run ceiling (DESIGN.md command-line contract).
//
//   unary   N concurrent Append calls (one record each) on the callback API
//           (no thread per request); ceiling = the same concurrency of
//           GetCheckpoint, the node's cheapest RPC.
//   stream  one bulk AppendStream (durable, acknowledged per record);
//           ceiling = the raw server-stream rate of GetEntries over the
//           entries just written (same message size, no appends).
//   mixed   half the lanes append, half read (GetEntry + inclusion proof of
//           a random entry); ceiling = the empty-RPC rate.
//
// Thread-compatible: one run at a time.
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_GRPC_BENCH_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_GRPC_BENCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"

namespace segledger::bench {

struct GrpcBenchOptions {
  client::ClientOptions client;  // target, TLS or insecure
  std::string mode = "unary";    // unary | stream | mixed
  int concurrency = 64;          // unary/mixed: calls in flight
  absl::Duration duration = absl::Seconds(5);
  absl::Duration ceiling_duration = absl::Seconds(3);
  int stream_batch = 64;           // stream: records per stream message
  uint64_t max_records = 4000000;  // bound on records sent per run
  size_t payload_bytes = 200;      // filler so bodies are ~300 bytes
  bool skip_ceiling = false;
};

// Runs the load and its ceiling; returns the JSON line. UNAVAILABLE when
// the node cannot be reached.
absl::StatusOr<std::string> RunGrpcBench(const GrpcBenchOptions& options);

// The stream mode (stream_bench.cc), on a connected client.
absl::StatusOr<std::string> RunStreamBench(const GrpcBenchOptions& options,
                                           client::Client& c);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_GRPC_BENCH_H_
