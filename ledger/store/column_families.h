// RocksDB column-family names of the store, in one place (CONVENTIONS.md 8,
// DESIGN.md "Storage"). The order matches store::Family.
//
// Constants only: thread-safe.
#ifndef SEGLEDGER_LEDGER_STORE_COLUMN_FAMILIES_H_
#define SEGLEDGER_LEDGER_STORE_COLUMN_FAMILIES_H_

#include <array>

#include "absl/strings/string_view.h"
#include "ledger/store/kv.h"

namespace segledger::store {

// Index i holds the name of Family(i).
inline constexpr std::array<absl::string_view, kNumFamilies> kFamilyNames = {
    "entries", "tree", "checkpoints", "peers", "index", "meta"};

static_assert(static_cast<int>(Family::kMeta) == kNumFamilies - 1,
              "kFamilyNames must list every Family in enum order");

inline absl::string_view FamilyName(Family f) {
  return kFamilyNames[static_cast<int>(f)];
}

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_COLUMN_FAMILIES_H_
