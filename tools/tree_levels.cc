#include "tools/tree_levels.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace segledger::tools {

Hash FoldPerfect(const Hash* hashes, size_t count) {
  if (count == 1) return hashes[0];
  std::vector<Hash> cur(hashes, hashes + count);
  TreeHasher hasher;  // count - 1 node hashes with one context
  while (cur.size() > 1) {
    for (size_t i = 0; i < cur.size() / 2; ++i) {
      cur[i] = hasher.NodeHash(cur[2 * i], cur[2 * i + 1]);
    }
    cur.resize(cur.size() / 2);
  }
  return cur[0];
}

TreeLevels::TreeLevels(std::vector<Hash> leaves, std::vector<bool> known,
                       ThreadPool* pool) {
  levels_.push_back(std::move(leaves));
  known_.push_back(std::move(known));
  // Tile level L+1 node j = subtree of tile level L nodes [256j, 256j+256).
  while (levels_.back().size() >= kTileWidth) {
    const std::vector<Hash>& below = levels_.back();
    const std::vector<bool>& kb = known_.back();
    size_t n = below.size() / kTileWidth;
    std::vector<Hash> up(n);
    // One byte per node while the workers fill it: std::vector<bool> packs
    // 64 nodes in a word, so two chunks writing neighbouring nodes would
    // race (a read-modify-write that can lose the other's bit).
    std::vector<uint8_t> all_known(n);
    auto work = [&](size_t begin, size_t end) {
      for (size_t j = begin; j < end; ++j) {
        bool all = true;
        for (size_t i = j * kTileWidth; i < (j + 1) * kTileWidth && all; ++i) {
          all = kb[i];
        }
        if (all) up[j] = FoldPerfect(&below[j * kTileWidth], kTileWidth);
        all_known[j] = all ? 1 : 0;
      }
    };
    if (pool != nullptr) {
      pool->ParallelFor(n, 16, work);
    } else {
      work(0, n);
    }
    levels_.push_back(std::move(up));
    known_.emplace_back(all_known.begin(), all_known.end());
  }
}

std::optional<Hash> TreeLevels::Node(NodeId id) const {
  size_t tile_level = id.level / kTileHeight;
  int rest = id.level % kTileHeight;
  if (tile_level >= levels_.size()) return std::nullopt;
  const std::vector<Hash>& lv = levels_[tile_level];
  uint64_t first = id.index << rest, count = uint64_t{1} << rest;
  if (first + count > lv.size()) return std::nullopt;
  for (uint64_t i = first; i < first + count; ++i) {
    if (!known_[tile_level][i]) return std::nullopt;
  }
  return FoldPerfect(&lv[first], count);
}

std::optional<Hash> TreeLevels::RootAt(uint64_t size) const {
  std::vector<Hash> parts;
  for (const NodeId& id : RangeNodes(0, size)) {
    std::optional<Hash> h = Node(id);
    if (!h.has_value()) return std::nullopt;
    parts.push_back(*h);
  }
  return RootFromRangeHashes(parts);
}

std::optional<std::string> TreeLevels::ExpectedTile(const TileId& t) const {
  if (t.level >= levels_.size()) return std::nullopt;
  const std::vector<Hash>& lv = levels_[t.level];
  uint64_t first = t.index * kTileWidth;
  if (first + t.width > lv.size()) return std::nullopt;
  std::string out;
  out.reserve(t.width * kHashSize);
  for (uint64_t i = first; i < first + t.width; ++i) {
    if (!known_[t.level][i]) return std::nullopt;
    out.append(HashBytes(lv[i]).data(), kHashSize);
  }
  return out;
}

std::optional<Hash> TileNodeSource::Node(NodeId id) const {
  size_t tile_level = id.level / kTileHeight;
  int rest = id.level % kTileHeight;
  uint64_t first = id.index << rest, count = uint64_t{1} << rest;
  // Nodes of tree level 8L that are complete at size_.
  uint64_t level_nodes = size_ >> (kTileHeight * tile_level);
  if (first + count > level_nodes) return std::nullopt;
  uint64_t tile_index = first / kTileWidth;
  uint64_t full_tiles = level_nodes / kTileWidth;
  TileId t{static_cast<uint8_t>(tile_level), tile_index,
           static_cast<uint16_t>(tile_index < full_tiles
                                     ? kTileWidth
                                     : level_nodes % kTileWidth)};
  std::optional<std::string> bytes = lookup_(t);
  uint64_t off = first % kTileWidth;
  if (!bytes.has_value() || bytes->size() < (off + count) * kHashSize) {
    return std::nullopt;
  }
  std::vector<Hash> hs(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::copy_n(bytes->data() + (off + i) * kHashSize, kHashSize,
                reinterpret_cast<char*>(hs[i].data()));
  }
  return FoldPerfect(hs.data(), count);
}

}  // namespace segledger::tools
