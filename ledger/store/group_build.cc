// Building one commit group (group_build.h): bodies, hook, signatures and
// the synced batch's contents, on top of the in-flight groups.
#include "ledger/store/group_build.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/proto_time.h"
#include "ledger/status_macros.h"
#include "ledger/store/keys.h"

namespace segledger::store {
namespace {

constexpr absl::string_view kRotationPrefix = "segledger/v1/key-rotation\n";

// The state a request is built against.
struct BuildContext {
  LogStore::Impl& impl;
  const InFlight& in_flight;
  std::vector<const IndexOverlay*> parents;  // group, then in-flight newest
  absl::Time now;
  const std::string& key_name;
  StreamingSigner& signing;
  TreeHasher& hasher;  // the group's: leaf hashes and tree nodes
  Hash prev{};         // leaf of the last accepted entry so far
};

// The leaf hash of `index`: committed, in flight, earlier in the group, or
// earlier in this request (`local`).
absl::StatusOr<Hash> LeafOf(const BuildContext& c, const BuiltGroup& g,
                            const std::vector<Pending>& local, uint64_t index) {
  if (index >= g.base) {
    uint64_t off = index - g.base;
    if (off < g.pending.size()) return g.pending[off].leaf;
    off -= g.pending.size();
    if (off < local.size()) return local[off].leaf;
    return absl::DataLossError(
        absl::StrCat("request row points at entry ", index, " beyond size ",
                     g.base + g.pending.size() + local.size()));
  }
  for (auto it = c.in_flight.rbegin(); it != c.in_flight.rend(); ++it) {
    const BuiltGroup& f = **it;
    if (index >= f.base && index - f.base < f.pending.size()) {
      return f.pending[index - f.base].leaf;
    }
  }
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> h,
                       c.impl.FetchNodes({NodeId{0, index}}));
  return h[0];
}

// The body of `rec` at `index` (DESIGN.md "Entry"); the record is moved in
// (the writer does not need it again).
v1::EntryBody MakeBody(const std::string& origin, AppendRecord& rec,
                       uint64_t index, const Hash& prev, absl::Time now,
                       const std::string& key_name) {
  v1::EntryBody body;
  body.set_log_origin(origin);
  body.set_index(index);
  body.set_prev_hash(std::string(HashBytes(prev)));
  *body.mutable_recorded_at() = ToProtoTime(now);
  body.set_key_name(key_name);
  *body.mutable_actor() = std::move(rec.actor);
  body.set_request_id(rec.request_id);
  *body.mutable_record() = std::move(rec.record);
  return body;
}

// Builds one request into `g`, all or nothing (log_store.h AppendHook).
absl::Status BuildRequest(BuildContext& c, Writer* w, BuiltGroup& g) {
  if (w->records.empty()) {
    return absl::InvalidArgumentError("append request has no records");
  }
  IndexOverlay own;
  std::vector<Pending> local;
  // One pointer captured: the std::function keeps it inline (no allocation
  // per request in the build leader).
  struct LeafSource {
    const BuildContext& c;
    const BuiltGroup& g;
    const std::vector<Pending>& local;
  } src{c, g, local};
  OverlayIndexTxn txn(
      *c.impl.kv, c.parents, &own, &c.impl.index_rows,
      [&src](uint64_t index) -> absl::StatusOr<Hash> {
        const uint64_t size =
            src.g.base + src.g.pending.size() + src.local.size();
        if (index >= size) {
          return absl::OutOfRangeError(absl::StrCat(
              "entry ", index, " is not below the log size ", size));
        }
        return LeafOf(src.c, src.g, src.local, index);
      });
  AppendHook* hook = c.impl.options.hook;
  uint64_t next = g.base + g.pending.size();
  Hash prev = c.prev;
  w->results.assign(w->records.size(), AppendResult{});
  for (size_t i = 0; i < w->records.size(); ++i) {
    AppendRecord& rec = w->records[i];
    if (!rec.request_id.empty()) {
      absl::StatusOr<std::string> prior = txn.Get(RequestKey(rec.request_id));
      if (prior.ok()) {
        SEG_ASSIGN_OR_RETURN(uint64_t idx, ParseBe64(*prior, "request row"));
        SEG_ASSIGN_OR_RETURN(Hash leaf, LeafOf(c, g, local, idx));
        w->results[i] = AppendResult{idx, leaf, true};
        continue;
      }
      if (!absl::IsNotFound(prior.status())) return prior.status();
    }
    const v1::EntryBody body =
        MakeBody(c.impl.options.origin, rec, next, prev, c.now, c.key_name);
    absl::StatusOr<std::string> bytes = SerializeEntryBody(body);
    if (!bytes.ok()) {
      return WithRecordIndex(bytes.status(), i, w->records.size());
    }
    if (hook != nullptr) {
      // Appends were prechecked in the appending thread (log_store.cc); a
      // rotation's record is made here.
      absl::Status s = w->kind == Writer::Kind::kRotate
                           ? hook->OnAppend(body, txn)
                           : hook->OnPrecheckedAppend(body, txn);
      if (!s.ok()) return WithRecordIndex(s, i, w->records.size());
    }
    const Hash leaf = c.hasher.LeafHash(*bytes);
    if (!rec.request_id.empty()) {
      txn.Put(RequestKey(rec.request_id), Be64(next));
    }
    w->results[i] = AppendResult{next, leaf, false};
    local.push_back(Pending{*std::move(bytes), leaf, next, {}});
    ++next;
    prev = leaf;
  }
  MergeOverlay(own, g.overlay);
  for (Pending& p : local) {
    g.pending.push_back(std::move(p));
    c.signing.Add(&g.pending.back());
  }
  c.prev = prev;
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
  *rot->mutable_effective_at() = ToProtoTime(now);
  rot->set_possession_signature(possession);
  rot->set_reason(w->rotate_reason);
  return absl::OkStatus();
}

// The tree nodes the group's entries complete (CompactRange visit: the
// leaf and every completed subtree); g.range advances past them.
void AddTreeNodes(BuiltGroup& g, TreeHasher& hasher) {
  for (const Pending& p : g.pending) {
    g.range.Append(
        p.leaf,
        [&g](NodeId id, const Hash& h) {
          g.batch.Put(Family::kTree, TreeKey(id), HashBytes(h));
        },
        hasher);
  }
}

// Signs a checkpoint at g.range.size() into g.note and g.batch when
// checkpoint_every entries passed since the last one. It is in the same
// batch as the entries it covers, so it never claims a non-durable size.
absl::Status AddDueCheckpoint(const LogStore::Impl& impl,
                              const NoteSigner& signer, TreeHasher& hasher,
                              BuiltGroup& g) {
  const uint64_t every = impl.options.checkpoint_every;
  const uint64_t n = g.range.size();
  if (every == 0 || n - impl.state.last_checkpoint_size < every) {
    return absl::OkStatus();
  }
  SEG_ASSIGN_OR_RETURN(
      g.note, SignCheckpoint(
                  Checkpoint{impl.options.origin, n, g.range.Root(hasher), {}},
                  signer));
  g.batch.Put(Family::kCheckpoints, CheckpointKey(n), g.note);
  g.batch.Put(Family::kMeta, kMetaCheckpointSize, Be64(n));
  g.batch.Put(Family::kMeta, MetaCheckpointKey(n), "");
  return absl::OkStatus();
}

// The batch of the built entries of `g`, but for the entries themselves
// (FinishEntries adds them once signed).
absl::Status FillBatch(const LogStore::Impl& impl, const NoteSigner& signer,
                       TreeHasher& hasher, BuiltGroup& g) {
  AddTreeNodes(g, hasher);
  AddOverlayToBatch(g.overlay, g.batch);
  SEG_RETURN_IF_ERROR(AddDueCheckpoint(impl, signer, hasher, g));
  g.batch.Put(Family::kMeta, kMetaSize, Be64(g.range.size()));
  Writer* front = g.writers[0];
  if (front->kind == Writer::Kind::kRotate && front->status.ok()) {
    g.rotation = front;
    const NoteSigner& next = *front->next_key;
    g.batch.Put(Family::kMeta, kMetaCurrentKey, next.name());
    g.batch.Put(Family::kMeta, MetaKeyName(next.name()),
                next.Verifier().VerifierKey());
  }
  return absl::OkStatus();
}

}  // namespace

