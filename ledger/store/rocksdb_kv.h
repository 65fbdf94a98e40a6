// KvStore on RocksDB: one column family per store::Family
// (column_families.h), cross-family atomic WriteBatches, synced writes
// through WriteOptions::sync, online backups through rocksdb::Checkpoint.
//
// Thread-safe (RocksDB's DB is). After a failed synced write every later
// Write fails with that error (LevelDB's rule: the state of the disk is no
// longer known), until the store is reopened.
#ifndef SEGLEDGER_LEDGER_STORE_ROCKSDB_KV_H_
#define SEGLEDGER_LEDGER_STORE_ROCKSDB_KV_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/store/kv.h"

namespace segledger::store {

struct RocksDbKvOptions {
  size_t block_cache_bytes = 16 << 20;   // shared by all families
  size_t write_buffer_bytes = 16 << 20;  // per family memtable
  bool create_if_missing = true;
  // rocksdb::DB::OpenForReadOnly: nothing in the directory is written (no
  // recovery flush of the WAL, no new MANIFEST, OPTIONS or WAL file; the
  // WAL is replayed in memory). The LOCK file is still taken (an fcntl
  // lock, no write), so a store another process holds is UNAVAILABLE as
  // for a read-write open. Never creates the store (create_if_missing is
  // ignored); every family must exist; Write and Backup fail with
  // FAILED_PRECONDITION. For reading a stopped node's store (segaudit
  // export).
  bool read_only = false;
};

class RocksDbKv final : public KvStore {
 public:
  // Opens (or creates) the database in directory `path` with every family
  // of column_families.h. UNAVAILABLE when another process holds it.
  static absl::StatusOr<std::unique_ptr<RocksDbKv>> Open(
      const std::string& path, const RocksDbKvOptions& options = {});

  // Destroys the column-family handles, then the DB.
  ~RocksDbKv() override;

  absl::StatusOr<std::string> Get(Family f, absl::string_view key) override;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Family f, absl::Span<const std::string> keys) override;
  absl::Status Write(const KvBatch& batch, bool sync) override;
  absl::Status Scan(Family f, absl::string_view begin, absl::string_view end,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& fn) override;
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> Last(
      Family f) override;
  // rocksdb::Checkpoint into `dir` (must not exist): hard links of the SST
  // files plus a consistent WAL/manifest copy, taken online.
  absl::Status Backup(const std::string& dir) override;

  const std::string& path() const;

  // Bytes of family `f`'s live SST files (RocksDB's
  // "rocksdb.live-sst-files-size"); 0 if RocksDB does not report it.
  uint64_t LiveSstBytes(Family f) const;

 private:
  struct Impl;
  explicit RocksDbKv(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_ROCKSDB_KV_H_
