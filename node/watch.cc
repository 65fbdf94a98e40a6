#include "node/watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "node/rpc_util.h"

namespace segledger::node {

// One watch. Pump() sends the next event if nothing is being written;
// decisions are made under mu_, gRPC operations started outside it.
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchEvent>,
                           public std::enable_shared_from_this<WatchReactor> {
 public:
  WatchReactor(ServiceContext* ctx, const v1::WatchRequest& req)
      : ctx_(ctx), req_(req), next_index_(req.from_index()) {
    ctx_->metrics->active_streams.fetch_add(1);
  }

  // Sends the next event, if any and no write is outstanding.
  void Pump() {
    grpc::Status finish_status;
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (stop_) {
        finished_ = true;
        finish_status = stop_status_;
      } else if (!NextEventLocked()) {
        return;
      } else {
        writing_ = write = true;
      }
    }
    // Only the thread that decided gets here; the reactor lives until the
    // write completes or OnDone.
    GrpcHandOff(this);
    if (write) {
      StartWrite(&event_);
    } else {
      Finish(finish_status);
    }
  }

  // Ends the watch with `status` once the current write (if any) is done.
  void Stop(grpc::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      stop_ = true;
      stop_status_ = std::move(status);
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    GrpcTakeOver(this);
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok && !stop_) {
        stop_ = true;
        stop_status_ =
            grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      }
    }
    Pump();
    // gRPC runs OnDone only after this reaction returns, whichever thread
    // OnDone is on: a hand-off, as before starting an operation.
    GrpcHandOff(this);
  }

  // Cancellation comes on its own, possibly after another thread has
  // already called Finish: nothing orders what it does here before OnDone
  // (and the destructor) but gRPC, hence the hand-off.
  void OnCancel() override {
    GrpcTakeOver(this);
    Stop(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    GrpcHandOff(this);
  }

  void OnDone() override {
    GrpcTakeOver(this);
    // The last reference may be `keep` (or the hub's): `this` dies when the
    // later of the two goes, after which no member is touched.
    std::shared_ptr<WatchReactor> keep = std::move(self_);
    ServiceContext* ctx = ctx_;
    ctx->metrics->active_streams.fetch_sub(1);
    ctx->hub->Remove(this);
  }

  // The reactor keeps itself alive until OnDone.
  void Hold(std::shared_ptr<WatchReactor> self) { self_ = std::move(self); }

 private:
  // Fills event_ with the next entry or newer checkpoint. False if none.
  bool NextEventLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    event_.Clear();
    store::LogStore& store = *ctx_->store;
    if (req_.entries() && next_index_ < store.Size()) {
      absl::StatusOr<v1::SignedEntry> e = store.GetEntry(next_index_);
      if (e.ok()) {
        v1::EntryResponse* out = event_.mutable_entry();
        out->set_index(next_index_);
        out->set_leaf_hash(std::string(HashBytes(LeafHash(e->body()))));
        *out->mutable_entry() = std::move(*e);
        ++next_index_;
        return true;
      }
    }
    if (req_.checkpoints()) {
      absl::StatusOr<std::string> note = store.LatestCheckpoint();
      if (note.ok()) {
        uint64_t size = CheckpointNoteSize(*note).value_or(0);
        if (!sent_checkpoint_ || size > checkpoint_size_) {
          sent_checkpoint_ = true;
          checkpoint_size_ = size;
          event_.mutable_checkpoint()->set_size(size);
          event_.mutable_checkpoint()->set_note(std::move(*note));
          return true;
        }
      }
    }
    return false;
  }

  ServiceContext* const ctx_;
  const v1::WatchRequest req_;
  std::shared_ptr<WatchReactor> self_;
  v1::WatchEvent event_;  // write buffer
  absl::Mutex mu_;
  uint64_t next_index_ ABSL_GUARDED_BY(mu_);
  bool sent_checkpoint_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t checkpoint_size_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status stop_status_;
};

WatchHub::WatchHub(absl::Duration poll, uint32_t max_watches,
                   std::atomic<uint64_t>* watch_streams)
    : poll_(poll), max_watches_(max_watches), watch_streams_(watch_streams) {
  thread_ = std::thread([this] { Loop(); });
}

WatchHub::~WatchHub() { Stop(); }

void WatchHub::Notify() {
  absl::MutexLock lock(&mu_);
  dirty_ = true;
}

absl::Status WatchHub::Add(std::shared_ptr<WatchReactor> w) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return absl::UnavailableError("node is shutting down");
  // Each watch holds a reactor, an event buffer and a share of every poll
  // pass: unbounded, one client could open watches until the node is out
  // of memory or its hub thread never catches up.
  if (max_watches_ > 0 && watches_.size() >= max_watches_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "max_watch_streams: ", max_watches_,
        " watch streams are open on this node; close one or retry later"));
  }
  watches_.push_back(std::move(w));
  if (watch_streams_ != nullptr) watch_streams_->store(watches_.size());
  dirty_ = true;
  return absl::OkStatus();
}

void WatchHub::Remove(const WatchReactor* w) {
  std::shared_ptr<WatchReactor> last;  // destroyed outside mu_
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(watches_.begin(), watches_.end(),
                         [w](const auto& p) { return p.get() == w; });
  if (it != watches_.end()) {
    last = std::move(*it);
    watches_.erase(it);
    if (watch_streams_ != nullptr) watch_streams_->store(watches_.size());
  }
}

void WatchHub::Stop() {
  std::vector<std::shared_ptr<WatchReactor>> all;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    all = watches_;
  }
  for (auto& w : all) {
    w->Stop(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "node is shutting down"));
  }
  thread_.join();
}

void WatchHub::Loop() {
  for (;;) {
    std::vector<std::shared_ptr<WatchReactor>> all;
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return dirty_ || stopped_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&woken), poll_);
      if (stopped_) return;
      dirty_ = false;
      all = watches_;  // pumped outside mu_; shared_ptrs keep them alive
    }
    for (auto& w : all) w->Pump();
  }
}

grpc::ServerWriteReactor<v1::WatchEvent>* WatchServiceImpl::Watch(
    grpc::CallbackServerContext* context, const v1::WatchRequest* request) {
  auto w = std::make_shared<WatchReactor>(ctx_, *request);
  w->Hold(w);
  absl::Status admitted = ctx_->Admit(*context, Rpc::kWatch).status();
  if (admitted.ok() && !request->entries() && !request->checkpoints()) {
    admitted = absl::InvalidArgumentError(
        "entries, checkpoints: at least one must be true");
  }
  if (admitted.ok() && request->entries() &&
      request->from_index() > ctx_->store->Size()) {
    admitted = absl::OutOfRangeError(
        absl::StrCat("from_index: ", request->from_index(), " beyond log size ",
                     ctx_->store->Size()));
  }
  if (!admitted.ok()) {
    ctx_->metrics->rpc_errors_total.fetch_add(1);
    w->Stop(ToGrpcStatus(admitted));
    return w.get();
  }
  absl::Status added = ctx_->hub->Add(w);
  if (!added.ok()) {
    ctx_->metrics->rpc_errors_total.fetch_add(1);
    w->Stop(ToGrpcStatus(added));
  }
  return w.get();
}

}  // namespace segledger::node
