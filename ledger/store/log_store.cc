// LogStore public API: the append entry points (forwarding to the group
// commit in group_commit.cc) and every read: entries, checkpoints, O(log n)
// proofs from stored complete subtrees (merkle.h), tlog-tiles exports.
#include "ledger/store/log_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/merkle.h"
#include "ledger/status_macros.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {

absl::Status AppendHook::Precheck(const AppendRecord&) const {
  return absl::OkStatus();
}

absl::Status WithRecordIndex(const absl::Status& s, size_t i, size_t n) {
  if (s.ok() || n <= 1) return s;
  return absl::Status(s.code(),
                      absl::StrCat("records[", i, "]: ", s.message()));
}

bool RotateKeyWroteNothing(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<Hash> IndexTxn::LeafHash(uint64_t index) {
  return absl::UnimplementedError(absl::StrCat(
      "this index view cannot look up the leaf hash of entry ", index));
}

namespace {

// The hook's stateless checks, in the appending thread (log_store.h).
absl::Status Precheck(const AppendHook* hook,
                      const std::vector<AppendRecord>& records) {
  if (hook == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < records.size(); ++i) {
    absl::Status s = hook->Precheck(records[i]);
    if (!s.ok()) return WithRecordIndex(s, i, records.size());
  }
  return absl::OkStatus();
}

}  // namespace

LogStore::LogStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogStore::~LogStore() = default;

absl::Status LogStore::Close() {
  Writer w;
  w.kind = Writer::Kind::kClose;
  impl_->Run(&w);
  return w.status;
}

absl::StatusOr<std::vector<AppendResult>> LogStore::Append(
    std::vector<AppendRecord> records) {
  SEG_RETURN_IF_ERROR(Precheck(impl_->options.hook, records));
  Writer w;
  w.records = std::move(records);
  impl_->Run(&w);
  if (!w.status.ok()) return w.status;
  return std::move(w.results);
}

void LogStore::AppendAsync(std::vector<AppendRecord> records,
                           AppendCallback done) {
  absl::Status checked = Precheck(impl_->options.hook, records);
  if (!checked.ok()) {
    done(checked);
    return;
  }
  auto w = std::make_unique<Writer>();
  w->records = std::move(records);
  w->callback = std::move(done);
  impl_->RunAsync(std::move(w));
}

absl::StatusOr<AppendResult> LogStore::RotateKey(
    std::shared_ptr<const NoteSigner> next, v1::Actor actor,
    std::string reason) {
  if (next == nullptr) return absl::InvalidArgumentError("RotateKey: no key");
  Writer w;
  w.kind = Writer::Kind::kRotate;
  w.next_key = std::move(next);
  w.rotate_reason = std::move(reason);
  w.records.push_back(AppendRecord{std::move(actor), "", v1::Record()});
  impl_->Run(&w);
  if (w.status.ok()) return w.results.at(0);
  if (w.maybe_written && RotateKeyWroteNothing(w.status)) {
    // A kv may fail a write with any code (RocksDB: INVALID_ARGUMENT): it
    // must not read as a refusal, the rotation may be durable.
    return absl::UnknownError(
        absl::StrCat("the key rotation's synced write failed and it may be "
                     "durable: ",
                     w.status.ToString()));
  }
  return w.status;
}

absl::StatusOr<std::string> LogStore::CheckpointNow() {
  Writer w;
  w.kind = Writer::Kind::kCheckpoint;
  impl_->Run(&w);
  if (!w.status.ok()) return w.status;
  return std::move(w.checkpoint);
}

const std::string& LogStore::origin() const { return impl_->options.origin; }

uint64_t LogStore::Size() const {
  return impl_->size.load(std::memory_order_acquire);
}

absl::StatusOr<std::string> LogStore::LatestCheckpoint() const {
  absl::MutexLock lock(&impl_->read_mu);
  if (impl_->latest_checkpoint.empty()) {
    return absl::NotFoundError("no checkpoint signed yet");
  }
  return impl_->latest_checkpoint;
}

// Checkpoint reads stop at Size(): a group's checkpoint row is in the
// kv as soon as its batch is written, a moment before the store publishes
// the size it covers, and a caller that got that note would then be
// refused a proof or the entries at its size.
absl::StatusOr<std::string> LogStore::CheckpointAt(uint64_t size) const {
  absl::StatusOr<std::string> note =
      size > Size() ? absl::NotFoundError("beyond the log size")
                    : impl_->kv->Get(Family::kCheckpoints, CheckpointKey(size));
  if (absl::IsNotFound(note.status())) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint signed at size ", size));
  }
  return note;
}

absl::Status LogStore::ScanCheckpoints(
    uint64_t from_size,
    const std::function<bool(uint64_t, absl::string_view)>& fn) const {
  const uint64_t log_size = Size();
  if (from_size > log_size) return absl::OkStatus();
  absl::Status inner;
  SEG_RETURN_IF_ERROR(impl_->kv->Scan(
      Family::kCheckpoints, CheckpointKey(from_size),
      log_size == ~uint64_t{0} ? std::string() : CheckpointKey(log_size + 1),
      [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<uint64_t> size = ParseBe64(key, "checkpoint key");
        if (!size.ok()) {
          inner = size.status();
          return false;
        }
        return fn(*size, value);
      }));
  return inner;
}

