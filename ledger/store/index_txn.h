// IndexTxn implementation used by the commit leader (log_store.h): writes go
// to a per-request overlay; reads see that overlay, then the parents (the
// group's overlay of earlier accepted requests, then the overlays of groups
// built before it whose synced write is still pending, newest first), then
// committed kv state.
//
// Thread-compatible: used by the commit leader only.
#ifndef SEGLEDGER_LEDGER_STORE_INDEX_TXN_H_
#define SEGLEDGER_LEDGER_STORE_INDEX_TXN_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ledger/store/kv.h"
#include "ledger/store/log_store.h"

namespace segledger::store {

// Pending index-family writes: key -> value, or nullopt for a delete.
using IndexOverlay =
    std::map<std::string, std::optional<std::string>, std::less<>>;

// Index rows the build leader read from the kv or wrote in a built group,
// so hot rows (a lot's state, a registration) are read from the kv once
// rather than once per record. Bounded: emptied when it would exceed
// kMaxRows. It may run ahead of the kv by the in-flight groups; that is
// sound because only the build leader writes the index family (log_store.h
// kv()), and a failed synced write fails every later write, so rows that
// never became durable are never read for a commit again.
//
// Thread-compatible: the build leader only.
class IndexRowCache {
 public:
  static constexpr size_t kMaxRows = 1 << 16;

  // The cached row: nullptr when not cached; a pointee of nullopt when the
  // row is known absent.
  const std::optional<std::string>* Find(absl::string_view key) const;
  // `value` nullopt: the row is absent.
  void Remember(absl::string_view key, std::optional<std::string> value);
  // The writes of a built group.
  void Apply(const IndexOverlay& writes);

 private:
  absl::flat_hash_map<std::string, std::optional<std::string>> rows_;
};

class OverlayIndexTxn final : public IndexTxn {
 public:
  // `kv` and every overlay of `parents` (newest first; later entries are
  // older state) must outlive the txn; `own` receives the writes.
  // `cache` (may be null) is read after the overlays and remembers rows
  // read from the kv. `leaves` (may be empty: UNIMPLEMENTED) answers
  // LeafHash.
  OverlayIndexTxn(KvStore& kv, std::vector<const IndexOverlay*> parents,
                  IndexOverlay* own, IndexRowCache* cache = nullptr,
                  LeafLookup leaves = nullptr)
      : kv_(kv),
        parents_(std::move(parents)),
        own_(own),
        cache_(cache),
        leaves_(std::move(leaves)) {}

  absl::StatusOr<std::string> Get(absl::string_view key) override;
  void Put(absl::string_view key, absl::string_view value) override;
  void Delete(absl::string_view key) override;
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      override;
  absl::StatusOr<Hash> LeafHash(uint64_t index) override;

 private:
  KvStore& kv_;
  const std::vector<const IndexOverlay*> parents_;
  IndexOverlay* own_;
  IndexRowCache* cache_;
  const LeafLookup leaves_;
};

// Moves every write of `from` into `to` (later writes win).
void MergeOverlay(IndexOverlay& from, IndexOverlay& to);
// Appends the overlay's writes to `batch` in the index family.
void AddOverlayToBatch(const IndexOverlay& overlay, KvBatch& batch);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_INDEX_TXN_H_
