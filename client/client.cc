#include "client/client.h"

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/idle_watchdog.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace segledger::client {
namespace {

absl::StatusOr<std::string> ReadFile(absl::string_view option,
                                     const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": cannot read \"", path, "\""));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const ClientOptions& o) {
  bool any_tls =
      !o.ca_file.empty() || !o.cert_file.empty() || !o.key_file.empty();
  if (o.insecure) {
    if (any_tls) {
      return absl::InvalidArgumentError(
          "--insecure: cannot be combined with --ca/--cert/--key");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (o.ca_file.empty() || o.cert_file.empty() || o.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--ca, --cert, --key: all required (or --insecure)");
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadFile("--ca", o.ca_file);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadFile("--cert", o.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("--key", o.key_file);
  if (!key.ok()) return key.status();
  ssl.pem_root_certs = *ca;
  ssl.pem_cert_chain = *cert;
  ssl.pem_private_key = *key;
  return grpc::SslCredentials(ssl);
}

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

bool IsUnreachableOrRefused(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s);
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("--node: empty");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      Credentials(options);
  if (!creds.ok()) return creds.status();
  grpc::ChannelArguments args;
  if (!options.server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.server_name_override);
  }
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.target, *creds, args);
  return std::unique_ptr<Client>(new Client(options, std::move(channel)));
}

Client::Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      append_(v1::AppendService::NewStub(channel_)),
      read_(v1::ReadService::NewStub(channel_)),
      proof_(v1::ProofService::NewStub(channel_)),
      watch_(v1::WatchService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)),
      query_(v1::QueryService::NewStub(channel_)),
      peer_(v1::PeerService::NewStub(channel_)) {}

void Client::Prepare(grpc::ClientContext& ctx) const {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
}

absl::Status Client::Retry(
    bool idempotent,
    const std::function<grpc::Status(grpc::ClientContext&)>& call) const {
  return Retry(idempotent, /*unary=*/true, call);
}

