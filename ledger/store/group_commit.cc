// The write path of LogStore: LevelDB DBImpl::Write-style group commit.
//
// Every request becomes a Writer queued under `mu`. The writer at the front
// leads: it takes the waiting writers behind it (up to max_group_records),
// releases `mu`, builds the bodies in index order (chaining prev_hash and
// running the AppendHook one request at a time, so a refused request is
// dropped and later ones renumbered), signs all bodies in parallel, writes
// entries, tree nodes, index rows, a due checkpoint and meta in ONE synced
// batch, then retakes `mu`, fans the results out and pops the group so the
// next front writer leads. A failed synced write fails every later write.
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/status_macros.h"
#include "ledger/store/index_txn.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {
namespace {

constexpr absl::string_view kRotationPrefix = "segledger/v1/key-rotation\n";

struct Pending {
  std::string body;
  Hash leaf{};
  uint64_t index = 0;
  std::string signature;
};

// The group being built: entries [base, base + pending.size()).
struct GroupBuild {
  uint64_t base = 0;
  Hash prev{};
  std::vector<Pending> pending;
  IndexOverlay overlay;
};

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  const int64_t secs = absl::ToUnixSeconds(t);
  ts->set_seconds(secs);
  ts->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(secs)) /
                                     absl::Nanoseconds(1)));
}

absl::Status Prefixed(const absl::Status& s, absl::string_view prefix) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

// The leaf hash of `index`: committed, earlier in the group, or earlier in
// this request (`local`).
absl::StatusOr<Hash> LeafOf(const LogStore::Impl& impl, const GroupBuild& gb,
                            const std::vector<Pending>& local, uint64_t index) {
  if (index < gb.base) {
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> h,
                         impl.FetchNodes({NodeId{0, index}}));
    return h[0];
  }
  uint64_t off = index - gb.base;
  if (off < gb.pending.size()) return gb.pending[off].leaf;
  off -= gb.pending.size();
  if (off < local.size()) return local[off].leaf;
  return absl::DataLossError(
      absl::StrCat("request row points at entry ", index, " beyond size ",
                   gb.base + gb.pending.size() + local.size()));
}

// The body of `rec` at `index` (DESIGN.md "Entry").
v1::EntryBody MakeBody(const std::string& origin, const AppendRecord& rec,
                       uint64_t index, const Hash& prev, absl::Time now,
                       const std::string& key_name) {
  v1::EntryBody body;
  body.set_log_origin(origin);
  body.set_index(index);
  body.set_prev_hash(std::string(HashBytes(prev)));
  SetTimestamp(now, body.mutable_recorded_at());
  body.set_key_name(key_name);
  *body.mutable_actor() = rec.actor;
  body.set_request_id(rec.request_id);
  *body.mutable_record() = rec.record;
  return body;
}

// Builds one request into `gb`, all or nothing (log_store.h AppendHook).
absl::Status BuildRequest(LogStore::Impl& impl, Writer* w, GroupBuild& gb,
                          absl::Time now, const std::string& key_name) {
  if (w->records.empty()) {
    return absl::InvalidArgumentError("append request has no records");
  }
  IndexOverlay own;
  OverlayIndexTxn txn(*impl.kv, &gb.overlay, &own);
  std::vector<Pending> local;
  uint64_t next = gb.base + gb.pending.size();
  Hash prev = gb.prev;
  w->results.assign(w->records.size(), AppendResult{});
  for (size_t i = 0; i < w->records.size(); ++i) {
    const AppendRecord& rec = w->records[i];
    const std::string prefix = absl::StrCat("record ", i, ": ");
    if (!rec.request_id.empty()) {
      absl::StatusOr<std::string> prior = txn.Get(RequestKey(rec.request_id));
      if (prior.ok()) {
        SEG_ASSIGN_OR_RETURN(uint64_t idx, ParseBe64(*prior, "request row"));
        SEG_ASSIGN_OR_RETURN(Hash leaf, LeafOf(impl, gb, local, idx));
        w->results[i] = AppendResult{idx, leaf, true};
        continue;
      }
      if (!absl::IsNotFound(prior.status())) return prior.status();
    }
    const v1::EntryBody body =
        MakeBody(impl.options.origin, rec, next, prev, now, key_name);
    absl::StatusOr<std::string> bytes = SerializeEntryBody(body);
    if (!bytes.ok()) return Prefixed(bytes.status(), prefix);
    if (impl.options.hook != nullptr) {
      absl::Status s = impl.options.hook->OnAppend(body, txn);
      if (!s.ok()) return s;
    }
    const Hash leaf = LeafHash(*bytes);
    if (!rec.request_id.empty())
      txn.Put(RequestKey(rec.request_id), Be64(next));
    w->results[i] = AppendResult{next, leaf, false};
    local.push_back(Pending{*std::move(bytes), leaf, next, {}});
    ++next;
    prev = leaf;
  }
  MergeOverlay(own, gb.overlay);
  for (Pending& p : local) gb.pending.push_back(std::move(p));
  gb.prev = prev;
  return absl::OkStatus();
}

