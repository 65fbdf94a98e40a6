// A KvStore that passes every call to another store. The tests' fault and
// hold decorators derive from it and override only the calls they change
// (a failing Write, a held Scan, ...). Thread-safe if the base is.
#ifndef SEGLEDGER_TESTS_SUPPORT_FORWARDING_KV_H_
#define SEGLEDGER_TESTS_SUPPORT_FORWARDING_KV_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/store/kv.h"

namespace segledger::testing {

class ForwardingKv : public store::KvStore {
 public:
  // Owns `base`.
  explicit ForwardingKv(std::unique_ptr<store::KvStore> base)
      : owned_(std::move(base)), base_(owned_.get()) {}
  // Borrows `base`, which must outlive this store.
  explicit ForwardingKv(store::KvStore* base) : base_(base) {}

  absl::StatusOr<std::string> Get(store::Family f,
                                  absl::string_view key) override {
    return base_->Get(f, key);
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      store::Family f, absl::Span<const std::string> keys) override {
    return base_->MultiGet(f, keys);
  }
  absl::Status Write(const store::KvBatch& batch, bool sync) override {
    return base_->Write(batch, sync);
  }
  absl::Status Scan(
      store::Family f, absl::string_view begin, absl::string_view end,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      override {
    return base_->Scan(f, begin, end, fn);
  }
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> Last(
      store::Family f) override {
    return base_->Last(f);
  }
  absl::Status Backup(const std::string& dir) override {
    return base_->Backup(dir);
  }

 protected:
  store::KvStore& base() { return *base_; }

 private:
  std::unique_ptr<store::KvStore> owned_;
  store::KvStore* const base_;
};

}  // namespace segledger::testing

#endif  // SEGLEDGER_TESTS_SUPPORT_FORWARDING_KV_H_
