// `segbench proof`: a store of N entries built fast (store_builder.h), its
// size on disk against the raw entry bytes, the time to reopen it, and
// inclusion + consistency proof latency in-process; over gRPC too when a
// node is given (against the node's own log and size).
//
// Thread-compatible: one run at a time.
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_PROOF_BENCH_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_PROOF_BENCH_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"

namespace segledger::bench {

struct ProofBenchOptions {
  std::string dir;  // scratch; the store goes in DIR/proof-store (replaced)
  uint64_t entries = 1000000;
  uint64_t samples = 20000;                     // proofs of each kind, at most
  absl::Duration max_time = absl::Seconds(10);  // per sampling loop
  std::optional<client::ClientOptions> node;    // also over gRPC
  bool keep = false;                            // keep the store afterwards
  // A segledgerd data directory (DIR/db, DIR/keys) to fill up to `entries`
  // and reuse instead of building a scratch store; never removed.
  std::string data;
  bool grpc_only = false;  // only the gRPC proofs against `node`
  std::string origin = "bench.example/segledger-scale";  // of `data`'s log
};

absl::StatusOr<std::string> RunProofBench(const ProofBenchOptions& options);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_PROOF_BENCH_H_
