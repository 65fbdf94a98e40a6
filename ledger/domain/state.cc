#include "ledger/domain/state.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace segledger::domain {

std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t FromBe64(absl::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < b.size(); ++i) {
    v = (v << 8) | static_cast<uint8_t>(b[i]);
  }
  return v;
}

std::string LotKey(absl::string_view lot) {
  return absl::StrCat("d/lot/", lot);
}
std::string PersonnelPrefix(absl::string_view site) {
  return absl::StrCat("d/pers/", site, "/");
}
std::string PersonnelKey(absl::string_view site, absl::string_view person) {
  return absl::StrCat(PersonnelPrefix(site), person);
}
std::string StaffKey(absl::string_view site) {
  return absl::StrCat("d/staff/", site);
}
std::string RefPrefix(absl::string_view lot) {
  return absl::StrCat("d/ref/", lot, absl::string_view("\0", 1));
}
namespace {

// "<prefix><id>\0<be64 index>" in one allocation (StrCat sizes it first;
// Be64's 8 bytes fit in the small-string buffer).
std::string RunKey(absl::string_view prefix, absl::string_view id,
                   uint64_t index) {
  return absl::StrCat(prefix, id, absl::string_view("\0", 1), Be64(index));
}

}  // namespace

std::string RefKey(absl::string_view lot, uint64_t index) {
  return RunKey("d/ref/", lot, index);
}
std::string TransferRefPrefix(absl::string_view transfer) {
  return absl::StrCat("d/tref/", transfer, absl::string_view("\0", 1));
}
std::string TransferRefKey(absl::string_view transfer, uint64_t index) {
  return RunKey("d/tref/", transfer, index);
}
std::string CorrectionPrefix(uint64_t corrected) {
  return absl::StrCat("d/corr/", Be64(corrected));
}
std::string CorrectionKey(uint64_t corrected, uint64_t correction) {
  return absl::StrCat(CorrectionPrefix(corrected), Be64(correction));
}

std::string QaEntryKey(uint64_t index) {
  return absl::StrCat("d/qa/", Be64(index));
}
std::string QaInEffectKey(absl::string_view lot, char kind) {
  return absl::StrCat("d/qaon/", lot, absl::string_view("\0", 1),
                      absl::string_view(&kind, 1));
}

std::string MadeKey(uint64_t index) {
  return absl::StrCat("d/made/", Be64(index));
}

std::string SentKey(uint64_t index) {
  return absl::StrCat("d/sent/", Be64(index));
}
std::string ReceivedKey(uint64_t index) {
  return absl::StrCat("d/rcvd/", Be64(index));
}
std::string TransformedKey(uint64_t index) {
  return absl::StrCat("d/xf/", Be64(index));
}
std::string WasPrefix(uint64_t index) {
  return absl::StrCat("d/was/", Be64(index));
}
std::string WasKey(uint64_t index, absl::string_view lot) {
  return absl::StrCat(WasPrefix(index), lot);
}
std::string VoidsKey(uint64_t correction) {
  return absl::StrCat("d/voids/", Be64(correction));
}
std::string VoidKey(uint64_t index) {
  return absl::StrCat("d/void/", Be64(index));
}

void WriteRow(store::IndexTxn& txn, absl::string_view key,
              const google::protobuf::Message& m) {
  std::string bytes;
  m.SerializeToString(&bytes);
  txn.Put(key, bytes);
}

absl::StatusOr<std::vector<uint64_t>> LotRefs(store::IndexTxn& txn,
                                              absl::string_view lot) {
  std::vector<uint64_t> out;
  std::string prefix = RefPrefix(lot);
  absl::Status st =
      txn.ScanPrefix(prefix, [&](absl::string_view k, absl::string_view) {
        if (k.size() == prefix.size() + 8) {
          out.push_back(FromBe64(k.substr(prefix.size())));
        }
        return true;
      });
  if (!st.ok()) return st;
  return out;
}

