// `segbench audit DIR`: offline verification of an audit bundle (the tools
// library's reader, verifier and domain findings, as `segaudit verify` runs
// them: tools::AuditBundle) against
// the same-run Ed25519 verify ceiling on all cores; and `segbench mkbundle`,
// which writes a bundle of N entries through LogStore and the bundle writer.
//
// Thread-compatible: one run at a time.
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_AUDIT_BENCH_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_AUDIT_BENCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace segledger::bench {

// Verifies the bundle at `dir`; returns the JSON line (entries_per_s,
// ceiling = raw verifies per second measured for `ceiling_duration` before
// and again after the audit, their mean; findings). Findings do not fail the
// run; a missing bundle does (INVALID_ARGUMENT).
absl::StatusOr<std::string> RunAuditBench(const std::string& dir,
                                          absl::Duration ceiling_duration,
                                          bool skip_ceiling);

// Same-run ceiling: pre-made Ed25519 signatures over ~300-byte messages
// verified on every core (ThreadPool ParallelFor) for `duration`.
absl::StatusOr<double> MeasureVerifyCeiling(absl::Duration duration);

// Builds a store of `entries` entries in `scratch` and writes its bundle to
// `out_dir` (must not exist). Returns the JSON line (build and export
// seconds, bundle bytes).
absl::StatusOr<std::string> RunMakeBundle(uint64_t entries,
                                          const std::string& scratch,
                                          const std::string& out_dir);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_AUDIT_BENCH_H_
