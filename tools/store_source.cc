#include "tools/store_source.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/status_macros.h"
#include "ledger/store/key_file.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocksdb_kv.h"
#include "tools/proof_file.h"

namespace segledger::tools {

absl::StatusOr<std::vector<std::string>> StoreExportSource::Checkpoints() {
  std::vector<std::string> notes;
  SEG_RETURN_IF_ERROR(
      store_->ScanCheckpoints([&notes](uint64_t size, absl::string_view note) {
        // The empty tree's checkpoint proves nothing worth exporting.
        if (size > 0) notes.emplace_back(note);
        return true;
      }));
  if (notes.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "log ", store_->origin(), " has no checkpoint of a non-empty tree"));
  }
  return notes;
}

absl::StatusOr<std::string> MakeStoreEntryProof(const store::LogStore& store,
                                                uint64_t index, uint64_t size) {
  std::string note;
  if (size == 0) {
    SEG_ASSIGN_OR_RETURN(note, store.LatestCheckpoint());
    SEG_ASSIGN_OR_RETURN(size, CheckpointNoteSize(note));
  } else {
    SEG_ASSIGN_OR_RETURN(note, store.CheckpointAt(size));
  }
  if (index >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("index ", index, " is not below checkpoint size ", size));
  }
  SEG_ASSIGN_OR_RETURN(v1::SignedEntry entry, store.GetEntry(index));
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                       store.InclusionProof(index, size));
  return MakeEntryProofFile(entry, index, proof, note);
}

absl::StatusOr<OpenedStore> OpenStoreForExport(
    const std::string& db_dir, const std::vector<std::string>& key_files) {
  store::RocksDbKvOptions kvo;
  kvo.create_if_missing = false;
  kvo.read_only = true;  // the node's db/ stays exactly as it left it
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::RocksDbKv> kv,
                       store::RocksDbKv::Open(db_dir, kvo));
  absl::StatusOr<std::string> origin =
      kv->Get(store::Family::kMeta, store::kMetaOrigin);
  if (!origin.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        db_dir, " holds no log (meta origin: ", origin.status().message(),
        ")"));
  }
  std::vector<std::shared_ptr<const NoteSigner>> signers;
  for (const std::string& f : key_files) {
    SEG_ASSIGN_OR_RETURN(std::shared_ptr<const NoteSigner> s,
                         store::ReadKeyFile(f));
    signers.push_back(std::move(s));
  }
  store::LogStoreOptions o;
  o.origin = *origin;
  o.checkpoint_interval = absl::ZeroDuration();
  o.signing_threads = 1;
  OpenedStore out;
  SEG_ASSIGN_OR_RETURN(
      out.store,
      store::LogStore::Open(std::move(kv), std::move(signers), std::move(o)));
  return out;
}

}  // namespace segledger::tools
