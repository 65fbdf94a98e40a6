// An in-memory KvStore: one std::map per column family under a mutex, with
// the same semantics as RocksDbKv (atomic batches, sticky failure after a
// failed synced write) minus durability. For fast tests.
//
// Thread-safe.
#ifndef SEGLEDGER_LEDGER_STORE_MEMORY_KV_H_
#define SEGLEDGER_LEDGER_STORE_MEMORY_KV_H_

#include <array>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "ledger/store/kv.h"

namespace segledger::store {

class MemoryKv final : public KvStore {
 public:
  MemoryKv() = default;

  absl::StatusOr<std::string> Get(Family f, absl::string_view key) override;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Family f, absl::Span<const std::string> keys) override;
  absl::Status Write(const KvBatch& batch, bool sync) override;
  absl::Status Scan(Family f, absl::string_view begin, absl::string_view end,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& fn) override;
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> Last(
      Family f) override;
  // UNIMPLEMENTED: there is nothing on disk to copy.
  absl::Status Backup(const std::string& dir) override;

  // Test hook: the next Write fails with `status` without applying its
  // batch, as a failed fsync would. After a failed synced write every later
  // Write fails (kv.h).
  void FailNextWrite(absl::Status status);

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  absl::Mutex mu_;
  std::array<Map, kNumFamilies> maps_ ABSL_GUARDED_BY(mu_);
  absl::Status next_write_error_ ABSL_GUARDED_BY(mu_);
  absl::Status sticky_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_MEMORY_KV_H_
