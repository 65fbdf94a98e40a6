// The Merkle tree recomputed from a log's leaf hashes, kept at the tile
// levels (tree levels 0, 8, 16, ...) so expected hash tiles and any complete
// subtree (RFC 9162) can be produced without trusting the bundle's tiles.
// Leaves may be unknown (a missing or unreadable entry bundle); every node
// above an unknown leaf is unknown.
//
// Thread-compatible: immutable after construction.
#ifndef SEGLEDGER_TOOLS_TREE_LEVELS_H_
#define SEGLEDGER_TOOLS_TREE_LEVELS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/thread_pool.h"
#include "ledger/tiles.h"

namespace segledger::tools {

class TreeLevels {
 public:
  // `known[i]` false marks leaf i unknown. Requires equal sizes. Hashing of
  // the tile levels runs on `pool` when not null.
  TreeLevels(std::vector<Hash> leaves, std::vector<bool> known,
             ThreadPool* pool);

  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // The complete subtree `id` (tree level id.level, index id.index); nullopt
  // when beyond the tree or above an unknown leaf.
  std::optional<Hash> Node(NodeId id) const;
  // RFC 9162 root of the first `size` leaves (size <= size()).
  std::optional<Hash> RootAt(uint64_t size) const;
  // The bytes hash tile `t` must hold; nullopt when unknown.
  std::optional<std::string> ExpectedTile(const TileId& t) const;

 private:
  // levels_[L][i]: tree level 8L node i; known_[L][i] says if it is known.
  std::vector<std::vector<Hash>> levels_;
  std::vector<std::vector<bool>> known_;
};

// A node source backed by hash tiles as served (tlog-tiles clients compute
// proofs this way): tile level L holds tree level 8L; inner levels are
// folded from them.
class TileNodeSource {
 public:
  // `tile_bytes(tile)` returns the tile's bytes or nullopt when missing.
  using TileLookup =
      std::function<std::optional<std::string>(const TileId& tile)>;
  TileNodeSource(uint64_t size, TileLookup lookup)
      : size_(size), lookup_(std::move(lookup)) {}
  // The complete subtree `id` of a tree of `size` leaves from tiles for that
  // size; nullopt when a tile is missing or short.
  std::optional<Hash> Node(NodeId id) const;

 private:
  uint64_t size_;
  TileLookup lookup_;
};

// Folds 2^k consecutive hashes of one level into their subtree root.
Hash FoldPerfect(const Hash* hashes, size_t count);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_TREE_LEVELS_H_
