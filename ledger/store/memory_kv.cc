#include "ledger/store/memory_kv.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/store/column_families.h"

namespace segledger::store {

absl::StatusOr<std::string> MemoryKv::Get(Family f, absl::string_view key) {
  absl::MutexLock lock(&mu_);
  const Map& m = maps_[static_cast<int>(f)];
  auto it = m.find(key);
  if (it == m.end()) {
    return absl::NotFoundError(
        absl::StrCat("key not found in family ", FamilyName(f)));
  }
  return it->second;
}

absl::StatusOr<std::vector<std::optional<std::string>>> MemoryKv::MultiGet(
    Family f, absl::Span<const std::string> keys) {
  absl::MutexLock lock(&mu_);
  const Map& m = maps_[static_cast<int>(f)];
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    auto it = m.find(key);
    if (it == m.end()) {
      out.emplace_back(std::nullopt);
    } else {
      out.emplace_back(it->second);
    }
  }
  return out;
}

absl::Status MemoryKv::Write(const KvBatch& batch, bool sync) {
  absl::MutexLock lock(&mu_);
  if (!sticky_error_.ok()) return sticky_error_;
  if (!next_write_error_.ok()) {
    absl::Status s = std::exchange(next_write_error_, absl::OkStatus());
    if (sync) {
      sticky_error_ = absl::Status(
          s.code(), absl::StrCat("store refuses writes after a failed synced "
                                 "write: ",
                                 s.message()));
    }
    return s;
  }
  for (const KvBatch::Op& op : batch.ops()) {
    Map& m = maps_[static_cast<int>(op.family)];
    if (op.is_delete) {
      m.erase(op.key);
    } else {
      m[op.key] = op.value;
    }
  }
  return absl::OkStatus();
}

absl::Status MemoryKv::Scan(
    Family f, absl::string_view begin, absl::string_view end,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  // Copies the range in small chunks and calls `fn` without the lock, so
  // `fn` may call back into the store and an early stop copies little.
  constexpr size_t kChunk = 64;
  std::string from(begin);
  bool inclusive = true;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> rows;
    {
      absl::MutexLock lock(&mu_);
      const Map& m = maps_[static_cast<int>(f)];
      auto it = inclusive ? m.lower_bound(from) : m.upper_bound(from);
      for (; it != m.end() && (end.empty() || it->first < end) &&
             rows.size() < kChunk;
           ++it) {
        rows.emplace_back(it->first, it->second);
      }
    }
    for (const auto& [key, value] : rows) {
      if (!fn(key, value)) return absl::OkStatus();
    }
    if (rows.size() < kChunk) return absl::OkStatus();
    from = rows.back().first;
    inclusive = false;
  }
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
MemoryKv::Last(Family f) {
  absl::MutexLock lock(&mu_);
  const Map& m = maps_[static_cast<int>(f)];
  if (m.empty()) return std::nullopt;
  return std::make_pair(m.rbegin()->first, m.rbegin()->second);
}

absl::Status MemoryKv::Backup(const std::string& dir) {
  return absl::UnimplementedError(
      absl::StrCat("MemoryKv cannot back up (to ", dir, ")"));
}

void MemoryKv::FailNextWrite(absl::Status status) {
  absl::MutexLock lock(&mu_);
  next_write_error_ = std::move(status);
}

}  // namespace segledger::store