// Fills a rotation writer's record (log_store.h RotateKey, entry.proto
// KeyRotation): the possession signature is by the NEW key.
absl::Status PrepareRotation(LogStore::Impl& impl, Writer* w, absl::Time now) {
  const NoteSigner& old_key = *impl.state.current;
  const NoteSigner& next = *w->next_key;
  for (const NoteVerifier& v : impl.VerifiersCopy()) {
    if (v.name() == next.name()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "key name \"", next.name(), "\" is already used by this log"));
    }
  }
  const Ed25519PublicKey& pub = next.signer().public_key();
  std::string pub_bytes(reinterpret_cast<const char*>(pub.data()), pub.size());
  SEG_ASSIGN_OR_RETURN(
      std::string possession,
      next.signer().Sign(absl::StrCat(kRotationPrefix, old_key.name(), "\n",
                                      next.name(), "\n", pub_bytes)));
  v1::KeyRotation* rot = w->records[0].record.mutable_key_rotation();
  rot->set_old_key_name(old_key.name());
  rot->set_new_key_name(next.name());
  rot->set_new_public_key(pub_bytes);
  SetTimestamp(now, rot->mutable_effective_at());
  rot->set_possession_signature(possession);
  rot->set_reason(w->rotate_reason);
  return absl::OkStatus();
}

// Signs every pending body on all cores.
absl::Status SignAll(ThreadPool& pool, const NoteSigner& signer,
                     std::vector<Pending>& pending) {
  absl::Mutex mu;
  absl::Status first_error;
  pool.ParallelFor(pending.size(), 16, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      absl::StatusOr<std::string> sig =
          signer.signer().Sign(EntrySigningMessage(pending[i].body));
      if (sig.ok()) {
        pending[i].signature = *std::move(sig);
        continue;
      }
      absl::MutexLock lock(&mu);
      if (first_error.ok()) first_error = sig.status();
    }
  });
  return first_error;
}

void FailAccepted(const std::vector<Writer*>& group, const absl::Status& s) {
  for (Writer* w : group) {
    if (!w->status.ok()) continue;
    w->status = s;
    w->results.clear();
  }
}

}  // namespace

