#include "ledger/store/rocksdb_status.h"

#include "absl/strings/str_cat.h"

namespace segledger::store {
namespace {

absl::StatusCode CodeFor(const rocksdb::Status& s) {
  if (s.IsNotFound()) return absl::StatusCode::kNotFound;
  if (s.IsCorruption()) return absl::StatusCode::kDataLoss;
  if (s.IsNoSpace()) return absl::StatusCode::kResourceExhausted;
  if (s.IsIOError()) return absl::StatusCode::kUnavailable;
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::StatusCode::kUnavailable;
  }
  if (s.IsInvalidArgument()) return absl::StatusCode::kInvalidArgument;
  if (s.IsNotSupported()) return absl::StatusCode::kUnimplemented;
  if (s.IsAborted()) return absl::StatusCode::kAborted;
  return absl::StatusCode::kInternal;
}

}  // namespace

absl::Status FromRocksDbStatus(const rocksdb::Status& s,
                               absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(CodeFor(s), absl::StrCat(context, ": ", s.ToString()));
}

}  // namespace segledger::store
