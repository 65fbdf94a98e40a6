#include "ledger/store/tree_cache.h"

#include <algorithm>
#include <cstring>

#include "ledger/store/keys.h"

namespace segledger::store {
namespace {

constexpr int kMaxLevel = 63;

uint64_t CeilShift(uint64_t v, int k) {
  if (k >= 64) return v > 0 ? 1 : 0;
  return (v >> k) + ((v & ((uint64_t{1} << k) - 1)) != 0 ? 1 : 0);
}

}  // namespace

TreeCache::TreeCache(uint64_t log_size, size_t max_bytes) {
  // Level min_level_ gets slots_, level min_level_ + k about slots_ >> k:
  // together at most 2 * slots_ (+ one per level) hashes.
  slots_ = max_bytes / (2 * kHashSize);
  if (slots_ == 0) return;
  while (min_level_ < kMaxLevel && (log_size >> min_level_) > slots_) {
    ++min_level_;
  }
  for (int l = min_level_; l <= kMaxLevel; ++l) {
    Level level;
    level.slots = CeilShift(slots_, l - min_level_);
    const uint64_t chunks = CeilShift(level.slots, 10);
    static_assert(kChunkSlots == 1024, "CeilShift(.., 10) divides by 1024");
    level.chunks = std::make_unique<std::atomic<Chunk*>[]>(chunks);
    for (uint64_t c = 0; c < chunks; ++c) level.chunks[c].store(nullptr);
    levels_.push_back(std::move(level));
  }
}

TreeCache::~TreeCache() {
  stop_.store(true, std::memory_order_relaxed);
  if (warm_.joinable()) warm_.join();
  for (Level& level : levels_) {
    const uint64_t chunks = CeilShift(level.slots, 10);
    for (uint64_t c = 0; c < chunks; ++c) delete level.chunks[c].load();
  }
}

bool TreeCache::Covers(const NodeId& id) const {
  if (levels_.empty() || id.level < min_level_ || id.level > kMaxLevel) {
    return false;
  }
  return id.index < levels_[id.level - min_level_].slots;
}

bool TreeCache::Lookup(const NodeId& id, Hash* out) const {
  if (!Covers(id)) return false;
  const Level& level = levels_[id.level - min_level_];
  const Chunk* chunk =
      level.chunks[id.index / kChunkSlots].load(std::memory_order_acquire);
  if (chunk == nullptr) return false;
  const uint64_t slot = id.index % kChunkSlots;
  const uint64_t bits =
      chunk->present[slot / 64].load(std::memory_order_acquire);
  if ((bits & (uint64_t{1} << (slot % 64))) == 0) return false;
  *out = chunk->hashes[slot];
  return true;
}

void TreeCache::Insert(const NodeId& id, const Hash& h) {
  if (!Covers(id)) return;
  Level& level = levels_[id.level - min_level_];
  std::atomic<Chunk*>& ptr = level.chunks[id.index / kChunkSlots];
  absl::MutexLock lock(&mu_);
  Chunk* chunk = ptr.load(std::memory_order_relaxed);
  if (chunk == nullptr) {
    chunk = new Chunk();
    ptr.store(chunk, std::memory_order_release);
    chunk_count_.fetch_add(1, std::memory_order_relaxed);
  }
  const uint64_t slot = id.index % kChunkSlots;
  std::atomic<uint64_t>& word = chunk->present[slot / 64];
  const uint64_t bit = uint64_t{1} << (slot % 64);
  if ((word.load(std::memory_order_relaxed) & bit) != 0) return;
  // The hash is written before the bit is published and never again, so
  // a reader that sees the bit reads a complete, stable hash.
  chunk->hashes[slot] = h;
  word.fetch_or(bit, std::memory_order_release);
  cached_.fetch_add(1, std::memory_order_relaxed);
}

size_t TreeCache::BytesAllocated() const {
  return chunk_count_.load(std::memory_order_relaxed) * sizeof(Chunk);
}

void TreeCache::Warm(KvStore* kv, uint64_t log_size) {
  if (levels_.empty() || warming_) return;
  warming_ = true;
  warm_ = std::thread([this, kv, log_size] {
    WarmLoop(kv, log_size);
    warmed_.Notify();
  });
}

void TreeCache::WaitWarm() const {
  if (warming_) warmed_.WaitForNotification();
}

void TreeCache::WarmLoop(KvStore* kv, uint64_t log_size) {
  // Top levels first: they serve every proof.
  for (int l = kMaxLevel; l >= min_level_; --l) {
    const uint64_t end = std::min(log_size >> l, levels_[l - min_level_].slots);
    if (end == 0) continue;
    const uint8_t lv = static_cast<uint8_t>(l);
    absl::Status s = kv->Scan(
        Family::kTree, TreeKey(NodeId{lv, 0}), TreeKey(NodeId{lv, end}),
        [&](absl::string_view key, absl::string_view value) {
          if (stop_.load(std::memory_order_relaxed)) return false;
          absl::StatusOr<NodeId> id = ParseTreeKey(key);
          if (!id.ok() || id->level != lv || value.size() != kHashSize) {
            return false;  // not cached; proofs read (and report) it
          }
          Hash h;
          std::memcpy(h.data(), value.data(), kHashSize);
          Insert(*id, h);
          return true;
        });
    if (!s.ok() || stop_.load(std::memory_order_relaxed)) return;
  }
}

}  // namespace segledger::store
