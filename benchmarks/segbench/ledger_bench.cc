#include "benchmarks/segbench/ledger_bench.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmarks/segbench/stats.h"
#include "ledger/entry_codec.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/status_macros.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "ledger/thread_pool.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace segledger::bench {
namespace {

constexpr char kOrigin[] = "bench.example/segledger";

// A record of realistic size: a revocation notice with filler text. The
// ledger benchmark measures the envelope pipeline, not domain rules.
v1::Record MakeRecord(size_t payload_bytes, uint64_t n) {
  v1::Record r;
  auto* rev = r.mutable_key_revocation();
  rev->set_key_name("bench-key");
  rev->set_reason(absl::StrCat(n, ":", std::string(payload_bytes, 'x')));
  return r;
}

v1::Actor MakeActor() {
  v1::Actor a;
  a.set_person_id("op-0001");
  a.set_printed_name("Bench Operator");
  a.set_role("operator");
  a.set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
  return a;
}

std::string Be64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

}  // namespace

absl::StatusOr<double> MeasureAppendCeiling(const std::string& dir,
                                            absl::Duration duration,
                                            size_t batch,
                                            size_t payload_bytes) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, dir, &raw);
  if (!s.ok()) return absl::UnavailableError(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  SEG_ASSIGN_OR_RETURN(auto signer, Ed25519Signer::Generate());
  ThreadPool pool(ThreadPool::DefaultWorkers());

  const v1::Actor actor = MakeActor();
  Hash prev = kZeroHash;
  uint64_t index = 0;
  std::vector<std::string> bodies(batch);
  std::vector<std::string> sigs(batch);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + duration;
  while (absl::Now() < deadline) {
    // Chain: each body holds the previous leaf hash, so this is sequential.
    for (size_t i = 0; i < batch; ++i, ++index) {
      v1::EntryBody body;
      body.set_log_origin(kOrigin);
      body.set_index(index);
      body.set_prev_hash(std::string(HashBytes(prev)));
      body.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
      body.set_key_name("bench-key");
      *body.mutable_actor() = actor;
      body.set_request_id(absl::StrCat("c-", index));
      *body.mutable_record() = MakeRecord(payload_bytes, index);
      SEG_ASSIGN_OR_RETURN(bodies[i], SerializeEntryBody(body));
      prev = LeafHash(bodies[i]);
    }
    // Sign on all cores.
    std::atomic<bool> failed{false};
    pool.ParallelFor(batch, 16, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        auto sig = signer->Sign(EntrySigningMessage(bodies[i]));
        if (!sig.ok())
          failed = true;
        else
          sigs[i] = *std::move(sig);
      }
    });
    if (failed) return absl::InternalError("signing failed");
    rocksdb::WriteBatch wb;
    for (size_t i = 0; i < batch; ++i) {
      v1::SignedEntry e;
      e.set_body(bodies[i]);
      e.set_signature(sigs[i]);
      wb.Put(Be64(index - batch + i), e.SerializeAsString());
    }
    s = db->Write(wo, &wb);
    if (!s.ok()) return absl::UnavailableError(s.ToString());
  }
  return static_cast<double>(index) /
         absl::ToDoubleSeconds(absl::Now() - start);
}

absl::StatusOr<std::string> RunLedgerBench(const LedgerBenchOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  const std::string ceiling_dir = options.dir + "/ceiling";
  const std::string store_dir = options.dir + "/store";
  std::filesystem::remove_all(ceiling_dir, ec);
  std::filesystem::remove_all(store_dir, ec);

  double ceiling = 0;
  if (!options.skip_ceiling) {
    SEG_ASSIGN_OR_RETURN(
        ceiling, MeasureAppendCeiling(ceiling_dir, options.ceiling_duration,
                                      256, options.payload_bytes));
    std::filesystem::remove_all(ceiling_dir, ec);
  }

  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                       store::RocksDbKv::Open(store_dir));
  SEG_ASSIGN_OR_RETURN(std::shared_ptr<const Ed25519Signer> key,
                       Ed25519Signer::Generate());
  auto signer = std::make_shared<const NoteSigner>("bench-key", key);
  store::LogStoreOptions so;
  so.origin = kOrigin;
  SEG_ASSIGN_OR_RETURN(auto log,
                       store::LogStore::Open(std::move(kv), {signer}, so));

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> errors{0};
  std::vector<LatencyRecorder> latencies(options.appenders);
  std::vector<std::thread> threads;
  const v1::Actor actor = MakeActor();
  const absl::Duration cpu_start = ProcessCpuTime();
  const absl::Time start = absl::Now();
  for (int t = 0; t < options.appenders; ++t) {
    threads.emplace_back([&, t] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        std::vector<store::AppendRecord> batch;
        for (int i = 0; i < options.records_per_append; ++i, ++n) {
          store::AppendRecord r;
          r.actor = actor;
          r.request_id = absl::StrCat("t", t, "-", n);
          r.record = MakeRecord(options.payload_bytes, n);
          batch.push_back(std::move(r));
        }
        const absl::Time t0 = absl::Now();
        auto res = log->Append(std::move(batch));
        latencies[t].Record(absl::Now() - t0);
        if (res.ok()) {
          records.fetch_add(res->size(), std::memory_order_relaxed);
        } else {
          errors.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(absl::ToChronoSeconds(options.duration));
  stop = true;
  for (auto& th : threads) th.join();
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = absl::ToDoubleSeconds(ProcessCpuTime() - cpu_start);
  SEG_RETURN_IF_ERROR(log->Close());
  log.reset();
  std::filesystem::remove_all(store_dir, ec);

  LatencyRecorder all;
  for (auto& l : latencies) all.Merge(l);
  const double rate = static_cast<double>(records.load()) / secs;
  JsonLine j;
  j.Add("mode", std::string("ledger"))
      .Add("appenders", options.appenders)
      .Add("records_per_append", options.records_per_append)
      .Add("seconds", secs)
      .Add("records", records.load())
      .Add("errors", errors.load())
      .Add("records_per_s", rate)
      .Add("ceiling_records_per_s", ceiling)
      .Add("ratio", ceiling > 0 ? rate / ceiling : 0.0)
      .Add("p50_us", all.PercentileUs(0.50))
      .Add("p95_us", all.PercentileUs(0.95))
      .Add("p99_us", all.PercentileUs(0.99))
      .Add("cpu_cores_used", cpu / secs);
  return j.str();
}

}  // namespace segledger::bench
