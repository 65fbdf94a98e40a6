#include "ledger/store/rocksdb_kv.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ledger/store/column_families.h"
#include "ledger/store/rocksdb_status.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace segledger::store {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}
absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// Insert hints for the memtables (ColumnFamilyOptions::
// memtable_insert_with_hint_prefix_extractor): the skip list remembers
// where the last key of each prefix went, so a key just after it is
// inserted without a search from the top. Only read by inserts; reads,
// iteration and SST files do not depend on it.
//   tree:  the level byte (each level's nodes arrive in index order)
//   index: up to the first NUL byte, the compound rows that grow in order
//          ("<prefix><be64 index>", "d/ref/<lot>\0<be64>"); keys without
//          one (request ids, state rows) take no hint.
class InsertHintPrefix final : public rocksdb::SliceTransform {
 public:
  explicit InsertHintPrefix(Family f) : family_(f) {}
  const char* Name() const override {
    return family_ == Family::kTree ? "segledger.TreeLevelHint"
                                    : "segledger.IndexRunHint";
  }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    if (family_ == Family::kTree) return rocksdb::Slice(key.data(), 1);
    const void* nul = std::memchr(key.data(), '\0', key.size());
    return rocksdb::Slice(
        key.data(),
        static_cast<size_t>(static_cast<const char*>(nul) - key.data()) + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    if (family_ == Family::kTree) return !key.empty();
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }

 private:
  const Family family_;
};

// Options for an append-mostly log: level compaction (the default), a small
// shared block cache, bloom filters where point reads dominate (index for
// request ids and domain rows, tree for proof MultiGets). The WAL stays on:
// synced writes are what makes an acknowledged append durable.
rocksdb::ColumnFamilyOptions FamilyOptions(
    Family f, const RocksDbKvOptions& options,
    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.compaction_style = rocksdb::kCompactionStyleLevel;
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  if (f == Family::kIndex || f == Family::kTree) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (f == Family::kIndex || f == Family::kTree) {
    cf.memtable_insert_with_hint_prefix_extractor =
        std::make_shared<InsertHintPrefix>(f);
  }
  if (f == Family::kIndex) {
    // Most point reads of the index ask for rows that are not there (a
    // new request id, a lot id not yet used): a bloom filter over the
    // memtable's keys answers those without a skip-list search.
    cf.memtable_prefix_bloom_size_ratio = 0.02;
    cf.memtable_whole_key_filtering = true;
  }
  return cf;
}

}  // namespace

struct RocksDbKv::Impl {
  std::string path;
  bool read_only = false;
  rocksdb::FileLock* lock = nullptr;  // read-only opens: the store's LOCK
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // by Family
  absl::Mutex mu;
  absl::Status sticky_error ABSL_GUARDED_BY(mu);

  rocksdb::ColumnFamilyHandle* cf(Family f) {
    return handles[static_cast<int>(f)];
  }
  ~Impl() {
    // Handles must go before the DB (RocksDB asserts otherwise).
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h != nullptr) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    handles.clear();
    if (db != nullptr) db->Close().PermitUncheckedError();
    db.reset();
    if (lock != nullptr) {
      rocksdb::Env::Default()->UnlockFile(lock).PermitUncheckedError();
    }
  }
};

// RocksDB's info log goes to stderr (warnings and errors only), never to a
// LOG file in the data directory: on a full disk that file's writer fails,
// and Debian's librocksdb (built with assertions) then aborts the process on
// the next log line (WritableFileWriter::AssertFalseAndGetStatusForPrevError)
// instead of returning NoSpace. docs/reliability.md "Disk full".
class StderrLogger final : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    std::vsnprintf(line, sizeof(line), format, ap);
    std::fprintf(stderr, "rocksdb: %s\n", line);
  }
};

absl::StatusOr<std::unique_ptr<RocksDbKv>> RocksDbKv::Open(
    const std::string& path, const RocksDbKvOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing =
      options.create_if_missing && !options.read_only;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  db_options.info_log = std::make_shared<StderrLogger>();
  // Recovered WAL data is flushed to SST files at open (RocksDB's default):
  // keeping it in the memtables instead left every crashed session's WAL
  // in place, so after many crashes each open replayed them all (150 WAL
  // files, 13 s per open after 75 kills in scripts/crash-loop.sh). The WAL
  // total is also bounded during long runs.
  db_options.avoid_flush_during_recovery = false;
  db_options.max_total_wal_size = uint64_t{256} << 20;
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (int i = 0; i < kNumFamilies; ++i) {
    const Family f = static_cast<Family>(i);
    families.emplace_back(std::string(FamilyName(f)),
                          FamilyOptions(f, options, cache));
  }
  // RocksDB always has the default family; open it too and drop its handle.
  families.emplace_back(rocksdb::kDefaultColumnFamilyName,
                        rocksdb::ColumnFamilyOptions());
  if (options.create_if_missing && !options.read_only) {
    // RocksDB logs "[ERROR] Error when reading <dir>" on a first open when
    // the directory is missing (it then creates it). One level only, as
    // RocksDB would: a missing parent still fails the open below.
    std::error_code ec;
    std::filesystem::create_directory(path, ec);
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->read_only = options.read_only;
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, path, families, &handles,
                                         &raw)
          : rocksdb::DB::Open(db_options, path, families, &handles, &raw);
  if (!s.ok()) {
    return FromRocksDbStatus(s, absl::StrCat("opening RocksDB at ", path));
  }
  impl->db.reset(raw);
  impl->db->DestroyColumnFamilyHandle(handles.back()).PermitUncheckedError();
  handles.pop_back();
  impl->handles = std::move(handles);
  if (options.read_only) {
    // RocksDB's read-only mode does not lock; take the LOCK file as a
    // read-write open would (it exists: the open found a store), so a store
    // a running node holds is refused rather than read under it.
    s = rocksdb::Env::Default()->LockFile(path + "/LOCK", &impl->lock);
    if (!s.ok()) return FromRocksDbStatus(s, absl::StrCat("locking ", path));
  }
  return std::unique_ptr<RocksDbKv>(new RocksDbKv(std::move(impl)));
}

