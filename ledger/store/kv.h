// The key-value layer under the log store: column families, atomic batches,
// point and range reads. Two implementations: RocksDB (rocksdb_kv.h) and an
// in-memory map for fast tests (memory_kv.h).
//
// Implementations are thread-safe: reads may run concurrently with one
// writer. Write applies a whole batch atomically or not at all.
#ifndef SEGLEDGER_LEDGER_STORE_KV_H_
#define SEGLEDGER_LEDGER_STORE_KV_H_

#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace segledger::store {

// Column families (DESIGN.md "Storage"). The names are in column_families.h.
enum class Family {
  kEntries = 0,      // be64(index) -> SignedEntry bytes
  kTree = 1,         // level(1) || be64(index) -> 32-byte node hash
  kCheckpoints = 2,  // be64(size) -> signed checkpoint note
  kPeers = 3,        // peer evidence, cosignatures (node layer)
  kIndex = 4,        // request ids, domain state, outbox (see log_store.h)
  kMeta = 5,         // store metadata
};
inline constexpr int kNumFamilies = 6;

// An ordered list of puts and deletes applied atomically by KvStore::Write.
class KvBatch {
 public:
  struct Op {
    Family family;
    bool is_delete;
    std::string key;
    std::string value;
  };
  void Put(Family f, absl::string_view key, absl::string_view value) {
    ops_.push_back(Op{f, false, std::string(key), std::string(value)});
    bytes_ += key.size() + value.size();
  }
  void Delete(Family f, absl::string_view key) {
    ops_.push_back(Op{f, true, std::string(key), std::string()});
    bytes_ += key.size();
  }
  void Append(const KvBatch& other) {
    ops_.insert(ops_.end(), other.ops_.begin(), other.ops_.end());
    bytes_ += other.bytes_;
  }
  // The same, moving `other`'s ops (it is left empty).
  void Append(KvBatch&& other) {
    if (ops_.empty()) {
      ops_ = std::move(other.ops_);
    } else {
      ops_.insert(ops_.end(), std::make_move_iterator(other.ops_.begin()),
                  std::make_move_iterator(other.ops_.end()));
    }
    bytes_ += other.bytes_;
    other.Clear();
  }
  void Clear() {
    ops_.clear();
    bytes_ = 0;
  }
  const std::vector<Op>& ops() const { return ops_; }
  size_t bytes() const { return bytes_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // NOT_FOUND when absent; DATA_LOSS on corruption.
  virtual absl::StatusOr<std::string> Get(Family f, absl::string_view key) = 0;

  // One result per key, nullopt when absent.
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Family f, absl::Span<const std::string> keys) = 0;

  // Applies `batch` atomically. With `sync`, returns only after the batch
  // is durable (fsync of the write-ahead log). RESOURCE_EXHAUSTED when the
  // disk is full. After a failed synced write the store refuses all further
  // writes (LevelDB's rule: the state on disk is no longer known).
  virtual absl::Status Write(const KvBatch& batch, bool sync) = 0;

  // Calls fn(key, value) for keys in [begin, end) in order (end empty: to
  // the end of the family) until fn returns false.
  virtual absl::Status Scan(
      Family f, absl::string_view begin, absl::string_view end,
      const std::function<bool(absl::string_view, absl::string_view)>& fn) = 0;

  // The greatest key of the family and its value; nullopt when empty.
  virtual absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
  Last(Family f) = 0;

  // Writes a consistent online copy of the store to `dir` (which must not
  // exist). UNIMPLEMENTED for stores that cannot.
  virtual absl::Status Backup(const std::string& dir) = 0;
};

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_KV_H_
