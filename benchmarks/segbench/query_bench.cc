#include "benchmarks/segbench/query_bench.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmarks/domain_load.h"
#include "benchmarks/segbench/stats.h"
#include "ledger/domain/hook.h"
#include "ledger/domain/store_queries.h"
#include "ledger/ed25519.h"
#include "ledger/status_macros.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"

namespace segledger::bench {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlocksPerRequest = 64;  // 448 records per synced request
constexpr int kBuildThreads = 2;

struct BuildFigures {
  bool reused = false;
  double seconds = 0;
  double records_per_s = 0;
};

uint64_t BlocksFor(uint64_t records) {
  return (records + kRecordsPerBlock - 1) / kRecordsPerBlock;
}

// Appends every block through a LogStore with the DomainHook: two threads,
// each sending requests of whole blocks (a block's records stay in order in
// one request, so every one is accepted).
absl::StatusOr<BuildFigures> Build(DomainSite& site, const std::string& path,
                                   uint64_t blocks) {
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                       store::RocksDbKv::Open(path));
  SEG_ASSIGN_OR_RETURN(std::shared_ptr<const Ed25519Signer> key,
                       Ed25519Signer::Generate());
  domain::DomainHook hook(site.HookConfig());
  store::LogStoreOptions so;
  so.origin = site.origin;
  so.hook = &hook;
  SEG_ASSIGN_OR_RETURN(
      std::unique_ptr<store::LogStore> log,
      store::LogStore::Open(
          std::move(kv), {std::make_shared<const NoteSigner>("k1", key)}, so));
  SEG_RETURN_IF_ERROR(log->Append(site.setup).status());

  // The chain's record builders are not thread-safe: one mutex around
  // generation, appends run unlocked.
  absl::Mutex gen_mu;
  std::atomic<uint64_t> next_block{0};
  absl::Mutex err_mu;
  absl::Status first_error;
  const absl::Time start = absl::Now();
  auto work = [&] {
    for (;;) {
      const uint64_t k0 = next_block.fetch_add(kBlocksPerRequest);
      if (k0 >= blocks) return;
      std::vector<store::AppendRecord> request;
      {
        absl::MutexLock l(&gen_mu);
        for (uint64_t k = k0; k < std::min(blocks, k0 + kBlocksPerRequest);
             ++k) {
          for (v1::Record& r : DomainBlock(site.chain, k)) {
            request.push_back(ToAppendRecord(std::move(r), ""));
          }
        }
      }
      auto res = log->Append(std::move(request));
      if (!res.ok()) {
        absl::MutexLock l(&err_mu);
        if (first_error.ok()) first_error = res.status();
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kBuildThreads; ++i) threads.emplace_back(work);
  for (auto& th : threads) th.join();
  SEG_RETURN_IF_ERROR(first_error);
  SEG_RETURN_IF_ERROR(log->Close());
  BuildFigures f;
  f.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  f.records_per_s = static_cast<double>(blocks * kRecordsPerBlock) / f.seconds;
  return f;
}

struct QueryLatency {
  LatencyRecorder timeline, backward, forward, one_read;
  uint64_t n = 0;
  double timeline_items = 0, backward_records = 0, forward_records = 0;
};

absl::Status Expect(bool ok, absl::string_view what, uint64_t block) {
  if (ok) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("wrong ", what, " for block ", block));
}

// Random lots of the store, bounded in count and time; every answer checked.
absl::StatusOr<QueryLatency> Sample(store::KvStore& kv,
                                    const std::string& origin, uint64_t blocks,
                                    uint64_t entries,
                                    const QueryBenchOptions& o) {
  QueryLatency q;
  std::mt19937_64 rng(7);
  const absl::Time deadline = absl::Now() + o.max_time;
  for (; q.n < o.samples && absl::Now() < deadline; ++q.n) {
    const uint64_t k = rng() % blocks;
    const std::string tag = std::to_string(k);
    const std::string h = HarvestLot(tag), a = VialLot(tag);

    absl::Time t0 = absl::Now();
    domain::DomainGraph g1;
    SEG_RETURN_IF_ERROR(
        domain::LoadLotEntries(kv, origin, h, domain::LoadScope::kLot, &g1));
    auto timeline = g1.Timeline(h);
    absl::Time t1 = absl::Now();
    // H's own records: made by the transform, QC, release, dispatch.
    SEG_RETURN_IF_ERROR(Expect(timeline.size() >= 4, "timeline", k));

    domain::DomainGraph g2;
    SEG_RETURN_IF_ERROR(domain::LoadLotEntries(
        kv, origin, h, domain::LoadScope::kBackward, &g2));
    domain::TraceResult back = g2.Backward(h);
    absl::Time t2 = absl::Now();
    SEG_RETURN_IF_ERROR(Expect(back.lots.size() == 2, "backward trace", k));

    domain::DomainGraph g3;
    SEG_RETURN_IF_ERROR(domain::LoadLotEntries(
        kv, origin, a, domain::LoadScope::kForward, &g3));
    domain::TraceResult fwd = g3.Forward(a);
    absl::Time t3 = absl::Now();
    SEG_RETURN_IF_ERROR(
        Expect(fwd.lots.size() == 2 && fwd.in_transit.size() == 1,
               "forward trace", k));

    SEG_RETURN_IF_ERROR(
        kv.Get(store::Family::kEntries, store::EntryKey(rng() % entries))
            .status());
    absl::Time t4 = absl::Now();

    q.timeline.Record(t1 - t0);
    q.backward.Record(t2 - t1);
    q.forward.Record(t3 - t2);
    q.one_read.Record(t4 - t3);
    q.timeline_items += timeline.size();
    q.backward_records += back.records.size();
    q.forward_records += fwd.records.size();
  }
  return q;
}

void AddLatency(JsonLine& j, const std::string& name, LatencyRecorder& r) {
  j.Add(name + "_p50_us", r.PercentileUs(0.5))
      .Add(name + "_p95_us", r.PercentileUs(0.95))
      .Add(name + "_p99_us", r.PercentileUs(0.99));
}

}  // namespace

