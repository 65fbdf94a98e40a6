// TreeCache: an in-memory, bounded, read-through copy of the upper levels of
// a log's Merkle tree (the complete-subtree hashes of the tree family at
// level >= min_level()), so a proof at 10M entries reads only its few
// lowest nodes from RocksDB (docs/scaling.md "Proof reads").
//
// A complete subtree's hash never changes once stored (merkle.h NodeId), so
// a cached hash stays valid for the life of the store; only hashes read
// from the store (for complete nodes inside the log) may be inserted.
//
// Memory: hashes live in per-level arrays of 1,024-slot chunks allocated on
// first use. Level min_level() holds the first Slots() nodes, each level
// above half as many as the one below, so the hashes take at most
// max_bytes (plus a presence bit per slot and the chunk pointers). Nodes
// beyond a level's slots (a log grown far past the size it was opened at)
// are simply not cached.
//
// Thread-safety: Lookup is lock-free (a slot's presence bit is published
// with release after its hash is written, and a hash is never written
// again); Insert serialises on an internal mutex. Warm runs one background
// thread that the destructor stops and joins; the KvStore passed to Warm
// must outlive the cache.
#ifndef SEGLEDGER_LEDGER_STORE_TREE_CACHE_H_
#define SEGLEDGER_LEDGER_STORE_TREE_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "ledger/merkle.h"
#include "ledger/store/kv.h"

namespace segledger::store {

class TreeCache {
 public:
  static constexpr int kMinLevel = 4;  // lowest level ever cached
  static constexpr size_t kChunkSlots = 1024;

  // A cache for a log of `log_size` leaves: min_level() is the lowest level
  // >= kMinLevel whose nodes for `log_size` leaves fit the budget.
  // `max_bytes` == 0 disables it (Lookup always misses).
  TreeCache(uint64_t log_size, size_t max_bytes);
  ~TreeCache();  // stops and joins the Warm thread

  TreeCache(const TreeCache&) = delete;
  TreeCache& operator=(const TreeCache&) = delete;

  int min_level() const { return min_level_; }
  // Slots of level min_level() (0 when disabled).
  uint64_t Slots() const { return slots_; }
  // True when `id` has a slot (it may still be empty).
  bool Covers(const NodeId& id) const;

  // Copies the cached hash of `id` to *out; false on a miss.
  bool Lookup(const NodeId& id, Hash* out) const;
  // Caches `h` as the hash of `id` (read from the store for a complete node
  // inside the log). No effect when `id` has no slot or is cached already.
  void Insert(const NodeId& id, const Hash& h);

  // Bytes allocated for chunks so far.
  size_t BytesAllocated() const;
  // Nodes cached so far.
  uint64_t NodesCached() const {
    return cached_.load(std::memory_order_relaxed);
  }

  // Starts one background thread that reads every covered node of a log of
  // `log_size` leaves from `kv`'s tree family, top level first, and caches
  // it (a read error ends warming; lookups keep working). At most one call.
  void Warm(KvStore* kv, uint64_t log_size);
  // Waits for the Warm thread to finish (returns at once without one).
  void WaitWarm() const;

 private:
  struct Chunk {
    std::array<std::atomic<uint64_t>, kChunkSlots / 64> present{};
    std::array<Hash, kChunkSlots> hashes;
  };
  struct Level {
    uint64_t slots = 0;
    std::unique_ptr<std::atomic<Chunk*>[]> chunks;  // slots / kChunkSlots
  };

  void WarmLoop(KvStore* kv, uint64_t log_size);

  int min_level_ = kMinLevel;
  uint64_t slots_ = 0;
  std::vector<Level> levels_;  // levels_[l - min_level_]
  std::atomic<uint64_t> cached_{0};
  std::atomic<size_t> chunk_count_{0};
  absl::Mutex mu_;  // serialises Insert
  std::atomic<bool> stop_{false};
  bool warming_ = false;  // set by Warm before the thread starts
  absl::Notification warmed_;
  std::thread warm_;
};

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_TREE_CACHE_H_