RocksDbKv::RocksDbKv(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbKv::~RocksDbKv() = default;

const std::string& RocksDbKv::path() const { return impl_->path; }

uint64_t RocksDbKv::LiveSstBytes(Family f) const {
  uint64_t v = 0;
  if (!impl_->db->GetIntProperty(impl_->cf(f), "rocksdb.live-sst-files-size",
                                 &v)) {
    return 0;
  }
  return v;
}

absl::StatusOr<std::string> RocksDbKv::Get(Family f, absl::string_view key) {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(f),
                                     ToSlice(key), &value);
  // The common answer of the index (a new request id, an unused lot id):
  // no message built for it.
  if (s.IsNotFound()) return absl::NotFoundError("key not found");
  if (!s.ok()) {
    return FromRocksDbStatus(s, absl::StrCat("get in family ", FamilyName(f)));
  }
  return value;
}

absl::StatusOr<std::vector<std::optional<std::string>>> RocksDbKv::MultiGet(
    Family f, absl::Span<const std::string> keys) {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& k : keys) slices.emplace_back(k);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  if (!keys.empty()) {
    impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->cf(f), keys.size(),
                        slices.data(), values.data(), statuses.data());
  }
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      return FromRocksDbStatus(
          statuses[i], absl::StrCat("multiget in family ", FamilyName(f)));
    }
    out[i] = values[i].ToString();
  }
  return out;
}

absl::Status RocksDbKv::Write(const KvBatch& batch, bool sync) {
  if (impl_->read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", impl_->path, " is open read-only"));
  }
  // Ops go to RocksDB grouped by family and in key order (stable: a later op
  // on the same key still wins). Each memtable's skip list keeps the
  // position of its last insert, so an insert just after it is cheap and
  // one far away searches from the top: a group's tree nodes come
  // interleaved by level (leaf, parent, leaf, ...), which made every tree
  // insert a full search.
  const std::vector<KvBatch::Op>& ops = batch.ops();
  std::vector<const KvBatch::Op*> order;
  order.reserve(ops.size());
  for (const KvBatch::Op& op : ops) order.push_back(&op);
  std::stable_sort(order.begin(), order.end(),
                   [](const KvBatch::Op* a, const KvBatch::Op* b) {
                     if (a->family != b->family) return a->family < b->family;
                     return a->key < b->key;
                   });
  rocksdb::WriteBatch wb;
  for (const KvBatch::Op* opp : order) {
    const KvBatch::Op& op = *opp;
    rocksdb::Status s =
        op.is_delete
            ? wb.Delete(impl_->cf(op.family), ToSlice(op.key))
            : wb.Put(impl_->cf(op.family), ToSlice(op.key), ToSlice(op.value));
    if (!s.ok()) return FromRocksDbStatus(s, "building write batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  absl::MutexLock lock(&impl_->mu);
  if (!impl_->sticky_error.ok()) return impl_->sticky_error;
  rocksdb::Status s = impl_->db->Write(wo, &wb);
  if (s.ok()) return absl::OkStatus();
  absl::Status err = FromRocksDbStatus(s, "write batch");
  if (sync) {
    impl_->sticky_error = absl::Status(
        err.code(),
        absl::StrCat("store refuses writes after a failed synced write: ",
                     err.message()));
  }
  return err;
}

absl::Status RocksDbKv::Scan(
    Family f, absl::string_view begin, absl::string_view end,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper = ToSlice(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(ro, impl_->cf(f)));
  for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
    if (!fn(ToView(it->key()), ToView(it->value()))) break;
  }
  return FromRocksDbStatus(it->status(),
                           absl::StrCat("scan of family ", FamilyName(f)));
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
RocksDbKv::Last(Family f) {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(f)));
  it->SeekToLast();
  if (!it->Valid()) {
    absl::Status s = FromRocksDbStatus(
        it->status(), absl::StrCat("last of family ", FamilyName(f)));
    if (!s.ok()) return s;
    return std::nullopt;
  }
  return std::make_pair(it->key().ToString(), it->value().ToString());
}

absl::Status RocksDbKv::Backup(const std::string& dir) {
  if (impl_->read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", impl_->path, " is open read-only"));
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return FromRocksDbStatus(s, "creating RocksDB checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  return FromRocksDbStatus(cp->CreateCheckpoint(dir),
                           absl::StrCat("backup to ", dir));
}

}  // namespace segledger::store
