// LogStore::Open: create a new log or load an existing one (meta, keys, the
// right edge of the tree recomputed from the tree family via RangeNodes),
// then check it (log_store_check.cc) before accepting appends, and start
// warming the proof cache of upper tree levels (tree_cache.h).
#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/status_macros.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {
namespace {

absl::Status RequireEmpty(KvStore& kv, Family f, absl::string_view what) {
  SEG_ASSIGN_OR_RETURN(auto last, kv.Last(f));
  if (last.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "store has no log size in meta but holds ", what, " rows"));
  }
  return absl::OkStatus();
}

// A new log: meta rows and a checkpoint of the empty tree, one synced batch.
absl::Status InitNewLog(LogStore::Impl& impl, const NoteSigner& first) {
  KvStore& kv = *impl.kv;
  SEG_RETURN_IF_ERROR(RequireEmpty(kv, Family::kEntries, "entry"));
  SEG_RETURN_IF_ERROR(RequireEmpty(kv, Family::kTree, "tree"));
  SEG_RETURN_IF_ERROR(RequireEmpty(kv, Family::kCheckpoints, "checkpoint"));
  SEG_ASSIGN_OR_RETURN(
      std::string note,
      SignCheckpoint(Checkpoint{impl.options.origin, 0, Sha256(""), {}},
                     first));
  KvBatch batch;
  batch.Put(Family::kMeta, kMetaOrigin, impl.options.origin);
  batch.Put(Family::kMeta, kMetaCurrentKey, first.name());
  batch.Put(Family::kMeta, MetaKeyName(first.name()),
            first.Verifier().VerifierKey());
  batch.Put(Family::kCheckpoints, CheckpointKey(0), note);
  batch.Put(Family::kMeta, kMetaCheckpointSize, Be64(0));
  batch.Put(Family::kMeta, MetaCheckpointKey(0), "");
  batch.Put(Family::kMeta, kMetaSize, Be64(0));
  return kv.Write(batch, /*sync=*/true);
}

absl::Status LoadKeys(LogStore::Impl& impl) {
  KvStore& kv = *impl.kv;
  SEG_ASSIGN_OR_RETURN(std::string origin, kv.Get(Family::kMeta, kMetaOrigin));
  if (origin != impl.options.origin) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store holds log \"", origin, "\", not \"", impl.options.origin, "\""));
  }
  SEG_ASSIGN_OR_RETURN(std::string current,
                       kv.Get(Family::kMeta, kMetaCurrentKey));
  std::vector<NoteVerifier> verifiers;
  absl::Status bad;
  std::string current_vkey;
  const std::string prefix(kMetaKeyPrefix);
  SEG_RETURN_IF_ERROR(kv.Scan(
      Family::kMeta, prefix, PrefixEnd(prefix),
      [&](absl::string_view key, absl::string_view vkey) {
        absl::StatusOr<NoteVerifier> v = NoteVerifier::FromVerifierKey(vkey);
        if (!v.ok()) {
          bad = absl::DataLossError(
              absl::StrCat("meta ", key, ": ", v.status().message()));
          return false;
        }
        if (v->name() == current) current_vkey = std::string(vkey);
        verifiers.push_back(*std::move(v));
        return true;
      }));
  SEG_RETURN_IF_ERROR(bad);
  auto it = impl.signers.find(current);
  if (it == impl.signers.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the log's current key \"", current, "\" is not among the keys given"));
  }
  if (it->second->Verifier().VerifierKey() != current_vkey) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key \"", current, "\" given does not match the log's public key ",
        current_vkey.empty() ? "(none stored)" : current_vkey));
  }
  impl.state.current = it->second;
  absl::MutexLock lock(&impl.read_mu);
  impl.verifiers = std::move(verifiers);
  impl.current_key_name = current;
  return absl::OkStatus();
}

