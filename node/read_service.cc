#include "node/read_service.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/status_macros.h"
#include "node/peer_layer.h"
#include "node/rpc_util.h"

namespace segledger::node {
namespace {

void FillEntry(uint64_t index, v1::SignedEntry entry, v1::EntryResponse* out) {
  out->set_index(index);
  out->set_leaf_hash(std::string(HashBytes(LeafHash(entry.body()))));
  *out->mutable_entry() = std::move(entry);
}

absl::Status CheckIndex(absl::string_view field, uint64_t index,
                        uint64_t size) {
  if (index >= size) {
    return absl::OutOfRangeError(
        absl::StrCat(field, ": ", index, " beyond log size ", size));
  }
  return absl::OkStatus();
}

// Resolves a requested tree size: 0 means the latest checkpoint's size.
absl::StatusOr<uint64_t> ResolveTreeSize(const store::LogStore& store,
                                         uint64_t requested) {
  if (requested == 0) return LatestCheckpointSize(store);
  if (requested > store.Size()) {
    return absl::OutOfRangeError(absl::StrCat(
        "tree_size: ", requested, " beyond log size ", store.Size()));
  }
  return requested;
}

// A request for another log: the followed, verified copy this node keeps
// (PeerLayer). `origin` empty or our own means our log (returns nullopt).
absl::StatusOr<std::optional<v1::FollowState>> Followed(
    ServiceContext* ctx, absl::string_view origin) {
  if (origin.empty() || origin == ctx->store->origin()) return std::nullopt;
  if (ctx->peers == nullptr || ctx->peers->PeerByOrigin(origin) == nullptr ||
      !ctx->peers->PeerByOrigin(origin)->follow()) {
    return absl::NotFoundError(absl::StrCat(
        "origin: \"", origin, "\" is not a log this node follows"));
  }
  absl::StatusOr<v1::FollowState> st =
      ctx->peers->peer_store()->FollowStateOf(origin);
  if (!st.ok()) return st.status();
  return std::optional<v1::FollowState>(*std::move(st));
}

void AddHashes(const std::vector<Hash>& hashes,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const Hash& h : hashes) out->Add(std::string(HashBytes(h)));
}

}  // namespace

absl::StatusOr<uint64_t> LatestCheckpointSize(const store::LogStore& store) {
  absl::StatusOr<std::string> note = store.LatestCheckpoint();
  if (!note.ok()) return note.status();
  return CheckpointNoteSize(*note);
}

grpc::ServerUnaryReactor* ReadServiceImpl::GetEntry(
    grpc::CallbackServerContext* context, const v1::GetEntryRequest* request,
    v1::EntryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kGetEntry).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<std::optional<v1::FollowState>> followed =
      Followed(ctx_, request->origin());
  if (!followed.ok()) return Done(ctx_, reactor, followed.status());
  if (followed->has_value()) {
    s = CheckIndex("index", request->index(), (*followed)->size());
    absl::StatusOr<v1::SignedEntry> e =
        s.ok() ? ctx_->peers->peer_store()->FollowedEntry(request->origin(),
                                                          request->index())
               : absl::StatusOr<v1::SignedEntry>(s);
    if (!e.ok()) return Done(ctx_, reactor, e.status());
    FillEntry(request->index(), std::move(*e), response);
    return Done(ctx_, reactor, absl::OkStatus());
  }
  s = CheckIndex("index", request->index(), ctx_->store->Size());
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<v1::SignedEntry> e = ctx_->store->GetEntry(request->index());
  if (!e.ok()) return Done(ctx_, reactor, e.status());
  FillEntry(request->index(), std::move(*e), response);
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* ReadServiceImpl::GetCheckpoint(
    grpc::CallbackServerContext* context,
    const v1::GetCheckpointRequest* request, v1::CheckpointResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kGetCheckpoint).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<std::optional<v1::FollowState>> followed =
      Followed(ctx_, request->origin());
  if (!followed.ok()) return Done(ctx_, reactor, followed.status());
  if (followed->has_value()) {
    const v1::FollowState& st = **followed;
    if (st.checkpoint().empty()) {
      return Done(
          ctx_, reactor,
          absl::NotFoundError(absl::StrCat("origin: nothing verified of \"",
                                           request->origin(), "\" yet")));
    }
    if (request->has_size() && request->size() != st.size()) {
      return Done(ctx_, reactor,
                  absl::NotFoundError(absl::StrCat(
                      "size: ", request->size(), " is not the verified size ",
                      st.size(), " of \"", request->origin(), "\"")));
    }
    response->set_size(st.size());
    response->set_note(st.checkpoint());
    return Done(ctx_, reactor, absl::OkStatus());
  }
  absl::StatusOr<std::string> note =
      request->has_size() ? ctx_->store->CheckpointAt(request->size())
                          : ctx_->store->LatestCheckpoint();
  if (!note.ok()) {
    return Done(ctx_, reactor,
                absl::Status(note.status().code(),
                             absl::StrCat(request->has_size() ? "size: " : "",
                                          note.status().message())));
  }
  absl::StatusOr<Checkpoint> cp = PeekCheckpoint(*note);
  if (!cp.ok()) return Done(ctx_, reactor, cp.status());
  response->set_size(cp->size);
  response->set_note(std::move(*note));
  return Done(ctx_, reactor, absl::OkStatus());
}

