#include "benchmarks/segbench/grpc_bench.h"

#include <atomic>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmarks/segbench/grpc_records.h"
#include "benchmarks/segbench/lane_load.h"
#include "benchmarks/segbench/stats.h"
#include "ledger/status_macros.h"

namespace segledger::bench {
namespace {

using client::Client;

template <typename Req, typename Resp>
struct Call {
  grpc::ClientContext ctx;
  Req req;
  Resp resp;
};

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

// Empty-RPC ceiling: GetCheckpoint at the same concurrency. Every
// completed call counts (a NOT_FOUND on an empty log is a round trip too).
double MeasureEmptyRpcRate(v1::ReadService::Stub* read, int concurrency,
                           absl::Duration duration) {
  StartFn start = [read](int, uint64_t, DoneFn done) {
    using C = Call<v1::GetCheckpointRequest, v1::CheckpointResponse>;
    auto call = std::make_shared<C>();
    SetDeadline(call->ctx);
    C* c = call.get();
    read->async()->GetCheckpoint(
        &c->ctx, &c->req, &c->resp, [call, done](grpc::Status s) {
          bool reached = s.error_code() != grpc::StatusCode::UNAVAILABLE &&
                         s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED;
          done(reached, 1, s.error_message());
        });
  };
  double secs = 0;
  std::vector<LaneResult> lanes = RunLanes(concurrency, duration, start, &secs);
  LaneResult all = MergeLanes(lanes);
  return secs > 0 ? static_cast<double>(all.ok) / secs : 0;
}

StartFn AppendStarter(v1::AppendService::Stub* append,
                      const std::string& prefix, size_t payload_bytes) {
  return [append, prefix, payload_bytes](int lane, uint64_t n, DoneFn done) {
    using C = Call<v1::AppendRequest, v1::AppendResponse>;
    auto call = std::make_shared<C>();
    SetDeadline(call->ctx);
    *call->req.add_records() =
        MakeRecord(absl::StrCat(prefix, "-", lane, "-", n), n, payload_bytes);
    C* c = call.get();
    append->async()->Append(
        &c->ctx, &c->req, &c->resp, [call, done](grpc::Status s) {
          done(s.ok(), s.ok() ? call->resp.acks_size() : 0, s.error_message());
        });
  };
}

// Reads of random entries below `size`: GetEntry and inclusion proofs,
// alternating.
StartFn ReadStarter(v1::ReadService::Stub* read, v1::ProofService::Stub* proof,
                    uint64_t size) {
  return [read, proof, size](int lane, uint64_t n, DoneFn done) {
    const uint64_t index =
        (n * 2654435761u + static_cast<uint64_t>(lane) * 40503u) % size;
    if (n % 2 == 0) {
      using C = Call<v1::GetEntryRequest, v1::EntryResponse>;
      auto call = std::make_shared<C>();
      SetDeadline(call->ctx);
      call->req.set_index(index);
      C* c = call.get();
      read->async()->GetEntry(
          &c->ctx, &c->req, &c->resp,
          [call, done](grpc::Status s) { done(s.ok(), 1, s.error_message()); });
      return;
    }
    using C = Call<v1::InclusionProofRequest, v1::InclusionProofResponse>;
    auto call = std::make_shared<C>();
    SetDeadline(call->ctx);
    call->req.set_index(index);
    C* c = call.get();
    proof->async()->GetInclusionProof(
        &c->ctx, &c->req, &c->resp,
        [call, done](grpc::Status s) { done(s.ok(), 1, s.error_message()); });
  };
}

JsonLine Common(const GrpcBenchOptions& o, double secs, LaneResult& r,
                double rate, double ceiling, double cpu) {
  JsonLine j;
  j.Add("mode", absl::StrCat("grpc-", o.mode))
      .Add("concurrency", o.concurrency)
      .Add("seconds", secs)
      .Add("records", r.records)
      .Add("errors", r.errors)
      .Add("records_per_s", rate)
      .Add("ceiling_records_per_s", ceiling)
      .Add("ratio", ceiling > 0 ? rate / ceiling : 0.0)
      .Add("p50_us", r.latency.PercentileUs(0.50))
      .Add("p95_us", r.latency.PercentileUs(0.95))
      .Add("p99_us", r.latency.PercentileUs(0.99))
      .Add("client_cpu_cores_used", secs > 0 ? cpu / secs : 0.0);
  if (!r.first_error.empty()) j.Add("first_error", r.first_error);
  return j;
}

absl::StatusOr<std::string> RunUnary(const GrpcBenchOptions& o, Client& c) {
  auto read = v1::ReadService::NewStub(c.channel());
  auto append = v1::AppendService::NewStub(c.channel());
  double ceiling = 0;
  if (!o.skip_ceiling) {
    ceiling =
        MeasureEmptyRpcRate(read.get(), o.concurrency, o.ceiling_duration);
  }
  const absl::Duration cpu0 = ProcessCpuTime();
  double secs = 0;
  std::vector<LaneResult> lanes = RunLanes(
      o.concurrency, o.duration,
      AppendStarter(append.get(), RunPrefix(), o.payload_bytes), &secs);
  const double cpu = absl::ToDoubleSeconds(ProcessCpuTime() - cpu0);
  LaneResult all = MergeLanes(lanes);
  if (all.ok == 0) {
    return absl::UnavailableError(
        absl::StrCat("no Append succeeded: ", all.first_error));
  }
  const double rate = static_cast<double>(all.records) / secs;
  // Calls per second equal records per second here (one record per call).
  return Common(o, secs, all, rate, ceiling, cpu).str();
}

absl::StatusOr<std::string> RunMixed(const GrpcBenchOptions& o, Client& c) {
  auto read = v1::ReadService::NewStub(c.channel());
  auto append = v1::AppendService::NewStub(c.channel());
  auto proof = v1::ProofService::NewStub(c.channel());
  const std::string prefix = RunPrefix();
  // Reads need entries and a checkpoint: seed a few and sign one.
  for (int i = 0; i < 16; ++i) {
    v1::AppendRequest req;
    *req.add_records() =
        MakeRecord(absl::StrCat(prefix, "-seed-", i), i, o.payload_bytes);
    SEG_RETURN_IF_ERROR(c.Append(req).status());
  }
  SEG_RETURN_IF_ERROR(c.CheckpointNow().status());
  SEG_ASSIGN_OR_RETURN(v1::CheckpointResponse cp, c.GetCheckpoint());
  double ceiling = 0;
  if (!o.skip_ceiling) {
    ceiling =
        MeasureEmptyRpcRate(read.get(), o.concurrency, o.ceiling_duration);
  }
  StartFn writes = AppendStarter(append.get(), prefix, o.payload_bytes);
  StartFn reads = ReadStarter(read.get(), proof.get(), cp.size());
  StartFn both = [&](int lane, uint64_t n, DoneFn done) {
    (lane % 2 == 0 ? writes : reads)(lane, n, std::move(done));
  };
  const absl::Duration cpu0 = ProcessCpuTime();
  double secs = 0;
  std::vector<LaneResult> lanes =
      RunLanes(o.concurrency, o.duration, both, &secs);
  const double cpu = absl::ToDoubleSeconds(ProcessCpuTime() - cpu0);
  LaneResult w = MergeLanes(lanes, [](int l) { return l % 2 == 0; });
  LaneResult r = MergeLanes(lanes, [](int l) { return l % 2 == 1; });
  LaneResult all = MergeLanes(lanes);
  const double ops = static_cast<double>(all.ok) / secs;
  JsonLine j =
      Common(o, secs, w, static_cast<double>(w.records) / secs, ceiling, cpu);
  j.Add("reads_per_s", static_cast<double>(r.ok) / secs)
      .Add("read_p50_us", r.latency.PercentileUs(0.50))
      .Add("read_p99_us", r.latency.PercentileUs(0.99))
      .Add("read_errors", r.errors)
      .Add("ops_per_s", ops)
      .Add("ops_ratio", ceiling > 0 ? ops / ceiling : 0.0);
  return j.str();
}

}  // namespace

absl::StatusOr<std::string> RunGrpcBench(const GrpcBenchOptions& options) {
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<Client> c,
                       Client::Connect(options.client));
  // Fail fast (exit 3 territory) when the node is not there.
  SEG_RETURN_IF_ERROR(c->GetStatus().status());
  if (options.mode == "unary") return RunUnary(options, *c);
  if (options.mode == "mixed") return RunMixed(options, *c);
  if (options.mode == "stream") return RunStreamBench(options, *c);
  return absl::InvalidArgumentError(
      absl::StrCat("--mode '", options.mode, "': want unary, stream or mixed"));
}

}  // namespace segledger::bench