absl::StatusOr<v1::SignedEntry> LogStore::GetEntry(uint64_t index) const {
  const uint64_t n = Size();
  if (index >= n) {
    return absl::OutOfRangeError(
        absl::StrCat("entry ", index, " is beyond the log size ", n));
  }
  absl::StatusOr<std::string> bytes =
      impl_->kv->Get(Family::kEntries, EntryKey(index));
  if (absl::IsNotFound(bytes.status())) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, " missing below size ", n));
  }
  if (!bytes.ok()) return bytes.status();
  v1::SignedEntry entry;
  if (!entry.ParseFromString(*bytes)) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, " is not a SignedEntry"));
  }
  return entry;
}

absl::Status LogStore::ScanEntries(
    uint64_t from, uint64_t to,
    const std::function<bool(uint64_t, const v1::SignedEntry&)>& fn) const {
  to = std::min(to, Size());
  if (from >= to) return absl::OkStatus();
  absl::Status inner;
  uint64_t expect = from;
  SEG_RETURN_IF_ERROR(impl_->kv->Scan(
      Family::kEntries, EntryKey(from), EntryKey(to),
      [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<uint64_t> index = ParseBe64(key, "entry key");
        v1::SignedEntry entry;
        if (!index.ok() || *index != expect ||
            !entry.ParseFromArray(value.data(),
                                  static_cast<int>(value.size()))) {
          inner = absl::DataLossError(
              absl::StrCat("entry ", expect, " missing or malformed"));
          return false;
        }
        ++expect;
        return fn(*index, entry);
      }));
  return inner;
}

absl::StatusOr<Hash> LogStore::LeafHashAt(uint64_t index) const {
  const uint64_t n = Size();
  if (index >= n) {
    return absl::OutOfRangeError(
        absl::StrCat("leaf ", index, " is beyond the log size ", n));
  }
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> h,
                       impl_->FetchNodes({NodeId{0, index}}));
  return h[0];
}

absl::StatusOr<uint64_t> LogStore::LookupRequest(
    absl::string_view request_id) const {
  absl::StatusOr<std::string> row =
      impl_->kv->Get(Family::kIndex, RequestKey(request_id));
  if (!row.ok()) return row.status();
  return ParseBe64(*row, "request row");
}

absl::StatusOr<std::vector<Hash>> LogStore::Impl::FetchNodes(
    const std::vector<NodeId>& ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const NodeId& id : ids) keys.push_back(TreeKey(id));
  SEG_ASSIGN_OR_RETURN(auto values, kv->MultiGet(Family::kTree, keys));
  std::vector<Hash> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const NodeId& id = ids[i];
    if (!values[i].has_value() || values[i]->size() != kHashSize) {
      return absl::DataLossError(absl::StrCat(
          "tree node level ", id.level, " index ", id.index,
          values[i].has_value() ? " has the wrong length" : " is missing",
          " (entries ", id.index << id.level, "..",
          ((id.index + 1) << id.level) - 1, ")"));
    }
    std::copy(values[i]->begin(), values[i]->end(), out[i].begin());
  }
  return out;
}

absl::StatusOr<Hash> LogStore::Impl::RootAtUnchecked(uint64_t n) const {
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> hashes, FetchNodes(RangeNodes(0, n)));
  return RootFromRangeHashes(hashes);
}

std::vector<NoteVerifier> LogStore::Impl::VerifiersCopy() const {
  absl::MutexLock lock(&read_mu);
  return verifiers;
}

namespace {
absl::Status CheckSize(uint64_t size, uint64_t n) {
  if (size > n) {
    return absl::OutOfRangeError(
        absl::StrCat("tree size ", size, " is beyond the log size ", n));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<Hash> LogStore::RootAt(uint64_t size) const {
  SEG_RETURN_IF_ERROR(CheckSize(size, Size()));
  return impl_->RootAtUnchecked(size);
}

absl::StatusOr<std::vector<Hash>> LogStore::InclusionProof(
    uint64_t index, uint64_t size) const {
  SEG_RETURN_IF_ERROR(CheckSize(size, Size()));
  SEG_ASSIGN_OR_RETURN(ProofNodes nodes, InclusionNodes(index, size));
  TreeHasher hasher;  // the proof's hashing, node reads and rehash
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                       impl_->FetchProofNodes(nodes.ids, hasher));
  return nodes.Rehash(hashes, hasher);
}

absl::StatusOr<std::vector<Hash>> LogStore::ConsistencyProof(
    uint64_t old_size, uint64_t size) const {
  SEG_RETURN_IF_ERROR(CheckSize(size, Size()));
  SEG_ASSIGN_OR_RETURN(ProofNodes nodes, ConsistencyNodes(old_size, size));
  TreeHasher hasher;  // the proof's hashing, node reads and rehash
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                       impl_->FetchProofNodes(nodes.ids, hasher));
  return nodes.Rehash(hashes, hasher);
}

std::vector<NoteVerifier> LogStore::Verifiers() const {
  return impl_->VerifiersCopy();
}

std::string LogStore::CurrentKeyName() const {
  absl::MutexLock lock(&impl_->read_mu);
  return impl_->current_key_name;
}

std::shared_ptr<const NoteSigner> LogStore::CurrentSigner() const {
  absl::MutexLock lock(&impl_->read_mu);
  auto it = impl_->signers.find(impl_->current_key_name);
  return it == impl_->signers.end() ? nullptr : it->second;
}

KvStore& LogStore::kv() { return *impl_->kv; }

}  // namespace segledger::store
