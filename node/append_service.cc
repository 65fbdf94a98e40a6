#include "node/append_service.h"

#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "node/rpc_util.h"
#include "node/watch.h"

namespace segledger::node {
namespace {

// Records one AppendStream message may carry. Each refused record becomes
// an ack at once, whatever the window, so without a cap one 4 MiB message
// of empty records (2 bytes each) would queue some two million acks.
constexpr int kMaxStreamMessageRecords = 4096;

uint64_t MicrosSince(absl::Time start) {
  return static_cast<uint64_t>(absl::ToInt64Microseconds(absl::Now() - start));
}

// Counts a committed request's records (appended vs replayed).
void CountResults(Metrics& m, const std::vector<store::AppendResult>& rs,
                  absl::Time start) {
  uint64_t replayed = 0;
  for (const store::AppendResult& r : rs) replayed += r.replayed ? 1 : 0;
  m.appended_records_total.fetch_add(rs.size() - replayed);
  m.replayed_records_total.fetch_add(replayed);
  m.ObserveAppendLatencyUs(MicrosSince(start));
}

absl::Status ValidateBatch(const v1::AppendRequest& req, Role role) {
  if (req.records().empty()) {
    return absl::InvalidArgumentError("records: empty");
  }
  for (int i = 0; i < req.records_size(); ++i) {
    const std::string path = absl::StrCat("records[", i, "]");
    absl::Status s = CheckRecordRole(req.records(i).record(), role, path);
    if (s.ok()) s = ValidateAppendRecord(req.records(i), path);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* AppendServiceImpl::Append(
    grpc::CallbackServerContext* context, const v1::AppendRequest* request,
    v1::AppendResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = ctx_->Admit(*context, Rpc::kAppend);
  absl::Status status = caller.status();
  if (status.ok()) status = ValidateBatch(*request, caller->role);
  if (!status.ok()) {
    if (absl::IsInvalidArgument(status)) {
      ctx_->metrics->refused_records_total.fetch_add(request->records_size());
    }
    ctx_->metrics->rpc_errors_total.fetch_add(1);
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  ctx_->metrics->append_requests_total.fetch_add(1);
  std::vector<store::AppendRecord> records;
  records.reserve(request->records_size());
  for (const v1::AppendRecordRequest& r : request->records()) {
    records.push_back(ToStoreRecord(r));
  }
  absl::Time start = absl::Now();
  ServiceContext* ctx = ctx_;
  ctx_->store->AppendAsync(
      std::move(records),
      [ctx, reactor, response,
       start](absl::StatusOr<std::vector<store::AppendResult>> results) {
        if (!results.ok()) {
          ctx->metrics->rpc_errors_total.fetch_add(1);
          ctx->metrics->refused_records_total.fetch_add(1);
          reactor->Finish(ToGrpcStatus(results.status()));
          return;
        }
        for (const store::AppendResult& r : *results) {
          FillAck(r, response->add_acks());
        }
        CountResults(*ctx->metrics, *results, start);
        ctx->hub->Notify();
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

// One bulk append stream. Reads records while fewer than the window are
// unacknowledged, counting appends in flight and acks not yet handed to a
// write (beyond that, HTTP/2 flow control holds the client back),
// appends each through AppendAsync, and writes acks - batched when several
// are ready - one write at a time. Finishes once the client half-closed,
// every append committed and every ack was written. gRPC operations are
// started outside mu_ (a reaction may run inline).
class AppendServiceImpl::StreamReactor final
    : public grpc::ServerBidiReactor<v1::AppendStreamRequest,
                                     v1::AppendStreamResponse> {
 public:
  StreamReactor(ServiceContext* ctx, const absl::StatusOr<Caller>& admitted)
      : ctx_(ctx), role_(admitted.ok() ? admitted->role : Role::kInspector) {
    ctx_->metrics->active_streams.fetch_add(1);
    if (!admitted.ok()) {
      ctx_->metrics->rpc_errors_total.fetch_add(1);
      finished_ = true;
      GrpcHandOff(this);
      Finish(ToGrpcStatus(admitted.status()));
      return;
    }
    reading_ = true;  // no other thread yet: no lock needed
    GrpcHandOff(this);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    GrpcTakeOver(this);
    if (ok) {
      HandleRequest();
      return;
    }
    Actions next;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      reads_done_ = true;
      next = DecideLocked();
    }
    Act(this, next);
  }

  void OnWriteDone(bool ok) override {
    GrpcTakeOver(this);
    Actions next;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) broken_ = true;  // client gone: drop further acks
      next = DecideLocked();
    }
    Act(this, next);
  }

  void OnDone() override {
    GrpcTakeOver(this);
    ctx_->metrics->active_streams.fetch_sub(1);
    delete this;
  }

 private:
  // What to start after releasing mu_. Decided under mu_ so that exactly
  // one thread finishes, and no thread touches the reactor after the
  // decision that lets it finish (OnDone deletes it).
  struct Actions {
    bool read = false;
    bool write = false;
    bool finish = false;
  };

  // Validates and submits the records of request_ (the buffer is free again
  // once this returns).
  void HandleRequest() {
    std::vector<std::pair<uint64_t, store::AppendRecord>> submit;
    Actions next;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      bool draining = ctx_->draining.load();
      if (request_.records_size() > kMaxStreamMessageRecords) {
        // The stream ends with this error once the acks of the earlier
        // messages are written; none of this message's records is read.
        refused_ =
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         absl::StrCat("records: ", request_.records_size(),
                                      " records in one message, limit ",
                                      kMaxStreamMessageRecords));
        ctx_->metrics->refused_records_total.fetch_add(request_.records_size());
        request_.Clear();
        reads_done_ = true;
      }
      for (v1::StreamRecord& sr : *request_.mutable_records()) {
        absl::Status s =
            draining ? absl::UnavailableError("node is shutting down")
                     : CheckRecordRole(sr.record().record(), role_, "record");
        if (s.ok()) s = ValidateAppendRecord(sr.record(), "record");
        if (!s.ok()) {
          ctx_->metrics->refused_records_total.fetch_add(1);
          AddErrorLocked(sr.sequence(), s);
          continue;
        }
        ++in_flight_;  // keeps the reactor alive until its callback ran
        submit.emplace_back(sr.sequence(),
                            ToStoreRecord(std::move(*sr.mutable_record())));
      }
      if (draining) reads_done_ = true;
      next = DecideLocked();
    }
    for (auto& [seq, record] : submit) Submit(seq, std::move(record));
    Act(this, next);
  }

  void Submit(uint64_t seq, store::AppendRecord record) {
    ctx_->metrics->append_requests_total.fetch_add(1);
    std::vector<store::AppendRecord> one;
    one.push_back(std::move(record));
    absl::Time start = absl::Now();
    ServiceContext* ctx = ctx_;
    ctx_->store->AppendAsync(
        std::move(one),
        [this, ctx, seq,
         start](absl::StatusOr<std::vector<store::AppendResult>> results) {
          if (results.ok()) CountResults(*ctx->metrics, *results, start);
          ctx->hub->Notify();
          Actions next;
          {
            absl::MutexLock lock(&mu_);
            --in_flight_;
            if (!results.ok()) {
              ctx->metrics->refused_records_total.fetch_add(1);
              AddErrorLocked(seq, results.status());
            } else {
              v1::StreamAck* ack = pending_.add_acks();
              ack->set_sequence(seq);
              FillAck(results->front(), ack->mutable_ack());
            }
            next = DecideLocked();
          }
          Act(this, next);
        });
  }

  void AddErrorLocked(uint64_t seq, const absl::Status& s)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::StreamAck* ack = pending_.add_acks();
    ack->set_sequence(seq);
    ack->set_error_code(static_cast<int>(s.code()));
    ack->set_error_message(std::string(s.message()));
  }

  Actions DecideLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Actions a;
    if (finished_) return a;
    if (!writing_ && pending_.acks_size() > 0) {
      if (broken_) {
        pending_.Clear();
      } else {
        out_.Swap(&pending_);
        pending_.Clear();
        writing_ = a.write = true;
      }
    }
    // Acks not yet handed to a write count toward the window too: a
    // refused record is acked at once and holds no in_flight_ slot, so a
    // client sending invalid records without reading its acks would
    // otherwise grow pending_ without bound while a write waits for it.
    // Reading resumes when that write completes and takes them.
    const uint64_t unacked =
        uint64_t{in_flight_} + static_cast<uint64_t>(pending_.acks_size());
    if (!reading_ && !reads_done_) {
      if (unacked < ctx_->stream_window) {
        reading_ = a.read = true;
        held_ = false;
      } else if (in_flight_ < ctx_->stream_window && !held_) {
        held_ = true;  // counted once per hold, not per decision
        ctx_->metrics->append_stream_read_holds_total.fetch_add(1);
      }
    }
    if (reads_done_ && in_flight_ == 0 && !writing_ &&
        pending_.acks_size() == 0) {
      finished_ = a.finish = true;
    }
    return a;
  }

