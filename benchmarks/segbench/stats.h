// Measurement helpers for segbench: latency percentiles, CPU use, and the
// one-line JSON report every mode prints.
//
// Thread-compatible: each load thread records into its own LatencyRecorder;
// Merge them on one thread afterwards.
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_STATS_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_STATS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace segledger::bench {

// Latency samples in microseconds (bounded: keeps at most `cap` samples by
// reservoir sampling so memory stays flat on long runs).
class LatencyRecorder {
 public:
  explicit LatencyRecorder(size_t cap = 1 << 20, uint64_t seed = 1);
  void Record(absl::Duration d);
  void Merge(const LatencyRecorder& other);
  // q in [0, 1]; 0 when there are no samples. Sorts lazily.
  double PercentileUs(double q);
  uint64_t count() const { return count_; }

 private:
  size_t cap_;
  uint64_t count_ = 0;
  uint64_t rng_;
  bool sorted_ = false;
  std::vector<double> samples_;
};

// Process CPU time (user + system) so far.
absl::Duration ProcessCpuTime();

// A flat JSON object built in insertion order; values are numbers or
// strings. Printed on one line.
class JsonLine {
 public:
  JsonLine& Add(const std::string& key, double value);
  JsonLine& Add(const std::string& key, uint64_t value);
  JsonLine& Add(const std::string& key, int value) {
    return Add(key, static_cast<uint64_t>(value));
  }
  JsonLine& Add(const std::string& key, const std::string& value);
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_STATS_H_
