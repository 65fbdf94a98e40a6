// Builds large LogStores fast for the audit and proof benchmarks: many
// records per Append from a few threads (so signing, chaining and the
// synced batch of consecutive groups overlap), big commit groups, and one
// checkpoint at the end. Every batch is still synced.
//
// Thread-compatible: one build at a time per directory.
#ifndef SEGLEDGER_BENCHMARKS_SEGBENCH_STORE_BUILDER_H_
#define SEGLEDGER_BENCHMARKS_SEGBENCH_STORE_BUILDER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/note.h"
#include "ledger/store/log_store.h"

namespace segledger::bench {

struct BuiltStore {
  std::unique_ptr<store::LogStore> log;  // open, Size() == entries
  std::shared_ptr<const NoteSigner> signer;
  double build_seconds = 0;
};

// Creates a new store at `db_dir` (which must not hold one) with `entries`
// entries of ~300-byte bodies and a signed checkpoint at the end.
absl::StatusOr<BuiltStore> BuildStore(const std::string& db_dir,
                                      uint64_t entries);

// LogStoreOptions used by BuildStore (and to reopen its stores).
store::LogStoreOptions BuilderOptions();

// Bytes of every file under `dir` (0 when it does not exist).
uint64_t DiskBytes(const std::string& dir);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_STORE_BUILDER_H_
