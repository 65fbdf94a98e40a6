#include "benchmarks/segbench/stats.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/json_string.h"

namespace segledger::bench {

LatencyRecorder::LatencyRecorder(size_t cap, uint64_t seed)
    : cap_(cap), rng_(seed | 1) {}

void LatencyRecorder::Record(absl::Duration d) {
  const double us = absl::ToDoubleMicroseconds(d);
  ++count_;
  sorted_ = false;
  if (samples_.size() < cap_) {
    samples_.push_back(us);
    return;
  }
  // Reservoir sampling (xorshift64 for the random slot).
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const uint64_t slot = rng_ % count_;
  if (slot < cap_) samples_[slot] = us;
}

void LatencyRecorder::Merge(const LatencyRecorder& other) {
  // Samples stay representative as long as recorders saw similar counts,
  // which holds for segbench's symmetric load threads.
  for (double s : other.samples_) {
    if (samples_.size() < cap_) samples_.push_back(s);
  }
  count_ += other.count_;
  sorted_ = false;
}

double LatencyRecorder::PercentileUs(double q) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  const double pos = q * static_cast<double>(samples_.size() - 1);
  return samples_[static_cast<size_t>(std::llround(pos))];
}

absl::Duration ProcessCpuTime() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return absl::DurationFromTimeval(ru.ru_utime) +
         absl::DurationFromTimeval(ru.ru_stime);
}

JsonLine& JsonLine::Add(const std::string& key, double value) {
  fields_.emplace_back(key, absl::StrFormat("%.6g", value));
  return *this;
}

JsonLine& JsonLine::Add(const std::string& key, uint64_t value) {
  fields_.emplace_back(key, absl::StrCat(value));
  return *this;
}

JsonLine& JsonLine::Add(const std::string& key, const std::string& value) {
  fields_.emplace_back(key, JsonQuote(value));
  return *this;
}

std::string JsonLine::str() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i) out += ",";
    absl::StrAppend(&out, "\"", fields_[i].first, "\":", fields_[i].second);
  }
  out += "}";
  return out;
}

}  // namespace segledger::bench
