// `segbench ledger`: in-process durable appends through LogStore with N
// appender threads, and the same-run ceiling (sign + chain + synced batch on
// all cores, with no store logic around it).
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_LEDGER_BENCH_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_LEDGER_BENCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace segledger::bench {

struct LedgerBenchOptions {
  int appenders = 64;
  absl::Duration duration = absl::Seconds(5);
  std::string dir;             // scratch directory (created, then removed)
  int records_per_append = 1;  // records per Append call
  size_t payload_bytes = 200;  // filler so bodies are ~300 bytes
  absl::Duration ceiling_duration = absl::Seconds(3);
  bool skip_ceiling = false;
};

// Runs the ceiling and the store load; returns the JSON line.
absl::StatusOr<std::string> RunLedgerBench(const LedgerBenchOptions& options);

// Same-run ceiling: chained bodies built in order, signed in parallel on all
// cores, written as synced RocksDB batches of `batch` records, for
// `duration`. Returns records per second.
absl::StatusOr<double> MeasureAppendCeiling(const std::string& dir,
                                            absl::Duration duration,
                                            size_t batch, size_t payload_bytes);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_LEDGER_BENCH_H_