namespace {

absl::StatusOr<bool> VoidedAt(store::IndexTxn& txn, uint64_t index, int depth) {
  // A correction voided in turn voids nothing. Corrections name earlier
  // entries, so this cannot loop; the depth bounds a corrupt store.
  if (depth > 16) return false;
  absl::StatusOr<std::string> list = txn.Get(VoidKey(index));
  if (absl::IsNotFound(list.status())) return false;
  if (!list.ok()) return list.status();
  for (size_t i = 0; i + 8 <= list->size(); i += 8) {
    const uint64_t correction = FromBe64(absl::string_view(*list).substr(i, 8));
    if (correction <= index) {
      return absl::DataLossError(
          absl::StrCat("index row d/void/ of entry ", index, " is corrupt"));
    }
    absl::StatusOr<bool> undone = VoidedAt(txn, correction, depth + 1);
    if (!undone.ok()) return undone.status();
    if (!*undone) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> Voided(store::IndexTxn& txn, uint64_t index) {
  return VoidedAt(txn, index, 0);
}

absl::StatusOr<std::optional<std::pair<std::string, uint64_t>>> UsedSince(
    store::IndexTxn& txn, uint64_t index) {
  std::vector<std::string> lots;
  const std::string prefix = WasPrefix(index);
  absl::Status st =
      txn.ScanPrefix(prefix, [&](absl::string_view k, absl::string_view) {
        lots.emplace_back(k.substr(prefix.size()));
        return true;
      });
  if (!st.ok()) return st;
  return LotsUsedSince(txn, lots, index);
}

std::vector<std::string> OutputLots(const v1::Transformation& t) {
  std::vector<std::string> out;
  for (const auto& o : t.outputs()) out.push_back(o.lot_id());
  return out;
}

absl::StatusOr<std::optional<std::pair<std::string, uint64_t>>> LotsUsedSince(
    store::IndexTxn& txn, const std::vector<std::string>& lots,
    uint64_t index) {
  for (const std::string& lot : lots) {
    absl::StatusOr<std::vector<uint64_t>> refs = LotRefs(txn, lot);
    if (!refs.ok()) return refs.status();
    for (uint64_t ref : *refs) {
      if (ref <= index) continue;
      absl::StatusOr<bool> voided = Voided(txn, ref);
      if (!voided.ok()) return voided.status();
      if (!*voided) return std::make_optional(std::make_pair(lot, ref));
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::string> MemoryIndex::Txn::Get(absl::string_view key) {
  auto it = overlay_.find(std::string(key));
  if (it != overlay_.end()) {
    if (!it->second.has_value()) return absl::NotFoundError(key);
    return *it->second;
  }
  auto b = base_->rows_.find(std::string(key));
  if (b == base_->rows_.end()) return absl::NotFoundError(key);
  return b->second;
}

void MemoryIndex::Txn::Put(absl::string_view key, absl::string_view value) {
  overlay_[std::string(key)] = std::string(value);
}

void MemoryIndex::Txn::Delete(absl::string_view key) {
  overlay_[std::string(key)] = std::nullopt;
}

absl::Status MemoryIndex::Txn::ScanPrefix(
    absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  // Merge of base and overlay in key order.
  std::map<std::string, std::optional<std::string>> merged;
  for (auto it = base_->rows_.lower_bound(std::string(prefix));
       it != base_->rows_.end() && absl::StartsWith(it->first, prefix); ++it) {
    merged[it->first] = it->second;
  }
  for (auto it = overlay_.lower_bound(std::string(prefix));
       it != overlay_.end() && absl::StartsWith(it->first, prefix); ++it) {
    merged[it->first] = it->second;
  }
  for (const auto& [k, v] : merged) {
    if (v.has_value() && !fn(k, *v)) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<Hash> MemoryIndex::Txn::LeafHash(uint64_t index) {
  if (leaves_ == nullptr) return IndexTxn::LeafHash(index);
  return leaves_(index);
}

void MemoryIndex::Txn::Commit() {
  for (auto& [k, v] : overlay_) {
    if (v.has_value()) {
      base_->rows_[k] = *v;
    } else {
      base_->rows_.erase(k);
    }
  }
  overlay_.clear();
}

absl::StatusOr<std::string> KvIndexView::Get(absl::string_view key) {
  return kv_->Get(store::Family::kIndex, key);
}

absl::Status KvIndexView::ScanPrefix(
    absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  // Bounded scan: [prefix, successor(prefix)) so stores that copy the range
  // (MemoryKv) do not copy the rest of the family.
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff)
    end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(end.back() + 1);
  return kv_->Scan(store::Family::kIndex, prefix, end,
                   [&](absl::string_view k, absl::string_view v) {
                     if (!absl::StartsWith(k, prefix)) return false;
                     return fn(k, v);
                   });
}

}  // namespace segledger::domain
