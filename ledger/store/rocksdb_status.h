// The one adapter from rocksdb::Status to absl::Status (CONVENTIONS.md 2).
// Private to ledger/store. Pure: thread-safe.
#ifndef SEGLEDGER_LEDGER_STORE_ROCKSDB_STATUS_H_
#define SEGLEDGER_LEDGER_STORE_ROCKSDB_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace segledger::store {

// Maps `s` to an absl::Status whose message is "<context>: <rocksdb text>":
//   NotFound -> NOT_FOUND, Corruption -> DATA_LOSS,
//   IOError(NoSpace) -> RESOURCE_EXHAUSTED, other IOError -> UNAVAILABLE,
//   Busy/TimedOut/TryAgain -> UNAVAILABLE, InvalidArgument ->
//   INVALID_ARGUMENT, NotSupported -> UNIMPLEMENTED, Aborted -> ABORTED,
//   anything else -> INTERNAL.
absl::Status FromRocksDbStatus(const rocksdb::Status& s,
                               absl::string_view context);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_ROCKSDB_STATUS_H_
