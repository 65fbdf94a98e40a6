#include "ledger/store/index_txn.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ledger/store/keys.h"

namespace segledger::store {
namespace {

// The overlay's value for `key`: nullopt when the overlay says nothing,
// an inner nullopt when it deletes the key.
std::optional<std::optional<std::string>> Lookup(const IndexOverlay* o,
                                                 absl::string_view key) {
  if (o == nullptr) return std::nullopt;
  auto it = o->find(key);
  if (it == o->end()) return std::nullopt;
  return it->second;
}

void ApplyPrefix(const IndexOverlay* o, absl::string_view prefix,
                 std::map<std::string, std::string>& rows) {
  if (o == nullptr) return;
  for (auto it = o->lower_bound(prefix);
       it != o->end() && absl::StartsWith(it->first, prefix); ++it) {
    if (it->second.has_value()) {
      rows[it->first] = *it->second;
    } else {
      rows.erase(it->first);
    }
  }
}

}  // namespace

absl::StatusOr<std::string> OverlayIndexTxn::Get(absl::string_view key) {
  auto hit = Lookup(own_, key);
  for (size_t i = 0; !hit.has_value() && i < parents_.size(); ++i) {
    hit = Lookup(parents_[i], key);
  }
  if (hit.has_value()) {
    if (!hit->has_value()) {
      return absl::NotFoundError("index key deleted earlier in this commit");
    }
    return **hit;
  }
  if (cache_ == nullptr) return kv_.Get(Family::kIndex, key);
  if (const std::optional<std::string>* row = cache_->Find(key)) {
    if (!row->has_value()) {
      return absl::NotFoundError("index key not found");
    }
    return **row;
  }
  absl::StatusOr<std::string> v = kv_.Get(Family::kIndex, key);
  if (v.ok()) {
    cache_->Remember(key, *v);
  } else if (absl::IsNotFound(v.status())) {
    cache_->Remember(key, std::nullopt);
  }
  return v;
}

void OverlayIndexTxn::Put(absl::string_view key, absl::string_view value) {
  (*own_)[std::string(key)] = std::string(value);
}

void OverlayIndexTxn::Delete(absl::string_view key) {
  (*own_)[std::string(key)] = std::nullopt;
}

absl::Status OverlayIndexTxn::ScanPrefix(
    absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  // Merge committed rows with both overlays, then visit in order. Hooks scan
  // small prefixes (one lot, one transfer), so materialising is fine.
  std::map<std::string, std::string> rows;
  absl::Status s = kv_.Scan(Family::kIndex, prefix, PrefixEnd(prefix),
                            [&rows](absl::string_view k, absl::string_view v) {
                              rows.emplace(std::string(k), std::string(v));
                              return true;
                            });
  if (!s.ok()) return s;
  for (auto it = parents_.rbegin(); it != parents_.rend(); ++it) {
    ApplyPrefix(*it, prefix, rows);  // oldest first: newer writes win
  }
  ApplyPrefix(own_, prefix, rows);
  for (const auto& [k, v] : rows) {
    if (!fn(k, v)) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<Hash> OverlayIndexTxn::LeafHash(uint64_t index) {
  if (leaves_ == nullptr) return IndexTxn::LeafHash(index);
  return leaves_(index);
}

const std::optional<std::string>* IndexRowCache::Find(
    absl::string_view key) const {
  auto it = rows_.find(key);
  return it == rows_.end() ? nullptr : &it->second;
}

void IndexRowCache::Remember(absl::string_view key,
                             std::optional<std::string> value) {
  if (rows_.size() >= kMaxRows) rows_.clear();
  rows_.insert_or_assign(std::string(key), std::move(value));
}

void IndexRowCache::Apply(const IndexOverlay& writes) {
  if (rows_.size() + writes.size() > kMaxRows) rows_.clear();
  for (const auto& [k, v] : writes) rows_.insert_or_assign(k, v);
}

void MergeOverlay(IndexOverlay& from, IndexOverlay& to) {
  // Splices the nodes of keys `to` lacks (no copy, no allocation), then
  // lets the later writes of the keys both have win.
  to.merge(from);
  for (auto& [k, v] : from) to.find(k)->second = std::move(v);
  from.clear();
}

void AddOverlayToBatch(const IndexOverlay& overlay, KvBatch& batch) {
  for (const auto& [k, v] : overlay) {
    if (v.has_value()) {
      batch.Put(Family::kIndex, k, *v);
    } else {
      batch.Delete(Family::kIndex, k);
    }
  }
}

}  // namespace segledger::store