absl::StatusOr<std::string> RunQueryBench(const QueryBenchOptions& o) {
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<DomainSite> site, MakeDomainSite());
  const uint64_t blocks = BlocksFor(o.records);
  const uint64_t entries = site->setup.size() + blocks * kRecordsPerBlock;
  const fs::path path = fs::path(o.dir) / "query-store";
  const fs::path done = fs::path(o.dir) / "query-store.records";
  std::error_code ec;
  fs::create_directories(o.dir, ec);

  BuildFigures build;
  uint64_t have = 0;
  if (std::ifstream in(done); in >> have && have == entries) {
    build.reused = true;
  } else {
    fs::remove_all(path, ec);
    fs::remove(done, ec);
    // RocksDB logs an error opening a new store whose directory is missing.
    fs::create_directories(path, ec);
    SEG_ASSIGN_OR_RETURN(build, Build(*site, path.string(), blocks));
    std::ofstream(done) << entries << "\n";
  }

  const absl::Time open_start = absl::Now();
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                       store::RocksDbKv::Open(path.string()));
  const double open_s = absl::ToDoubleSeconds(absl::Now() - open_start);
  const absl::Duration cpu0 = ProcessCpuTime();
  const absl::Time t0 = absl::Now();
  SEG_ASSIGN_OR_RETURN(QueryLatency q,
                       Sample(*kv, site->origin, blocks, entries, o));
  const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  const double cpu = absl::ToDoubleSeconds(ProcessCpuTime() - cpu0);
  kv.reset();
  if (!o.keep) {
    fs::remove_all(path, ec);
    fs::remove(done, ec);
  }

  const double n = q.n ? static_cast<double>(q.n) : 1;
  JsonLine j;
  j.Add("records", entries)
      .Add("store_reused", build.reused ? 1 : 0)
      .Add("build_s", build.seconds)
      .Add("build_records_per_s", build.records_per_s)
      .Add("open_s", open_s)
      .Add("samples", q.n);
  AddLatency(j, "timeline", q.timeline);
  AddLatency(j, "backward", q.backward);
  AddLatency(j, "forward", q.forward);
  AddLatency(j, "one_read", q.one_read);
  j.Add("timeline_items_mean", q.timeline_items / n)
      .Add("backward_records_mean", q.backward_records / n)
      .Add("forward_records_mean", q.forward_records / n)
      .Add("cpu_cores", secs > 0 ? cpu / secs : 0);
  return j.str();
}

}  // namespace segledger::bench