// The compact range from RangeNodes(0, size) (meta does not store it).
absl::Status LoadRightEdge(LogStore::Impl& impl, uint64_t size) {
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                       impl.FetchNodes(RangeNodes(0, size)));
  SEG_ASSIGN_OR_RETURN(impl.state.range,
                       CompactRange::FromHashes(size, std::move(hashes)));
  if (size > 0) {
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> last,
                         impl.FetchNodes({NodeId{0, size - 1}}));
    impl.state.last_leaf = last[0];
  }
  SEG_ASSIGN_OR_RETURN(auto cp, impl.kv->Last(Family::kCheckpoints));
  if (!cp.has_value()) {
    return absl::DataLossError(
        absl::StrCat("no checkpoint stored for log size ", size));
  }
  SEG_ASSIGN_OR_RETURN(uint64_t cp_size,
                       ParseBe64(cp->first, "checkpoint key"));
  if (cp_size > size) {
    return absl::DataLossError(absl::StrCat("checkpoint at size ", cp_size,
                                            " is beyond the log size ", size));
  }
  // The latest checkpoint must be the one meta recorded with it: a deleted
  // latest row would otherwise go unnoticed (an older one still verifies).
  SEG_ASSIGN_OR_RETURN(std::string meta_cp,
                       impl.kv->Get(Family::kMeta, kMetaCheckpointSize));
  SEG_ASSIGN_OR_RETURN(uint64_t want_size,
                       ParseBe64(meta_cp, "meta checkpoint_size"));
  if (want_size != cp_size) {
    return absl::DataLossError(absl::StrCat("checkpoint at size ", want_size,
                                            " is missing (latest stored is ",
                                            cp_size, ")"));
  }
  impl.state.last_checkpoint_size = cp_size;
  absl::MutexLock lock(&impl.read_mu);
  impl.latest_checkpoint = std::move(cp->second);
  return absl::OkStatus();
}

absl::Status CheckOpenArgs(
    const std::unique_ptr<KvStore>& kv,
    const std::vector<std::shared_ptr<const NoteSigner>>& signers,
    const LogStoreOptions& options) {
  if (kv == nullptr) return absl::InvalidArgumentError("no kv store");
  if (options.origin.empty()) {
    return absl::InvalidArgumentError("LogStoreOptions.origin is empty");
  }
  if (signers.empty()) return absl::InvalidArgumentError("no signing keys");
  for (const auto& s : signers) {
    if (s == nullptr) return absl::InvalidArgumentError("null signing key");
  }
  if (options.max_group_records == 0) {
    return absl::InvalidArgumentError("max_group_records must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::Open(
    std::unique_ptr<KvStore> kv,
    std::vector<std::shared_ptr<const NoteSigner>> signers,
    LogStoreOptions options) {
  SEG_RETURN_IF_ERROR(CheckOpenArgs(kv, signers, options));
  auto impl = std::make_unique<Impl>();
  impl->kv = std::move(kv);
  impl->clock = options.clock != nullptr ? options.clock : SystemClock::Get();
  impl->options = std::move(options);
  for (const auto& s : signers) impl->signers[s->name()] = s;
  // One worker per core by default: the sync thread signs too when it is
  // not waiting for its fsync, the build leader does not sign at all.
  const size_t workers = impl->options.signing_threads > 0
                             ? impl->options.signing_threads - 1
                             : ThreadPool::DefaultWorkers() + 1;
  impl->pool = std::make_unique<ThreadPool>(workers);
  uint64_t size = 0;
  absl::StatusOr<std::string> size_row =
      impl->kv->Get(Family::kMeta, kMetaSize);
  if (absl::IsNotFound(size_row.status())) {
    SEG_RETURN_IF_ERROR(InitNewLog(*impl, *signers[0]));
  } else if (!size_row.ok()) {
    return size_row.status();
  } else {
    SEG_ASSIGN_OR_RETURN(size, ParseBe64(*size_row, "meta size"));
  }
  SEG_RETURN_IF_ERROR(LoadKeys(*impl));
  SEG_RETURN_IF_ERROR(LoadRightEdge(*impl, size));
  SEG_RETURN_IF_ERROR(impl->CheckStore(size));
  // Proofs read their upper levels from memory once warmed; until then (and
  // for nodes the warm-up has not reached) they read through it.
  impl->tree_cache =
      std::make_unique<TreeCache>(size, impl->options.tree_cache_bytes);
  impl->tree_cache->Warm(impl->kv.get(), size);
  impl->size.store(size, std::memory_order_release);
  impl->StartThreads();
  return std::unique_ptr<LogStore>(new LogStore(std::move(impl)));
}

}  // namespace segledger::store