void StreamingSigner::Add(Pending* p) {
  bool schedule = false;
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(p);
    if (tasks_ + 1 < pool_.parallelism()) {
      ++tasks_;
      schedule = true;
    }
  }
  if (schedule) {
    pool_.Schedule([this] { Drain(/*worker=*/true); });
  }
}

absl::Status StreamingSigner::Finish() {
  Drain(/*worker=*/false);
  absl::MutexLock lock(&mu_);
  auto idle = [this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return tasks_ == 0; };
  mu_.Await(absl::Condition(&idle));
  return error_;
}

void StreamingSigner::Drain(bool worker) {
  for (;;) {
    Pending* p = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) {
        if (worker) --tasks_;  // decided under mu_: Add sees it
        return;
      }
      p = queue_.front();
      queue_.pop_front();
    }
    absl::StatusOr<std::string> sig =
        signer_.signer().Sign(EntrySigningMessage(p->body));
    if (sig.ok()) {
      p->signature = *std::move(sig);
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (error_.ok()) error_ = sig.status();
  }
}

void FailUnwritten(BuiltGroup& g, const absl::Status& s) {
  for (size_t i = 0; i < g.writers.size(); ++i) {
    Writer* w = g.writers[i];
    if (!w->status.ok() && i < g.first_append) continue;  // a final refusal
    w->status = s;
    w->results.clear();
  }
}

