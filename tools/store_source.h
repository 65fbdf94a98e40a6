// LogExportSource over a LogStore (a node's own log), and offline opening
// of a stopped node's data directory for `segaudit export --data DIR`.
//
// Thread-compatible: one writer drives a source at a time; the LogStore
// itself is thread-safe, so a running node may export its live store (the
// export stops at the checkpoints that exist when Checkpoints() is called).
#ifndef SEGLEDGER_TOOLS_STORE_SOURCE_H_
#define SEGLEDGER_TOOLS_STORE_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/store/log_store.h"
#include "tools/bundle_source.h"

namespace segledger::tools {

class StoreExportSource final : public LogExportSource {
 public:
  // `store` is borrowed and must outlive this source. `cosigned` and
  // `evidence` are exported as given (see LogExportSource).
  explicit StoreExportSource(const store::LogStore* store,
                             std::vector<std::string> cosigned = {},
                             std::vector<std::string> evidence = {})
      : store_(store),
        cosigned_(std::move(cosigned)),
        evidence_(std::move(evidence)) {}

  std::string Origin() const override { return store_->origin(); }
  absl::StatusOr<std::vector<std::string>> Checkpoints() override;
  absl::StatusOr<std::string> ReadHashTile(const TileId& t) override {
    return store_->ReadHashTile(t);
  }
  absl::StatusOr<std::string> ReadEntryBundle(const TileId& t) override {
    return store_->ReadEntryBundle(t);
  }
  absl::StatusOr<std::string> ReadSignatureBundle(const TileId& t) override {
    return store_->ReadSignatureBundle(t);
  }
  std::vector<NoteVerifier> Verifiers() override { return store_->Verifiers(); }
  absl::StatusOr<std::vector<std::string>> CosignedCheckpoints() override {
    return cosigned_;
  }
  absl::StatusOr<std::vector<std::string>> PeerEvidence() override {
    return evidence_;
  }

 private:
  const store::LogStore* store_;
  std::vector<std::string> cosigned_;
  std::vector<std::string> evidence_;
};

// A single-entry C2SP tlog-proof file (tools/proof_file.h) for entry
// `index` against the stored checkpoint at `size` (0: the latest
// checkpoint). NOT_FOUND when no checkpoint is stored at that size;
// OUT_OF_RANGE when index >= size. `segctl prove inclusion` writes this.
absl::StatusOr<std::string> MakeStoreEntryProof(const store::LogStore& store,
                                                uint64_t index,
                                                uint64_t size = 0);

// A stopped node's store opened for export: RocksDB at `db_dir` opened
// read-only (RocksDbKvOptions::read_only: no file in `db_dir` is written),
// the log's origin read from the store's meta, signers from `key_files`
// (LogStore requires the current key; nothing is appended and the
// background checkpointer is off).
struct OpenedStore {
  std::unique_ptr<store::LogStore> store;
};
absl::StatusOr<OpenedStore> OpenStoreForExport(
    const std::string& db_dir, const std::vector<std::string>& key_files);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_STORE_SOURCE_H_