namespace {

// A server stream written one message at a time from a buffer that
// `refill` tops up whenever it runs empty (OK with nothing added ends the
// stream); each OnWriteDone starts the next write on the gRPC thread.
// gRPC runs one OnWriteDone at a time, but each may be on another of its
// threads, ordered by gRPC's own atomics: `mu_` makes that order explicit
// (uncontended; ThreadSanitizer sees it, as in the other reactors).
template <typename Msg>
class BufferedWriter final : public grpc::ServerWriteReactor<Msg> {
 public:
  using Refill = std::function<absl::Status(std::deque<Msg>*)>;

  BufferedWriter(ServiceContext* ctx, absl::Status admitted, Refill refill)
      : refill_(std::move(refill)) {
    if (!admitted.ok()) {
      ctx->metrics->rpc_errors_total.fetch_add(1);
      GrpcHandOff(this);
      this->Finish(ToGrpcStatus(admitted));
      return;
    }
    Next();
  }
  void OnWriteDone(bool ok) override {
    GrpcTakeOver(this);
    if (!ok) {
      GrpcHandOff(this);
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    Next();
  }
  void OnDone() override {
    GrpcTakeOver(this);
    delete this;
  }

 private:
  void Next() {
    absl::Status s;
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      if (buffer_.empty()) s = refill_(&buffer_);
      if (s.ok() && !buffer_.empty()) {
        current_ = std::move(buffer_.front());
        buffer_.pop_front();
        write = true;
      }
    }
    // Outside mu_: gRPC may run a reaction inline from StartWrite/Finish.
    GrpcHandOff(this);
    if (write) {
      this->StartWrite(&current_);
    } else {
      this->Finish(ToGrpcStatus(s));
    }
  }

  Refill refill_;
  absl::Mutex mu_;
  std::deque<Msg> buffer_ ABSL_GUARDED_BY(mu_);
  Msg current_;  // written under mu_; read by gRPC until OnWriteDone
};

// Entries [from, end) of our log (`origin` empty) or of a followed copy.
absl::Status ReadEntries(ServiceContext* ctx, const std::string& origin,
                         uint64_t from, uint64_t end,
                         std::deque<v1::EntryResponse>* out) {
  if (origin.empty()) {
    return ctx->store->ScanEntries(from, end,
                                   [out](uint64_t i, const v1::SignedEntry& e) {
                                     out->emplace_back();
                                     FillEntry(i, e, &out->back());
                                     return true;
                                   });
  }
  for (uint64_t i = from; i < end; ++i) {
    absl::StatusOr<v1::SignedEntry> e =
        ctx->peers->peer_store()->FollowedEntry(origin, i);
    if (!e.ok()) return e.status();
    out->emplace_back();
    FillEntry(i, *std::move(e), &out->back());
  }
  return absl::OkStatus();
}

// Up to `max` stored checkpoints of sizes >= from_size, in increasing
// size.
absl::Status ReadCheckpoints(ServiceContext* ctx, uint64_t from_size,
                             uint64_t max,
                             std::deque<v1::CheckpointResponse>* out) {
  return ctx->store->ScanCheckpoints(
      from_size, [&](uint64_t size, absl::string_view note) {
        out->emplace_back();
        out->back().set_size(size);
        out->back().set_note(std::string(note));
        return out->size() < max;
      });
}

}  // namespace

