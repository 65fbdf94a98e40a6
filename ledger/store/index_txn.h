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

#include "ledger/store/kv.h"
#include "ledger/store/log_store.h"

namespace segledger::store {

// Pending index-family writes: key -> value, or nullopt for a delete.
using IndexOverlay =
    std::map<std::string, std::optional<std::string>, std::less<>>;

class OverlayIndexTxn final : public IndexTxn {
 public:
  // `kv` and every overlay of `parents` (newest first; later entries are
  // older state) must outlive the txn; `own` receives the writes.
  OverlayIndexTxn(KvStore& kv, std::vector<const IndexOverlay*> parents,
                  IndexOverlay* own)
      : kv_(kv), parents_(std::move(parents)), own_(own) {}

  absl::StatusOr<std::string> Get(absl::string_view key) override;
  void Put(absl::string_view key, absl::string_view value) override;
  void Delete(absl::string_view key) override;
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      override;

 private:
  KvStore& kv_;
  const std::vector<const IndexOverlay*> parents_;
  IndexOverlay* own_;
};

// Moves every write of `from` into `to` (later writes win).
void MergeOverlay(IndexOverlay& from, IndexOverlay& to);
// Appends the overlay's writes to `batch` in the index family.
void AddOverlayToBatch(const IndexOverlay& overlay, KvBatch& batch);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_INDEX_TXN_H_
