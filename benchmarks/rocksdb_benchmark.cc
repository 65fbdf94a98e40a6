// The storage ceilings the log store is measured against (BUILD-NOTES.md
// "This machine's ceilings"): a synced RocksDB WriteBatch of N records of
// 512 bytes, and one synced Put per write. Items/s are records made
// durable per second.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace {

// A fresh database in a scratch directory, removed afterwards.
class ScratchDb {
 public:
  ScratchDb() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") +
                       "/segledger-rocksdb-bench-XXXXXX";
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    status_ = rocksdb::DB::Open(options, path_, &raw);
    db_.reset(raw);
  }
  ~ScratchDb() {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  rocksdb::DB* db() { return db_.get(); }
  const rocksdb::Status& status() const { return status_; }

 private:
  std::string path_;
  rocksdb::Status status_;
  std::unique_ptr<rocksdb::DB> db_;
};

std::string Key(uint64_t i) {
  std::string k(8, '\0');
  for (int b = 7; b >= 0; --b, i >>= 8) k[b] = static_cast<char>(i & 0xff);
  return k;
}

void BM_SyncedBatch(benchmark::State& state) {
  ScratchDb scratch;
  if (!scratch.status().ok()) {
    state.SkipWithError(scratch.status().ToString().c_str());
    return;
  }
  const int64_t batch = state.range(0);
  const std::string value(512, 'v');
  rocksdb::WriteOptions wo;
  wo.sync = true;
  uint64_t next = 0;
  for (auto _ : state) {
    rocksdb::WriteBatch wb;
    for (int64_t i = 0; i < batch; ++i) wb.Put(Key(next++), value);
    rocksdb::Status s = scratch.db()->Write(wo, &wb);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_SyncedBatch)->Arg(1)->Arg(64)->Arg(256)->UseRealTime();

}  // namespace