namespace {

// Bodies of every writer of the group, in index order.
GroupBuild BuildBodies(LogStore::Impl& impl, const std::vector<Writer*>& group,
                       absl::Time now, const std::string& key_name) {
  GroupBuild gb;
  gb.base = impl.state.range.size();
  gb.prev = impl.state.last_leaf;
  for (Writer* w : group) {
    if (w->kind == Writer::Kind::kRotate) {
      w->status = PrepareRotation(impl, w, now);
      if (!w->status.ok()) continue;
    }
    w->status = BuildRequest(impl, w, gb, now, key_name);
    if (!w->status.ok()) w->results.clear();
  }
  return gb;
}

// Entries and the tree nodes they complete (CompactRange visit: the leaf and
// every completed subtree); `range` advances past them.
void AddEntries(const GroupBuild& gb, CompactRange& range, KvBatch& batch) {
  v1::SignedEntry entry;
  for (const Pending& p : gb.pending) {
    entry.set_body(p.body);
    entry.set_signature(p.signature);
    batch.Put(Family::kEntries, EntryKey(p.index), entry.SerializeAsString());
    range.Append(p.leaf, [&batch](NodeId id, const Hash& h) {
      batch.Put(Family::kTree, TreeKey(id), HashBytes(h));
    });
  }
}

// Signs a checkpoint at range.size() into `note` and `batch` when
// checkpoint_every entries passed since the last one. It is in the same
// batch as the entries it covers, so it never claims a non-durable size.
absl::Status AddDueCheckpoint(const LogStore::Impl& impl,
                              const CompactRange& range,
                              const NoteSigner& signer, KvBatch& batch,
                              std::string& note) {
  const uint64_t every = impl.options.checkpoint_every;
  const uint64_t n = range.size();
  if (every == 0 || n - impl.state.last_checkpoint_size < every) {
    return absl::OkStatus();
  }
  SEG_ASSIGN_OR_RETURN(
      note, SignCheckpoint(Checkpoint{impl.options.origin, n, range.Root(), {}},
                           signer));
  batch.Put(Family::kCheckpoints, CheckpointKey(n), note);
  batch.Put(Family::kMeta, kMetaCheckpointSize, Be64(n));
  batch.Put(Family::kMeta, MetaCheckpointKey(n), "");
  return absl::OkStatus();
}

// After a durable write: the new right edge, checkpoint and key are
// published to later leaders and to readers.
void Publish(LogStore::Impl& impl, CompactRange range, const Hash& last_leaf,
             std::string note, Writer* rotation) {
  const uint64_t n = range.size();
  impl.state.range = std::move(range);
  impl.state.last_leaf = last_leaf;
  impl.size.store(n, std::memory_order_release);
  absl::MutexLock lock(&impl.read_mu);
  if (!note.empty()) {
    impl.state.last_checkpoint_size = n;
    impl.latest_checkpoint = std::move(note);
  }
  if (rotation != nullptr) {
    const std::shared_ptr<const NoteSigner>& next = rotation->next_key;
    impl.state.current = next;
    impl.signers[next->name()] = next;
    impl.verifiers.push_back(next->Verifier());
    impl.current_key_name = next->name();
  }
}

}  // namespace

absl::Status LogStore::Impl::CommitRecords(const std::vector<Writer*>& group) {
  const std::shared_ptr<const NoteSigner> signer = state.current;
  GroupBuild gb = BuildBodies(*this, group, clock->Now(), signer->name());
  if (gb.pending.empty()) return absl::OkStatus();
  KvBatch batch;
  CompactRange range = state.range;
  std::string note;
  absl::Status built = SignAll(*pool, *signer, gb.pending);
  if (built.ok()) {
    AddEntries(gb, range, batch);
    AddOverlayToBatch(gb.overlay, batch);
    built = AddDueCheckpoint(*this, range, *signer, batch, note);
  }
  if (!built.ok()) {
    FailAccepted(group, built);
    return absl::OkStatus();  // nothing written: the log is unchanged
  }
  batch.Put(Family::kMeta, kMetaSize, Be64(range.size()));
  Writer* rotation =
      group[0]->kind == Writer::Kind::kRotate && group[0]->status.ok()
          ? group[0]
          : nullptr;
  if (rotation != nullptr) {
    const NoteSigner& next = *rotation->next_key;
    batch.Put(Family::kMeta, kMetaCurrentKey, next.name());
    batch.Put(Family::kMeta, MetaKeyName(next.name()),
              next.Verifier().VerifierKey());
  }
  absl::Status ws = kv->Write(batch, options.sync);
  if (!ws.ok()) {
    FailAccepted(group, ws);
    return ws;
  }
  Publish(*this, std::move(range), gb.prev, std::move(note), rotation);
  return absl::OkStatus();
}

absl::Status LogStore::Impl::CommitCheckpoint(Writer* w) {
  const uint64_t n = state.range.size();
  if (n > state.last_checkpoint_size) {
    absl::StatusOr<std::string> note = SignCheckpoint(
        Checkpoint{options.origin, n, state.range.Root(), {}}, *state.current);
    if (!note.ok()) {
      w->status = note.status();
      return absl::OkStatus();
    }
    KvBatch batch;
    batch.Put(Family::kCheckpoints, CheckpointKey(n), *note);
    batch.Put(Family::kMeta, kMetaCheckpointSize, Be64(n));
    batch.Put(Family::kMeta, MetaCheckpointKey(n), "");
    absl::Status ws = kv->Write(batch, options.sync);
    if (!ws.ok()) {
      w->status = ws;
      return ws;
    }
    state.last_checkpoint_size = n;
    absl::MutexLock lock(&read_mu);
    latest_checkpoint = *std::move(note);
  }
  absl::MutexLock lock(&read_mu);
  w->checkpoint = latest_checkpoint;
  return absl::OkStatus();
}

