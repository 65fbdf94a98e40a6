// The write path of LogStore: LevelDB DBImpl::Write-style group commit in
// a pipeline of three stages (log_store.h).
//
// Stage 1, build: every request becomes a Writer queued under `mu`. The
// front writer leads when no other build runs and fewer than
// kPipelineDepth groups wait for the sync thread: it takes the waiting writers
// behind it (up to max_group_records) off the queue, releases `mu` and builds
// the group (group_build.h) on top of the in-flight groups, then appends it to
// `in_flight` and returns to waiting for its own result.
//
// Stage 2, sign: each accepted entry is handed to the ThreadPool as soon
// as its body is built. The leader does not wait for the signatures (the
// chain links leaf hashes), so the next group is built while this one is
// signed.
//
// Stage 3, sync: the sync thread takes every group in flight, finishes
// their signatures (signing itself alongside the pool), writes them in ONE
// synced batch, publishes the new size and checkpoint to readers, and only
// then marks the groups' writers done (or runs their callbacks). While it
// waits for the fsync, later groups are built and signed.
//
// Failures: a failed synced write fails its first group and sets bg_error:
// its accepted writers, and its refusals after its first request that
// appended (the hook read that request's rows through the group's overlay),
// get the write's status; only the refusals before it, judged on durable
// state, stand. Every later group - in the same write, already built on
// it, or built later - fails as a whole with that status (its refusals and
// replays too: they were decided on a state that never became durable). An
// entry that cannot be signed is a failure of the same kind: the groups
// before it are written, it and everything built on it fail.
//
// Checkpoint, rotation and close writers lead alone and first wait for the
// in-flight list to drain, so they see the durable right edge; a rotation
// keeps `building` until the sync thread installed the new key.
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/store/group_build.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {
namespace {

// Groups built and waiting for the sync thread at most (the groups of the
// write under way not counted). Building is cheap next to signing and the
// fsync, so waiting writers keep forming groups that are signed while the
// previous write runs; the bound keeps overlay lookups (one per group in
// flight) short.
constexpr size_t kPipelineDepth = 8;

void FailAll(const std::vector<Writer*>& group, const absl::Status& s) {
  for (Writer* w : group) {
    w->status = s;
    w->results.clear();
  }
}

// After a durable write: the size, checkpoint and key are published to
// readers (and a rotation's key to later builds).
void Publish(LogStore::Impl& impl, const BuiltGroup& g) {
  impl.size.store(g.range.size(), std::memory_order_release);
  absl::MutexLock lock(&impl.read_mu);
  if (!g.note.empty()) impl.latest_checkpoint = g.note;
  if (g.rotation != nullptr) {
    const std::shared_ptr<const NoteSigner>& next = g.rotation->next_key;
    impl.state.current = next;  // no build runs (see the header comment)
    impl.signers[next->name()] = next;
    impl.verifiers.push_back(next->Verifier());
    impl.current_key_name = next->name();
  }
}

}  // namespace

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

std::vector<Writer*> LogStore::Impl::TakeGroupLocked() {
  std::vector<Writer*> group;
  Writer* front = writers.front();
  group.push_back(front);
  writers.pop_front();
  if (front->kind != Writer::Kind::kRecords) return group;
  size_t records = front->records.size();
  while (!writers.empty()) {
    Writer* w = writers.front();
    if (w->kind != Writer::Kind::kRecords) break;
    if (records + w->records.size() > options.max_group_records) break;
    records += w->records.size();
    group.push_back(w);
    writers.pop_front();
  }
  return group;
}

bool LogStore::Impl::CanLeadLocked(const Writer* w) const {
  return !building && in_flight.size() - syncing < kPipelineDepth &&
         !writers.empty() && writers.front() == w;
}

// Marks sync writers done and runs async writers' callbacks (outside mu).
void LogStore::Impl::FinishLocked(const std::vector<Writer*>& group) {
  std::vector<Writer*> async;
  for (Writer* w : group) {
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

void LogStore::Impl::LeadLocked(Writer* front) {
  std::vector<Writer*> group = TakeGroupLocked();
  building = true;
  if (front->kind != Writer::Kind::kRecords) {
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return in_flight.empty();
    };
    mu.Await(absl::Condition(&drained));
  }
  const absl::Status bg = bg_error;
  if (front->kind == Writer::Kind::kCheckpoint ||
      front->kind == Writer::Kind::kClose) {
    absl::Status fatal;
    if (bg.ok()) {
      mu.Unlock();
      fatal = CommitCheckpoint(front);
      mu.Lock();
    } else {
      front->status = bg;
    }
    if (!fatal.ok() && bg_error.ok()) bg_error = fatal;
    building = false;
    FinishLocked(group);
    return;
  }
  InFlight snapshot(in_flight.begin(), in_flight.end());
  auto g = std::make_shared<BuiltGroup>();
  g->writers = std::move(group);
  if (bg.ok()) {
    mu.Unlock();
    // A failure to sign the due checkpoint fails the group's writers and
    // leaves the right edge unchanged: later groups are unaffected.
    BuildGroup(*this, snapshot, clock->Now(), *g).IgnoreError();
    snapshot.clear();
    mu.Lock();
  } else {
    FailAll(g->writers, bg);
  }
  const bool rotation = front->kind == Writer::Kind::kRotate;
  in_flight.push_back(std::move(g));  // results wait for its synced write
  if (rotation) {
    auto synced = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return in_flight.empty();
    };
    mu.Await(absl::Condition(&synced));
  }
  building = false;
}

absl::Status LogStore::Impl::WriteBuilt(
    const std::vector<std::shared_ptr<BuiltGroup>>& groups,
    const absl::Status& bg) {
  if (!bg.ok()) {
    for (const auto& g : groups) FailAll(g->writers, bg);  // built on a failure
    return absl::OkStatus();
  }
  // Signed entries of every group that has any, in order. A group whose
  // entries cannot be signed is not written, and neither is anything built
  // on it; the groups before it are.
  size_t signed_groups = 0;
  absl::Status fatal;
  for (; signed_groups < groups.size(); ++signed_groups) {
    BuiltGroup& g = *groups[signed_groups];
    if (!g.write) continue;
    fatal = FinishEntries(g);
    if (!fatal.ok()) break;
  }
  KvBatch batch;
  for (size_t i = 0; i < signed_groups; ++i) {
    if (groups[i]->write) batch.Append(std::move(groups[i]->batch));
  }
  absl::Status ws;
  if (!batch.empty()) ws = kv->Write(batch, options.sync);
  if (!ws.ok()) {
    // The batch may be durable after all (kv.h): RotateKey must not read
    // its writer's failure as a refusal.
    for (size_t i = 0; i < signed_groups; ++i) {
      if (!groups[i]->write) continue;
      for (Writer* w : groups[i]->writers) {
        if (w->status.ok()) w->maybe_written = true;
      }
    }
    // Only the first group was built on durable state (the writes before
    // succeeded, or bg would have failed this one whole): its refusals up
    // to its first append stand. Everything after that, and all of the
    // later groups, was decided on this write too.
    FailUnwritten(*groups[0], ws);
    for (size_t i = 1; i < groups.size(); ++i) FailAll(groups[i]->writers, ws);
    return ws;
  }
  for (size_t i = 0; i < signed_groups; ++i) {
    if (groups[i]->write) Publish(*this, *groups[i]);
  }
  if (!fatal.ok()) {
    fatal = absl::Status(fatal.code(), absl::StrCat("signing an entry failed: ",
                                                    fatal.message()));
    FailUnwritten(*groups[signed_groups], fatal);
    for (size_t i = signed_groups + 1; i < groups.size(); ++i) {
      FailAll(groups[i]->writers, fatal);
    }
  }
  return fatal;
}

void LogStore::Impl::SyncerLoop() {
  absl::MutexLock lock(&mu);
  for (;;) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return !in_flight.empty() || sync_stop;
    };
    mu.Await(absl::Condition(&ready));
    if (in_flight.empty()) return;
    // Every group built so far goes into ONE synced write: while one write
    // waits for its fsync, the groups built meanwhile share the next.
    const std::vector<std::shared_ptr<BuiltGroup>> groups(in_flight.begin(),
                                                          in_flight.end());
    const absl::Status bg = bg_error;
    syncing = groups.size();
    mu.Unlock();
    absl::Status fatal = WriteBuilt(groups, bg);
    mu.Lock();
    if (!fatal.ok() && bg_error.ok()) bg_error = fatal;
    // Off the list before any callback runs (FinishLocked releases mu).
    in_flight.erase(in_flight.begin(),
                    in_flight.begin() + static_cast<ptrdiff_t>(groups.size()));
    syncing = 0;
    for (const auto& g : groups) FinishLocked(g->writers);
  }
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
    return w->done || CanLeadLocked(w);
  };
  mu.Await(absl::Condition(&ready));
  if (w->done) return;
  LeadLocked(w);
  auto done = [w]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return w->done; };
  mu.Await(absl::Condition(&done));
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
      return (!writers.empty() && writers.front()->callback &&
              CanLeadLocked(writers.front())) ||
             (stopping && writers.empty() && !building);
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
  syncer = std::thread([this] { SyncerLoop(); });
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
  {
    absl::MutexLock lock(&mu);
    sync_stop = true;  // after the last build: in_flight drains first
  }
  if (syncer.joinable()) syncer.join();
}

LogStore::Impl::~Impl() { StopThreads(); }

}  // namespace segledger::store