absl::Status BuildGroup(LogStore::Impl& impl, const InFlight& in_flight,
                        absl::Time now, BuiltGroup& g) {
  g.signer = impl.state.current;
  g.base = impl.state.range.size();
  g.range = impl.state.range;
  g.signing = std::make_unique<StreamingSigner>(*impl.pool, *g.signer);
  // One digest context for the group's leaf and node hashes (the build
  // leader's alone, freed with the build).
  TreeHasher hasher;
  BuildContext c{impl,   in_flight,           {&g.overlay},
                 now,    g.signer->name(),    *g.signing,
                 hasher, impl.state.last_leaf};
  for (auto it = in_flight.rbegin(); it != in_flight.rend(); ++it) {
    c.parents.push_back(&(*it)->overlay);
  }
  g.first_append = g.writers.size();
  for (size_t i = 0; i < g.writers.size(); ++i) {
    Writer* w = g.writers[i];
    if (w->kind == Writer::Kind::kRotate) {
      w->status = PrepareRotation(impl, w, now);
      if (!w->status.ok()) continue;
    }
    const size_t before = g.pending.size();
    w->status = BuildRequest(c, w, g);
    if (!w->status.ok()) w->results.clear();
    if (g.pending.size() > before && i < g.first_append) g.first_append = i;
  }
  if (g.pending.empty()) return absl::OkStatus();  // nothing to write
  absl::Status built = FillBatch(impl, *g.signer, hasher, g);
  if (!built.ok()) {
    // Its refusals after the first append rest on entries never written.
    FailUnwritten(g, built);
    g.batch.Clear();
    // Never written: the groups built while this one is in flight must not
    // read its index rows (it stays in the in-flight list until its turn).
    g.overlay.clear();
    g.signing->Finish().IgnoreError();  // before `pending` goes
    g.pending.clear();
    return built;  // the right edge stays where it was
  }
  g.last_leaf = c.prev;
  g.write = true;
  impl.index_rows.Apply(g.overlay);
  impl.state.range = g.range;
  impl.state.last_leaf = g.last_leaf;
  if (!g.note.empty()) impl.state.last_checkpoint_size = g.range.size();
  return absl::OkStatus();
}

absl::Status FinishEntries(BuiltGroup& g) {
  SEG_RETURN_IF_ERROR(g.signing->Finish());
  v1::SignedEntry entry;
  for (const Pending& p : g.pending) {
    entry.set_body(p.body);
    entry.set_signature(p.signature);
    g.batch.Put(Family::kEntries, EntryKey(p.index), entry.SerializeAsString());
  }
  return absl::OkStatus();
}

}  // namespace segledger::store
