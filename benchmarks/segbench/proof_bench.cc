#include "benchmarks/segbench/proof_bench.h"

#include <filesystem>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmarks/segbench/stats.h"
#include "benchmarks/segbench/store_builder.h"
#include "ledger/status_macros.h"
#include "ledger/store/rocksdb_kv.h"

namespace segledger::bench {
namespace {

struct ProofLatency {
  LatencyRecorder inclusion;
  LatencyRecorder consistency;
  LatencyRecorder both;      // one inclusion + one consistency proof
  LatencyRecorder one_read;  // a single random leaf-hash read (floor)
  double mean_proof_hashes = 0;
};

// Random proofs against the full tree, bounded in count and time.
absl::StatusOr<ProofLatency> SampleInProcess(const store::LogStore& log,
                                             const ProofBenchOptions& o) {
  ProofLatency p;
  const uint64_t size = log.Size();
  std::mt19937_64 rng(42);
  const absl::Time deadline = absl::Now() + o.max_time;
  uint64_t hashes = 0, n = 0;
  for (; n < o.samples && absl::Now() < deadline; ++n) {
    const uint64_t index = rng() % size;
    const uint64_t old_size = 1 + rng() % size;
    const absl::Time t0 = absl::Now();
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> inc,
                         log.InclusionProof(index, size));
    const absl::Time t1 = absl::Now();
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> con,
                         log.ConsistencyProof(old_size, size));
    const absl::Time t2 = absl::Now();
    SEG_RETURN_IF_ERROR(log.LeafHashAt(rng() % size).status());
    const absl::Time t3 = absl::Now();
    p.inclusion.Record(t1 - t0);
    p.consistency.Record(t2 - t1);
    p.both.Record(t2 - t0);
    p.one_read.Record(t3 - t2);
    hashes += inc.size() + con.size();
  }
  p.mean_proof_hashes = n ? static_cast<double>(hashes) / n : 0;
  return p;
}

absl::Status SampleGrpc(const ProofBenchOptions& o, JsonLine& j) {
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<client::Client> c,
                       client::Client::Connect(*o.node));
  SEG_ASSIGN_OR_RETURN(v1::CheckpointResponse cp, c->GetCheckpoint());
  const uint64_t size = cp.size();
  if (size == 0) return absl::FailedPreconditionError("node log is empty");
  LatencyRecorder inc, con, both, empty;
  std::mt19937_64 rng(7);
  const absl::Time deadline = absl::Now() + o.max_time;
  for (uint64_t n = 0; n < o.samples && absl::Now() < deadline; ++n) {
    const absl::Time t0 = absl::Now();
    SEG_RETURN_IF_ERROR(c->InclusionProof(rng() % size, size).status());
    const absl::Time t1 = absl::Now();
    SEG_RETURN_IF_ERROR(c->ConsistencyProof(1 + rng() % size, size).status());
    const absl::Time t2 = absl::Now();
    SEG_RETURN_IF_ERROR(c->GetCheckpoint().status());
    const absl::Time t3 = absl::Now();
    inc.Record(t1 - t0);
    con.Record(t2 - t1);
    both.Record(t2 - t0);
    empty.Record(t3 - t2);
  }
  j.Add("grpc_tree_size", size)
      .Add("grpc_inclusion_p50_us", inc.PercentileUs(0.5))
      .Add("grpc_inclusion_p99_us", inc.PercentileUs(0.99))
      .Add("grpc_consistency_p50_us", con.PercentileUs(0.5))
      .Add("grpc_consistency_p99_us", con.PercentileUs(0.99))
      .Add("grpc_both_p50_us", both.PercentileUs(0.5))
      .Add("grpc_both_p99_us", both.PercentileUs(0.99))
      .Add("grpc_empty_rpc_p50_us", empty.PercentileUs(0.5))
      .Add("grpc_samples", inc.count());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RunProofBench(const ProofBenchOptions& o) {
  std::error_code ec;
  const std::string db_dir = o.dir + "/proof-store";
  std::filesystem::remove_all(db_dir, ec);
  std::filesystem::create_directories(o.dir, ec);
  SEG_ASSIGN_OR_RETURN(BuiltStore built, BuildStore(db_dir, o.entries));
  SEG_RETURN_IF_ERROR(built.log->Close());
  built.log.reset();

  // Reopen (RocksDB open + the store's tail check), as a restart does.
  const absl::Time t0 = absl::Now();
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                       store::RocksDbKv::Open(db_dir));
  SEG_ASSIGN_OR_RETURN(
      std::unique_ptr<store::LogStore> log,
      store::LogStore::Open(std::move(kv), {built.signer}, BuilderOptions()));
  const double open_secs = absl::ToDoubleSeconds(absl::Now() - t0);

  uint64_t raw = 0;
  const absl::Time s0 = absl::Now();
  SEG_RETURN_IF_ERROR(
      log->ScanEntries(0, log->Size(), [&](uint64_t, const v1::SignedEntry& e) {
        raw += e.body().size() + e.signature().size();
        return true;
      }));
  const double scan_secs = absl::ToDoubleSeconds(absl::Now() - s0);
  SEG_ASSIGN_OR_RETURN(ProofLatency p, SampleInProcess(*log, o));
  const uint64_t size = log->Size();
  SEG_RETURN_IF_ERROR(log->Close());
  log.reset();
  const uint64_t disk = DiskBytes(db_dir);
  if (!o.keep) std::filesystem::remove_all(db_dir, ec);

  JsonLine j;
  j.Add("mode", std::string("proof"))
      .Add("entries", size)
      .Add("build_seconds", built.build_seconds)
      .Add("build_records_per_s",
           static_cast<double>(size) / built.build_seconds)
      .Add("disk_bytes", disk)
      .Add("raw_entry_bytes", raw)
      .Add("disk_over_raw", raw ? static_cast<double>(disk) / raw : 0.0)
      .Add("open_seconds", open_secs)
      .Add("scan_seconds", scan_secs)
      .Add("samples", p.inclusion.count())
      .Add("mean_proof_hashes", p.mean_proof_hashes)
      .Add("inclusion_p50_us", p.inclusion.PercentileUs(0.5))
      .Add("inclusion_p99_us", p.inclusion.PercentileUs(0.99))
      .Add("consistency_p50_us", p.consistency.PercentileUs(0.5))
      .Add("consistency_p99_us", p.consistency.PercentileUs(0.99))
      .Add("both_p50_us", p.both.PercentileUs(0.5))
      .Add("both_p99_us", p.both.PercentileUs(0.99))
      .Add("one_read_p50_us", p.one_read.PercentileUs(0.5));
  if (o.node.has_value()) SEG_RETURN_IF_ERROR(SampleGrpc(o, j));
  return j.str();
}

}  // namespace segledger::bench