  // Static, and a no-op for no action: a thread whose decision was "nothing"
  // holds no claim on the reactor, which another thread may already have
  // finished and gRPC deleted by now (found by fuzz_rpc under UBSan: a
  // member call on the deleted reactor). Each action set is the claim that
  // keeps it alive: reading_, writing_ or finished_ stop any other thread
  // from finishing it.
  static void Act(StreamReactor* self, const Actions& a) {
    if (!a.read && !a.write && !a.finish) return;
    GrpcHandOff(self);
    if (a.read) self->StartRead(&self->request_);
    if (a.write) self->StartWrite(&self->out_);
    if (a.finish) {
      // refused_ is final once finished_ is set (under mu_, by this thread).
      self->Finish(!self->refused_.ok() ? self->refused_
                   : self->ctx_->draining.load()
                       ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                      "node is shutting down")
                       : grpc::Status::OK);
    }
  }

  ServiceContext* const ctx_;
  const Role role_;                  // the caller's
  v1::AppendStreamRequest request_;  // read buffer (one read at a time)
  v1::AppendStreamResponse out_;     // write buffer (one write at a time)
  absl::Mutex mu_;
  v1::AppendStreamResponse pending_ ABSL_GUARDED_BY(mu_);
  uint32_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;  // reads held by unwritten acks
  // The error the stream ends with (a message over the record cap); set
  // before reads_done_, read by the finishing thread only.
  grpc::Status refused_;
};

grpc::ServerBidiReactor<v1::AppendStreamRequest, v1::AppendStreamResponse>*
AppendServiceImpl::AppendStream(grpc::CallbackServerContext* context) {
  return new StreamReactor(ctx_, ctx_->Admit(*context, Rpc::kAppendStream));
}

}  // namespace segledger::node
