// `segbench query`: lot queries on a real RocksDB store of N domain records
// (issue 9 "lot trace / timeline, 1M records"; issue 4 "Performance").
//
// The store is built through the real append path (LogStore group commit,
// synced batches, Ed25519 signing, the DomainHook's rules and indexes) from
// benchmarks/domain_load.h's workload, then reopened as a plain RocksDbKv
// and queried as the node's QueryService does (store_queries.h: load the
// lot's indexed entries, then Timeline / Backward / Forward on a
// DomainGraph). Each query's answer is checked against the workload's
// shape. Same-run reference: one random entry read from the same store.
//
// Thread-compatible: one run at a time.
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_QUERY_BENCH_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_QUERY_BENCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace segledger::bench {

struct QueryBenchOptions {
  // Scratch; the store goes in DIR/query-store. A store left there by an
  // earlier --keep run with the same record count is reused.
  std::string dir;
  uint64_t records = 1000000;
  uint64_t samples = 20000;                     // queries of each kind, at most
  absl::Duration max_time = absl::Seconds(10);  // the sampling loop
  bool keep = false;                            // keep the store afterwards
};

absl::StatusOr<std::string> RunQueryBench(const QueryBenchOptions& options);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_QUERY_BENCH_H_
