// libFuzzer target: domain record validation and the GMP rules. The input
// is an archive (fuzz_common.h) whose files, in path order, are serialized
// Records; each is validated (ValidateRecord, HeaderOf, RecordKindName) and
// appended through DomainHook::OnAppend over an in-memory index, so the
// rules see the state earlier records built.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "ledger/domain/hook.h"
#include "ledger/domain/validate.h"
#include "ledger/hash.h"
#include "ledger/store/log_store.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

// IndexTxn over a std::map (the committed state of this run).
class MapTxn final : public segledger::store::IndexTxn {
 public:
  absl::StatusOr<std::string> Get(absl::string_view key) override {
    auto it = rows_.find(key);
    if (it == rows_.end()) return absl::NotFoundError(key);
    return it->second;
  }
  void Put(absl::string_view key, absl::string_view value) override {
    rows_[std::string(key)] = std::string(value);
  }
  void Delete(absl::string_view key) override {
    auto it = rows_.find(key);
    if (it != rows_.end()) rows_.erase(it);
  }
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      override {
    for (auto it = rows_.lower_bound(prefix);
         it != rows_.end() && absl::StartsWith(it->first, prefix); ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }

 private:
  std::map<std::string, std::string, std::less<>> rows_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  const auto files = fuzz::ParseArchive(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  domain::DomainConfig config;
  config.party_id = "party-cmo";
  config.site_id = "site-cmo-1";
  domain::DomainHook hook(config);
  MapTxn txn;
  uint64_t index = 0;
  for (const auto& [name, bytes] : files) {
    v1::EntryBody body;
    if (!body.mutable_record()->ParseFromString(bytes)) continue;
    (void)domain::ValidateRecord(body.record());
    (void)domain::HeaderOf(body.record());
    (void)domain::RecordKindName(body.record());
    body.set_log_origin(std::string(fuzz::kFuzzOrigin));
    body.set_index(index);
    body.set_prev_hash(std::string(HashBytes(kZeroHash)));
    body.mutable_recorded_at()->set_seconds(1700000000 + 3600 * index);
    body.set_key_name("fuzz-a");
    if (hook.OnAppend(body, txn).ok()) ++index;
  }
  return 0;
}
