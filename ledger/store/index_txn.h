// IndexTxn implementation used by the commit leader (log_store.h): writes go
// to a per-request overlay; reads see that overlay, then the group's
// overlay of earlier accepted requests, then committed kv state.
//
// Thread-compatible: used by the commit leader only.
#ifndef SEGLEDGER_LEDGER_STORE_INDEX_TXN_H_
#define SEGLEDGER_LEDGER_STORE_INDEX_TXN_H_

#include <map>
#include <optional>
#include <string>

#include "ledger/store/kv.h"
#include "ledger/store/log_store.h"

namespace segledger::store {

// Pending index-family writes: key -> value, or nullopt for a delete.
using IndexOverlay =
    std::map<std::string, std::optional<std::string>, std::less<>>;

class OverlayIndexTxn final : public IndexTxn {
 public:
  // `kv` and `parent` (may be null) must outlive the txn; `own` receives
  // the writes.
  OverlayIndexTxn(KvStore& kv, const IndexOverlay* parent, IndexOverlay* own)
      : kv_(kv), parent_(parent), own_(own) {}

  absl::StatusOr<std::string> Get(absl::string_view key) override;
  void Put(absl::string_view key, absl::string_view value) override;
  void Delete(absl::string_view key) override;
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      override;

 private:
  KvStore& kv_;
  const IndexOverlay* parent_;
  IndexOverlay* own_;
};

// Moves every write of `from` into `to` (later writes win).
void MergeOverlay(IndexOverlay& from, IndexOverlay& to);
// Appends the overlay's writes to `batch` in the index family.
void AddOverlayToBatch(const IndexOverlay& overlay, KvBatch& batch);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_INDEX_TXN_H_