absl::Status Client::Retry(
    bool idempotent, bool unary,
    const std::function<grpc::Status(grpc::ClientContext&)>& call) const {
  thread_local std::mt19937_64 rng(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
  grpc::Status s;
  int attempts = idempotent ? std::max(1, options_.max_attempts) : 1;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    grpc::ClientContext ctx;
    if (unary) Prepare(ctx);  // a stream's call runs an IdleWatchdog
    s = call(ctx);
    if (s.ok() || !Retryable(s.error_code()) || attempt == attempts) break;
    // Full jitter in [backoff/2, backoff].
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    absl::SleepFor(backoff * jitter(rng));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return FromGrpcStatus(s);
}

absl::StatusOr<v1::AppendResponse> Client::Append(
    const v1::AppendRequest& request) {
  bool idempotent = !request.records().empty();
  for (const auto& r : request.records()) {
    idempotent = idempotent && !r.request_id().empty();
  }
  v1::AppendResponse resp;
  absl::Status s = Retry(idempotent, [&](grpc::ClientContext& ctx) {
    resp.Clear();
    return append_->Append(&ctx, request, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::EntryResponse> Client::GetEntry(uint64_t index) {
  v1::GetEntryRequest req;
  req.set_index(index);
  v1::EntryResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return read_->GetEntry(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::Status Client::GetEntries(
    uint64_t from, uint64_t to,
    const std::function<bool(v1::EntryResponse&)>& fn,
    const std::string& origin) {
  // Retries resume after the last entry delivered.
  uint64_t next = from;
  bool stopped = false;
  return Retry(true, /*unary=*/false, [&](grpc::ClientContext& ctx) {
    v1::GetEntriesRequest req;
    req.set_from(next);
    req.set_to(to);
    req.set_origin(origin);
    IdleWatchdog watchdog(&ctx, options_.timeout);
    std::unique_ptr<grpc::ClientReader<v1::EntryResponse>> reader =
        read_->GetEntries(&ctx, req);
    v1::EntryResponse e;
    while (!stopped && reader->Read(&e)) {
      next = e.index() + 1;
      if (!fn(e)) {
        stopped = true;
        ctx.TryCancel();
      }
      watchdog.Progress();  // after fn: its own time is not the node's
    }
    grpc::Status s = reader->Finish();
    if (stopped) return grpc::Status::OK;
    return ToGrpcStatus(watchdog.Explain(
        FromGrpcStatus(s),
        absl::StrCat("no entry from the node after entry ", next)));
  });
}

absl::StatusOr<v1::CheckpointResponse> Client::GetCheckpoint(
    std::optional<uint64_t> size, const std::string& origin) {
  v1::GetCheckpointRequest req;
  req.set_origin(origin);
  if (size.has_value()) req.set_size(*size);
  v1::CheckpointResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return read_->GetCheckpoint(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<std::vector<v1::CheckpointResponse>> Client::ListCheckpoints() {
  std::vector<v1::CheckpointResponse> out;
  absl::Status s = Retry(true, /*unary=*/false, [&](grpc::ClientContext& ctx) {
    out.clear();
    v1::ListCheckpointsRequest req;
    IdleWatchdog watchdog(&ctx, options_.timeout);
    std::unique_ptr<grpc::ClientReader<v1::CheckpointResponse>> reader =
        read_->ListCheckpoints(&ctx, req);
    v1::CheckpointResponse r;
    while (reader->Read(&r)) {
      out.push_back(r);
      watchdog.Progress();
    }
    grpc::Status st = reader->Finish();
    return ToGrpcStatus(
        watchdog.Explain(FromGrpcStatus(st), "no checkpoint from the node"));
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<v1::InclusionProofResponse> Client::InclusionProof(
    uint64_t index, uint64_t size) {
  v1::InclusionProofRequest req;
  req.set_index(index);
  req.set_tree_size(size);
  v1::InclusionProofResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return proof_->GetInclusionProof(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::ConsistencyProofResponse> Client::ConsistencyProof(
    uint64_t old_size, uint64_t size) {
  v1::ConsistencyProofRequest req;
  req.set_old_size(old_size);
  req.set_tree_size(size);
  v1::ConsistencyProofResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return proof_->GetConsistencyProof(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::ProofsResponse> Client::Proofs(uint64_t index,
                                                  uint64_t old_size,
                                                  uint64_t size) {
  v1::ProofsRequest req;
  req.set_index(index);
  req.set_old_size(old_size);
  req.set_tree_size(size);
  v1::ProofsResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return proof_->GetProofs(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::Status Client::Watch(
    const v1::WatchRequest& request,
    const std::function<bool(const v1::WatchEvent&)>& fn) {
  grpc::ClientContext ctx;  // no deadline: a watch runs until cancelled
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader =
      watch_->Watch(&ctx, request);
  v1::WatchEvent event;
  while (reader->Read(&event)) {
    if (!fn(event)) {
      ctx.TryCancel();
      reader->Finish().ok();
      return absl::OkStatus();
    }
  }
  return FromGrpcStatus(reader->Finish());
}

absl::StatusOr<v1::TimelineResponse> Client::Timeline(
    const std::string& lot_id) {
  v1::LotQueryRequest req;
  req.set_lot_id(lot_id);
  v1::TimelineResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return query_->Timeline(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::TraceResponse> Client::Trace(const std::string& lot_id,
                                                bool forward) {
  v1::TraceRequest req;
  req.set_lot_id(lot_id);
  req.set_forward(forward);
  v1::TraceResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return query_->Trace(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::MassBalanceResponse> Client::MassBalance(
    const std::string& lot_id) {
  v1::LotQueryRequest req;
  req.set_lot_id(lot_id);
  v1::MassBalanceResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return query_->MassBalance(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::FindingsResponse> Client::Findings(
    const std::string& min_severity) {
  v1::FindingsRequest req;
  req.set_min_severity(min_severity);
  v1::FindingsResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return query_->Findings(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::PeerDataResponse> Client::GetPeerData(
    const std::string& origin) {
  v1::PeerDataRequest req;
  req.set_origin(origin);
  v1::PeerDataResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return peer_->GetPeerData(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::HeldSizeResponse> Client::GetHeldSize(
    const std::string& origin) {
  v1::HeldSizeRequest req;
  req.set_origin(origin);
  v1::HeldSizeResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return peer_->GetHeldSize(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::DeliverEvidenceResponse> Client::DeliverEvidence(
    const v1::HandoffEvidence& evidence) {
  v1::DeliverEvidenceRequest req;
  *req.mutable_evidence() = evidence;
  v1::DeliverEvidenceResponse resp;
  absl::Status s = Retry(false, [&](grpc::ClientContext& ctx) {
    return peer_->DeliverEvidence(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::CosignResponse> Client::Cosign(
    const v1::CosignRequest& request) {
  v1::CosignResponse resp;
  absl::Status s = Retry(false, [&](grpc::ClientContext& ctx) {
    return peer_->Cosign(&ctx, request, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::StatusResponse> Client::GetStatus() {
  v1::StatusResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return admin_->GetStatus(&ctx, v1::StatusRequest(), &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::CheckpointNowResponse> Client::CheckpointNow() {
  v1::CheckpointNowResponse resp;
  absl::Status s = Retry(true, [&](grpc::ClientContext& ctx) {
    return admin_->CheckpointNow(&ctx, v1::CheckpointNowRequest(), &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::RotateKeyResponse> Client::RotateKey(
    const v1::RotateKeyRequest& request) {
  v1::RotateKeyResponse resp;
  absl::Status s = Retry(false, [&](grpc::ClientContext& ctx) {
    return admin_->RotateKey(&ctx, request, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::BackupResponse> Client::Backup(const std::string& dir) {
  v1::BackupRequest req;
  req.set_dir(dir);
  v1::BackupResponse resp;
  absl::Status s = Retry(false, [&](grpc::ClientContext& ctx) {
    return admin_->Backup(&ctx, req, &resp);
  });
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<std::unique_ptr<AppendStreamWriter>> Client::OpenAppendStream(
    std::function<void(const v1::StreamAck&)> on_ack) {
  std::unique_ptr<AppendStreamWriter> w(new AppendStreamWriter());
  w->ctx_ = std::make_unique<grpc::ClientContext>();
  w->on_ack_ = std::move(on_ack);
  w->watchdog_ =
      std::make_unique<IdleWatchdog>(w->ctx_.get(), options_.timeout);
  w->stream_ = append_->AppendStream(w->ctx_.get());
  AppendStreamWriter* raw = w.get();
  w->reader_ = std::thread([raw] {
    v1::AppendStreamResponse resp;
    while (raw->stream_->Read(&resp)) {
      raw->watchdog_->Progress();
      for (const v1::StreamAck& ack : resp.acks()) raw->on_ack_(ack);
    }
  });
  return w;
}

AppendStreamWriter::~AppendStreamWriter() { Finish().IgnoreError(); }

bool AppendStreamWriter::Write(const v1::AppendStreamRequest& request) {
  if (finished_) return false;
  watchdog_->Progress();  // the wait starts now, not at the last ack
  bool sent = stream_->Write(request);
  if (sent) watchdog_->Progress();
  return sent;
}

absl::Status AppendStreamWriter::Finish() {
  if (finished_) return status_;
  finished_ = true;
  stream_->WritesDone();
  reader_.join();  // every ack read (or the stream broke)
  status_ = watchdog_->Explain(FromGrpcStatus(stream_->Finish()),
                               "no acknowledgement from the node");
  watchdog_.reset();  // before ctx_ goes
  return status_;
}

}  // namespace segledger::client