grpc::ServerWriteReactor<v1::EntryResponse>* ReadServiceImpl::GetEntries(
    grpc::CallbackServerContext* context,
    const v1::GetEntriesRequest* request) {
  absl::Status s = ctx_->Admit(*context, Rpc::kGetEntries).status();
  uint64_t size = ctx_->store->Size();
  std::string origin;
  if (s.ok()) {
    absl::StatusOr<std::optional<v1::FollowState>> followed =
        Followed(ctx_, request->origin());
    if (!followed.ok()) {
      s = followed.status();
    } else if (followed->has_value()) {
      size = (*followed)->size();
      origin = request->origin();
    }
  }
  uint64_t to = request->to() == 0 ? size : request->to();
  if (s.ok() && to > size) {
    s = absl::OutOfRangeError(
        absl::StrCat("to: ", to, " beyond log size ", size));
  }
  if (s.ok() && request->from() > to) {
    s = absl::InvalidArgumentError(
        absl::StrCat("from: ", request->from(), " greater than to ", to));
  }
  // Read in chunks as the client takes them.
  constexpr uint64_t kChunk = 256;
  return new BufferedWriter<v1::EntryResponse>(
      ctx_, s,
      [ctx = ctx_, origin = std::move(origin), next = request->from(),
       to](std::deque<v1::EntryResponse>* out) mutable -> absl::Status {
        if (next >= to) return absl::OkStatus();
        const uint64_t end = std::min(to, next + kChunk);
        absl::Status read = ReadEntries(ctx, origin, next, end, out);
        if (read.ok() && out->size() != end - next) {
          read = absl::DataLossError("entries missing from the store");
        }
        next = end;
        return read;
      });
}

grpc::ServerWriteReactor<v1::CheckpointResponse>*
ReadServiceImpl::ListCheckpoints(grpc::CallbackServerContext* context,
                                 const v1::ListCheckpointsRequest* request) {
  absl::Status s = ctx_->Admit(*context, Rpc::kGetCheckpoint).status();
  // Every checkpoint from from_size on (up to limit when set), read in
  // chunks of checkpoints_per_read as the client takes them: the stream's
  // memory stays one chunk however many the store holds. A chunk shorter
  // than asked means the store has no more.
  const uint64_t limit =
      request->limit() == 0 ? UINT64_MAX : uint64_t{request->limit()};
  return new BufferedWriter<v1::CheckpointResponse>(
      ctx_, s,
      [ctx = ctx_, next = request->from_size(), left = limit, done = false](
          std::deque<v1::CheckpointResponse>* out) mutable -> absl::Status {
        if (done || left == 0) return absl::OkStatus();
        const uint64_t want =
            std::min<uint64_t>(left, std::max(ctx->checkpoints_per_read, 1u));
        SEG_RETURN_IF_ERROR(ReadCheckpoints(ctx, next, want, out));
        left -= out->size();
        done = out->size() < want;
        if (!out->empty()) next = out->back().size() + 1;
        return absl::OkStatus();
      });
}

