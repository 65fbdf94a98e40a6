// Proof node reads (log_store_impl.h FetchProofNodes): where each of a
// proof's O(log n) complete-subtree hashes comes from.
//
//   level >= tree_cache->min_level()   the in-memory TreeCache (a miss is
//                                      read below and then cached)
//   1 <= level < kHashedLevels         hashed from its 2..8 stored leaves
//   otherwise                          the stored node
//
// A proof's nodes below level 4 are the siblings on one or two leaf paths,
// so their leaves lie in one or two runs of 16 consecutive level-0 keys:
// one or two data blocks, each read with one iterator (a seek and 15
// Next calls cost about two thirds of 15 lookups in one MultiGet, whose
// every key searches the index and data block again). Reading the stored
// level-1..3 nodes instead costs one block in a different part of the key space
// per node (the tree family is ordered by level first). RFC 9162 section 2.1.1
// defines the hash of a complete subtree from its leaves, so both give the same
// bytes in a consistent store.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "ledger/status_macros.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {
namespace {

constexpr uint8_t kHashedLevels = 4;  // levels 1..3 are hashed from leaves

// Root of the complete subtree over `leaves` (a power of two in count).
Hash SubtreeRoot(std::vector<Hash> leaves, TreeHasher& hasher) {
  for (size_t n = leaves.size(); n > 1; n /= 2) {
    for (size_t i = 0; i < n / 2; ++i) {
      leaves[i] = hasher.NodeHash(leaves[2 * i], leaves[2 * i + 1]);
    }
  }
  return leaves[0];
}

}  // namespace

absl::StatusOr<std::vector<Hash>> LogStore::Impl::FetchLeafRuns(
    const std::vector<NodeId>& ids) const {
  // Leaves by aligned run of kRunLeaves; a run with several wanted leaves
  // is read with one iterator (one index and one data-block search, then
  // Next) instead of a search per key.
  constexpr uint64_t kRunLeaves = uint64_t{1} << kHashedLevels;
  std::vector<Hash> out(ids.size());
  absl::flat_hash_map<uint64_t, std::vector<size_t>> runs;  // run -> ids[i]
  std::vector<NodeId> rest;
  std::vector<size_t> rest_pos;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].level == 0) {
      runs[ids[i].index / kRunLeaves].push_back(i);
    } else {
      rest.push_back(ids[i]);
      rest_pos.push_back(i);
    }
  }
  for (auto& [run, members] : runs) {
    if (members.size() < 2) {
      for (size_t i : members) {
        rest.push_back(ids[i]);
        rest_pos.push_back(i);
      }
      continue;
    }
    const uint64_t first = run * kRunLeaves;
    Hash leaves[kRunLeaves];
    uint32_t present = 0;
    absl::Status bad;
    SEG_RETURN_IF_ERROR(kv->Scan(
        Family::kTree, TreeKey(NodeId{0, first}),
        TreeKey(NodeId{0, first + kRunLeaves}),
        [&](absl::string_view key, absl::string_view value) {
          absl::StatusOr<NodeId> id = ParseTreeKey(key);
          if (!id.ok() || id->level != 0 || id->index < first ||
              id->index >= first + kRunLeaves || value.size() != kHashSize) {
            bad = absl::DataLossError(absl::StrCat(
                "tree node in leaf run ", first, "..", first + kRunLeaves - 1,
                " is malformed (key of ", key.size(), " bytes, value of ",
                value.size(), ")"));
            return false;
          }
          const uint64_t k = id->index - first;
          std::copy(value.begin(), value.end(), leaves[k].begin());
          present |= uint32_t{1} << k;
          return true;
        }));
    SEG_RETURN_IF_ERROR(bad);
    for (size_t i : members) {
      const uint64_t k = ids[i].index - first;
      if ((present & (uint32_t{1} << k)) == 0) {
        return absl::DataLossError(absl::StrCat("tree node level 0 index ",
                                                ids[i].index, " is missing"));
      }
      out[i] = leaves[k];
    }
  }
  if (!rest.empty()) {
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> got, FetchNodes(rest));
    for (size_t j = 0; j < rest.size(); ++j) out[rest_pos[j]] = got[j];
  }
  return out;
}

absl::StatusOr<std::vector<Hash>> LogStore::Impl::FetchProofNodes(
    const std::vector<NodeId>& ids, TreeHasher& hasher) const {
  std::vector<Hash> out(ids.size());
  std::vector<NodeId> reads;  // nodes and leaves to read, deduplicated
  absl::flat_hash_map<uint64_t, size_t> leaf_pos;  // leaf index -> reads[i]
  std::vector<std::pair<size_t, size_t>> direct;   // (out index, reads index)
  std::vector<size_t> hashed;                      // out indexes
  for (size_t i = 0; i < ids.size(); ++i) {
    const NodeId& id = ids[i];
    if (tree_cache != nullptr && tree_cache->Lookup(id, &out[i])) continue;
    if (id.level >= 1 && id.level < kHashedLevels) {
      hashed.push_back(i);
      const uint64_t first = id.index << id.level;
      for (uint64_t j = first; j < first + (uint64_t{1} << id.level); ++j) {
        if (leaf_pos.emplace(j, reads.size()).second) {
          reads.push_back(NodeId{0, j});
        }
      }
      continue;
    }
    if (id.level == 0) {
      auto [it, added] = leaf_pos.emplace(id.index, reads.size());
      if (added) reads.push_back(id);
      direct.emplace_back(i, it->second);
      continue;
    }
    direct.emplace_back(i, reads.size());
    reads.push_back(id);
  }
  if (reads.empty()) return out;
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> got, FetchLeafRuns(reads));
  for (const auto& [i, r] : direct) {
    out[i] = got[r];
    if (tree_cache != nullptr) tree_cache->Insert(ids[i], out[i]);
  }
  for (size_t i : hashed) {
    const NodeId& id = ids[i];
    const uint64_t first = id.index << id.level;
    std::vector<Hash> leaves;
    leaves.reserve(size_t{1} << id.level);
    for (uint64_t j = first; j < first + (uint64_t{1} << id.level); ++j) {
      leaves.push_back(got[leaf_pos.at(j)]);
    }
    out[i] = SubtreeRoot(std::move(leaves), hasher);
  }
  return out;
}

LogStore::ProofCacheStats LogStore::WaitProofCacheWarm() const {
  ProofCacheStats stats;
  TreeCache* cache = impl_->tree_cache.get();
  if (cache == nullptr) return stats;
  cache->WaitWarm();
  stats.min_level = cache->min_level();
  stats.nodes = cache->NodesCached();
  stats.bytes = cache->BytesAllocated();
  return stats;
}

}  // namespace segledger::store
