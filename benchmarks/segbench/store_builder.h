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
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/note.h"
#include "ledger/store/log_store.h"

namespace segledger::bench {

struct BuiltStore {
  std::unique_ptr<store::LogStore> log;      // open, Size() == entries
  std::shared_ptr<const NoteSigner> signer;  // the first of `signers`
  std::vector<std::shared_ptr<const NoteSigner>> signers;
  double build_seconds = 0;  // 0 when nothing was appended
  uint64_t appended = 0;     // entries appended by this call
};

// Creates a new store at `db_dir` (which must not hold one) with `entries`
// entries of ~300-byte bodies and a signed checkpoint at the end.
absl::StatusOr<BuiltStore> BuildStore(const std::string& db_dir,
                                      uint64_t entries);

// Opens the store at `db_dir` (created when empty, e.g. by `segledgerd
// init`) with `signers` and appends builder records until it holds
// `entries` entries, then signs a checkpoint if the log grew. A store that
// already holds `entries` or more is reused as it is (build_seconds 0), so
// a 10M-entry store is built once and reopened by later runs.
absl::StatusOr<BuiltStore> FillStore(
    const std::string& db_dir,
    std::vector<std::shared_ptr<const NoteSigner>> signers,
    const std::string& origin, uint64_t entries);

// Every "*.key" file in `key_dir` (store/key_file.h), sorted by name.
absl::StatusOr<std::vector<std::shared_ptr<const NoteSigner>>> ReadKeyDir(
    const std::string& key_dir);

// The origin of BuildStore's logs.
inline constexpr char kBuilderOrigin[] = "bench.example/segledger-scale";

// LogStoreOptions used by BuildStore (and to reopen its stores).
store::LogStoreOptions BuilderOptions(
    const std::string& origin = kBuilderOrigin);

// Bytes of every file under `dir` (0 when it does not exist).
uint64_t DiskBytes(const std::string& dir);

}  // namespace segledger::bench

#endif  // SEGLEDGER_BENCHMARKS_SEGBENCH_STORE_BUILDER_H_
