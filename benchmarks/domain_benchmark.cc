// Lot queries on a generated single-site log (issue 4 "Performance"):
// custody timeline, backward and forward trace of one lot, each loading
// only the indexed entries from the store (store_queries.h) and running the
// DomainGraph query. Also the per-record cost of DomainHook::OnAppend.
//
// Records: SEGLEDGER_DOMAIN_BENCH_RECORDS (default 20000; set 1000000 for
// the 1M-record figure of the issue). The log is generated through the
// DomainHook (rules on) into an in-memory index, then loaded into a
// store::MemoryKv laid out as the LogStore lays it out (entries family
// be64(index) -> SignedEntry, index family "d/..." rows).
#include <cstdlib>
#include <memory>

#include "benchmark/benchmark.h"
#include "ledger/domain/store_queries.h"
#include "ledger/store/memory_kv.h"
#include "tests/ledger/domain/adc_scenario.h"

namespace segledger::domain {
namespace {

using testing::AdcChain;
using testing::Lot;
using testing::Q;

size_t RecordCount() {
  const char* env = std::getenv("SEGLEDGER_DOMAIN_BENCH_RECORDS");
  long n = env != nullptr ? std::atol(env) : 0;
  return n > 0 ? static_cast<size_t>(n) : 20000;
}

// One block of records around lots A<k> (vials) and H<k> (harvest).
std::vector<v1::Record> Block(AdcChain& c, size_t k) {
  const testing::Party& p = c.up().party();
  const absl::Time t = testing::T(200) + absl::Seconds(60 * k);
  const std::string a = Lot(absl::StrCat("A", k)),
                    h = Lot(absl::StrCat("H", k));
  v1::Quantity vial = Q("1", "H87"), litre = Q("1", "LTR");
  std::vector<v1::Record> out;
  out.push_back(c.Produced(p, a, "cell-bank", testing::Material("mcb"),
                           Q("10", "H87"), t));
  out.push_back(c.Qc(p, a, t, &vial));
  out.push_back(c.Release(p, a, v1::RELEASE_KIND_SITE_RELEASE, t));
  out.push_back(c.Transform(p, "upstream", {{a, Q("5", "H87")}}, h,
                            testing::Material("harvest"), Q("100", "LTR"), t,
                            t + absl::Seconds(10)));
  out.push_back(c.Qc(p, h, t + absl::Seconds(20), &litre));
  out.push_back(
      c.Release(p, h, v1::RELEASE_KIND_SITE_RELEASE, t + absl::Seconds(30)));
  out.push_back(c.Ship(p, c.down().party(), absl::StrCat("X", k), "C", h,
                       Q("50", "LTR"), testing::Range(200, 800),
                       t + absl::Seconds(40), t + absl::Hours(10)));
  return out;
}

struct Fixture {
  AdcChain chain;
  store::MemoryKv kv;
  size_t records = 0;
  size_t blocks = 0;
  double hook_us_per_record = 0;

  Fixture() {
    if (!chain.Build().ok()) std::abort();
    testing::Log& log = chain.up();
    MemoryIndex& index = log.index();
    const size_t want = RecordCount();
    absl::Duration in_hook;
    store::KvBatch batch;
    for (size_t k = 0; log.entries().size() < want; ++k, ++blocks) {
      for (v1::Record& r : Block(chain, k)) {
        v1::EntryBody b = log.NextBody(std::move(r), testing::T(300));
        MemoryIndex::Txn txn(&index);
        absl::Time start = absl::Now();
        if (!log.hook().OnAppend(b, txn).ok()) std::abort();
        in_hook += absl::Now() - start;
        txn.Commit();
        log.Store(std::move(b));
        log.entries().back().parsed.Clear();  // keep memory at 1M records
      }
    }
    records = log.entries().size();
    hook_us_per_record = absl::ToDoubleMicroseconds(in_hook) / records;
    for (size_t i = 0; i < records; ++i) {
      v1::SignedEntry se;
      se.set_body(std::move(log.entries()[i].body));
      se.set_signature(std::string(64, '\0'));  // queries do not verify
      batch.Put(store::Family::kEntries, Be64(i), se.SerializeAsString());
    }
    log.entries().clear();
    for (const auto& [k, v] : index.rows())
      batch.Put(store::Family::kIndex, k, v);
    if (!kv.Write(batch, false).ok()) std::abort();
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

void Report(benchmark::State& state) {
  state.counters["log_records"] = static_cast<double>(F().records);
  state.counters["hook_us_per_record"] = F().hook_us_per_record;
}

void BM_Timeline(benchmark::State& state) {
  Fixture& f = F();
  const std::string lot = Lot(absl::StrCat("H", f.blocks / 2));
  for (auto _ : state) {
    DomainGraph g;
    if (!LoadLotEntries(f.kv, f.chain.up().party().origin, lot, LoadScope::kLot,
                        &g)
             .ok()) {
      state.SkipWithError("load failed");
    }
    auto tl = g.Timeline(lot);
    benchmark::DoNotOptimize(tl);
  }
  Report(state);
}
BENCHMARK(BM_Timeline)->Unit(benchmark::kMicrosecond);

void BM_BackwardTrace(benchmark::State& state) {
  Fixture& f = F();
  const std::string lot = Lot(absl::StrCat("H", f.blocks / 2));
  for (auto _ : state) {
    DomainGraph g;
    if (!LoadLotEntries(f.kv, f.chain.up().party().origin, lot,
                        LoadScope::kBackward, &g)
             .ok()) {
      state.SkipWithError("load failed");
    }
    auto t = g.Backward(lot);
    if (t.lots.size() != 2) state.SkipWithError("wrong trace");
    benchmark::DoNotOptimize(t);
  }
  Report(state);
}
BENCHMARK(BM_BackwardTrace)->Unit(benchmark::kMicrosecond);

void BM_ForwardTrace(benchmark::State& state) {
  Fixture& f = F();
  const std::string lot = Lot(absl::StrCat("A", f.blocks / 2));
  for (auto _ : state) {
    DomainGraph g;
    if (!LoadLotEntries(f.kv, f.chain.up().party().origin, lot,
                        LoadScope::kForward, &g)
             .ok()) {
      state.SkipWithError("load failed");
    }
    auto t = g.Forward(lot);
    if (t.lots.size() != 2 || t.in_transit.size() != 1) {
      state.SkipWithError("wrong trace");
    }
    benchmark::DoNotOptimize(t);
  }
  Report(state);
}
BENCHMARK(BM_ForwardTrace)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace segledger::domain