namespace {

// The inclusion proof of `index` in the tree of `size` (a size the store
// holds), or why there is none; errors name the request field.
absl::Status FillInclusion(const store::LogStore& store, uint64_t index,
                           uint64_t size, v1::InclusionProofResponse* out) {
  if (index >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("index: ", index, " not below tree_size ", size));
  }
  SEG_ASSIGN_OR_RETURN(Hash leaf, store.LeafHashAt(index));
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                       store.InclusionProof(index, size));
  out->set_index(index);
  out->set_tree_size(size);
  out->set_leaf_hash(std::string(HashBytes(leaf)));
  AddHashes(proof, out->mutable_proof());
  return absl::OkStatus();
}

// The consistency proof from `old_size` to `size`, as FillInclusion.
absl::Status FillConsistency(const store::LogStore& store, uint64_t old_size,
                             uint64_t size, v1::ConsistencyProofResponse* out) {
  if (old_size == 0 || old_size > size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "old_size: ", old_size, " must be in [1, tree_size ", size, "]"));
  }
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                       store.ConsistencyProof(old_size, size));
  out->set_old_size(old_size);
  out->set_tree_size(size);
  AddHashes(proof, out->mutable_proof());
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* ProofServiceImpl::GetInclusionProof(
    grpc::CallbackServerContext* context,
    const v1::InclusionProofRequest* request,
    v1::InclusionProofResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kInclusionProof).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<uint64_t> size =
      ResolveTreeSize(*ctx_->store, request->tree_size());
  if (!size.ok()) return Done(ctx_, reactor, size.status());
  return Done(ctx_, reactor,
              FillInclusion(*ctx_->store, request->index(), *size, response));
}

grpc::ServerUnaryReactor* ProofServiceImpl::GetConsistencyProof(
    grpc::CallbackServerContext* context,
    const v1::ConsistencyProofRequest* request,
    v1::ConsistencyProofResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kConsistencyProof).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<uint64_t> size =
      ResolveTreeSize(*ctx_->store, request->tree_size());
  if (!size.ok()) return Done(ctx_, reactor, size.status());
  return Done(
      ctx_, reactor,
      FillConsistency(*ctx_->store, request->old_size(), *size, response));
}

grpc::ServerUnaryReactor* ProofServiceImpl::GetProofs(
    grpc::CallbackServerContext* context, const v1::ProofsRequest* request,
    v1::ProofsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kProofs).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  const store::LogStore& store = *ctx_->store;
  // The latest note is in memory: it answers tree_size 0 and, when it is
  // of the size asked, saves reading the checkpoint row.
  absl::StatusOr<std::string> latest = store.LatestCheckpoint();
  absl::StatusOr<Checkpoint> latest_cp =
      latest.ok() ? PeekCheckpoint(*latest) : latest.status();
  uint64_t size = request->tree_size();
  const uint64_t log_size = store.Size();
  std::optional<std::string> note;
  if (size == 0) {
    if (!latest_cp.ok()) return Done(ctx_, reactor, latest_cp.status());
    size = latest_cp->size;
    note = *std::move(latest);
  } else if (size > log_size) {
    return Done(ctx_, reactor,
                absl::OutOfRangeError(absl::StrCat(
                    "tree_size: ", size, " beyond log size ", log_size)));
  } else if (latest_cp.ok() && latest_cp->size == size) {
    note = *std::move(latest);
  } else {
    absl::StatusOr<std::string> at = store.CheckpointAt(size);
    if (at.ok()) {
      note = *std::move(at);
    } else if (!absl::IsNotFound(at.status())) {
      return Done(ctx_, reactor,
                  absl::Status(at.status().code(),
                               absl::StrCat("tree_size: checkpoint at ", size,
                                            ": ", at.status().message())));
    }
  }
  response->set_tree_size(size);
  if (note.has_value()) {
    response->mutable_checkpoint()->set_size(size);
    response->mutable_checkpoint()->set_note(*std::move(note));
  }
  s = FillInclusion(store, request->index(), size,
                    response->mutable_inclusion());
  if (s.ok() && request->old_size() != 0) {
    s = FillConsistency(store, request->old_size(), size,
                        response->mutable_consistency());
  }
  return Done(ctx_, reactor, s);
}

}  // namespace segledger::node
