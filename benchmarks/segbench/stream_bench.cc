// `segbench grpc --mode stream`: one bulk AppendStream, every record
// durable and acknowledged; ceiling = the raw GetEntries server-stream rate
// over the entries just written (same message size, no appends).
#include <atomic>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmarks/segbench/grpc_bench.h"
#include "benchmarks/segbench/grpc_records.h"
#include "benchmarks/segbench/stats.h"
#include "ledger/status_macros.h"

namespace segledger::bench {
namespace {

// Entries streamed per second by GetEntries for `duration` (restarting
// from 0 when the log is shorter than the run).
absl::StatusOr<double> MeasureRawStreamRate(client::Client& c,
                                            absl::Duration duration) {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + duration;
  uint64_t n = 0;
  for (int pass = 0; pass < 1000 && absl::Now() < deadline; ++pass) {
    uint64_t before = n;
    SEG_RETURN_IF_ERROR(c.GetEntries(0, 0, [&](v1::EntryResponse&) {
      ++n;
      return (n & 255) != 0 || absl::Now() < deadline;
    }));
    if (n == before) return absl::FailedPreconditionError("the log is empty");
  }
  return static_cast<double>(n) / absl::ToDoubleSeconds(absl::Now() - start);
}

struct AckState {
  explicit AckState(uint64_t cap)
      : sent_us(new std::atomic<int64_t>[cap]), cap(cap) {}
  std::unique_ptr<std::atomic<int64_t>[]> sent_us;  // by sequence
  const uint64_t cap;
  LatencyRecorder latency{1 << 20};  // reader thread only
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> errors{0};
  std::string first_error;  // reader thread only
};

}  // namespace

absl::StatusOr<std::string> RunStreamBench(const GrpcBenchOptions& o,
                                           client::Client& c) {
  auto acks = std::make_shared<AckState>(o.max_records);
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<client::AppendStreamWriter> w,
                       c.OpenAppendStream([acks](const v1::StreamAck& a) {
                         const int64_t now = absl::ToUnixMicros(absl::Now());
                         if (a.sequence() < acks->cap) {
                           acks->latency.Record(absl::Microseconds(
                               now - acks->sent_us[a.sequence()].load(
                                         std::memory_order_relaxed)));
                         }
                         if (a.error_code() == 0) {
                           acks->ok.fetch_add(1, std::memory_order_relaxed);
                         } else {
                           acks->errors.fetch_add(1, std::memory_order_relaxed);
                           if (acks->first_error.empty())
                             acks->first_error = a.error_message();
                         }
                       }));
  const std::string prefix = RunPrefix();
  const absl::Duration cpu0 = ProcessCpuTime();
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + o.duration;
  uint64_t seq = 0;
  while (absl::Now() < deadline && seq + o.stream_batch <= o.max_records) {
    v1::AppendStreamRequest req;
    const int64_t now = absl::ToUnixMicros(absl::Now());
    for (int i = 0; i < o.stream_batch; ++i, ++seq) {
      v1::StreamRecord* r = req.add_records();
      r->set_sequence(seq);
      *r->mutable_record() =
          MakeRecord(absl::StrCat(prefix, "-", seq), seq, o.payload_bytes);
      acks->sent_us[seq].store(now, std::memory_order_relaxed);
    }
    if (!w->Write(req)) break;
  }
  absl::Status fin = w->Finish();
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = absl::ToDoubleSeconds(ProcessCpuTime() - cpu0);
  if (!fin.ok()) return fin;
  const uint64_t ok = acks->ok.load();
  if (ok == 0) {
    return absl::UnavailableError(
        absl::StrCat("no streamed record acknowledged: ", acks->first_error));
  }
  double ceiling = 0;
  if (!o.skip_ceiling) {
    SEG_ASSIGN_OR_RETURN(ceiling, MeasureRawStreamRate(c, o.ceiling_duration));
  }
  const double rate = static_cast<double>(ok) / secs;
  JsonLine j;
  j.Add("mode", std::string("grpc-stream"))
      .Add("batch", o.stream_batch)
      .Add("seconds", secs)
      .Add("records_sent", seq)
      .Add("records", ok)
      .Add("errors", acks->errors.load())
      .Add("records_per_s", rate)
      .Add("ceiling_records_per_s", ceiling)
      .Add("ratio", ceiling > 0 ? rate / ceiling : 0.0)
      .Add("p50_us", acks->latency.PercentileUs(0.50))
      .Add("p95_us", acks->latency.PercentileUs(0.95))
      .Add("p99_us", acks->latency.PercentileUs(0.99))
      .Add("client_cpu_cores_used", cpu / secs);
  if (!acks->first_error.empty()) j.Add("first_error", acks->first_error);
  return j.str();
}

}  // namespace segledger::bench