std::vector<Writer*> LogStore::Impl::BuildGroupLocked() {
  std::vector<Writer*> group;
  Writer* front = writers.front();
  group.push_back(front);
  if (front->kind != Writer::Kind::kRecords) return group;
  size_t records = front->records.size();
  for (auto it = writers.begin() + 1; it != writers.end(); ++it) {
    Writer* w = *it;
    if (w->kind != Writer::Kind::kRecords) break;
    if (records + w->records.size() > options.max_group_records) break;
    records += w->records.size();
    group.push_back(w);
  }
  return group;
}

void LogStore::Impl::LeadLocked(Writer* front) {
  std::vector<Writer*> group = BuildGroupLocked();
  const absl::Status bg = bg_error;
  mu.Unlock();
  absl::Status fatal;
  if (!bg.ok()) {
    for (Writer* w : group) w->status = bg;
  } else if (front->kind == Writer::Kind::kCheckpoint ||
             front->kind == Writer::Kind::kClose) {
    fatal = CommitCheckpoint(front);
  } else {
    fatal = CommitRecords(group);
  }
  mu.Lock();
  if (!fatal.ok() && bg_error.ok()) bg_error = fatal;
  std::vector<Writer*> async;
  for (Writer* w : group) {
    writers.pop_front();  // the group is the queue's prefix
    if (w->callback) {
      async.push_back(w);
    } else {
      w->done = true;
    }
  }
  if (async.empty()) return;
  mu.Unlock();
  for (Writer* w : async) {
    if (w->status.ok()) {
      w->callback(std::move(w->results));
    } else {
      w->callback(w->status);
    }
    delete w;
  }
  mu.Lock();
}

void LogStore::Impl::Run(Writer* w) {
  absl::MutexLock lock(&mu);
  if (w->kind == Writer::Kind::kClose) {
    if (closed) return;  // already closed: nothing to do
    closed = true;
  } else if (closed) {
    w->status = absl::UnavailableError("log store is closed");
    return;
  }
  writers.push_back(w);
  auto ready = [this, w]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return w->done || writers.front() == w;
  };
  mu.Await(absl::Condition(&ready));
  if (w->done) return;
  LeadLocked(w);
}

void LogStore::Impl::RunAsync(std::unique_ptr<Writer> w) {
  {
    absl::MutexLock lock(&mu);
    if (!closed) {
      writers.push_back(w.release());
      return;
    }
  }
  w->callback(absl::UnavailableError("log store is closed"));
}

void LogStore::Impl::CommitterLoop() {
  absl::MutexLock lock(&mu);
  for (;;) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return (!writers.empty() && writers.front()->callback) ||
             (stopping && writers.empty());
    };
    mu.Await(absl::Condition(&ready));
    if (writers.empty()) return;
    LeadLocked(writers.front());
  }
}

void LogStore::Impl::CheckpointerLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      auto stop = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return stopping; };
      if (mu.AwaitWithTimeout(absl::Condition(&stop),
                              options.checkpoint_interval)) {
        return;
      }
    }
    Writer w;
    w.kind = Writer::Kind::kCheckpoint;
    Run(&w);
  }
}

void LogStore::Impl::StartThreads() {
  committer = std::thread([this] { CommitterLoop(); });
  if (options.checkpoint_interval > absl::ZeroDuration()) {
    checkpointer = std::thread([this] { CheckpointerLoop(); });
  }
}

void LogStore::Impl::StopThreads() {
  {
    absl::MutexLock lock(&mu);
    stopping = true;
  }
  if (checkpointer.joinable()) checkpointer.join();
  if (committer.joinable()) committer.join();
}

LogStore::Impl::~Impl() { StopThreads(); }

}  // namespace segledger::store
