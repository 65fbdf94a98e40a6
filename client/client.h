// C++ client of a segledgerd node: channel set-up (mTLS or, explicitly,
// plaintext), retries with exponential backoff for idempotent calls, and
// streaming helpers (entry ranges, watch, bulk append stream).
//
// Thread-safe: one Client may be shared by many threads (gRPC channels and
// stubs are thread-safe). AppendStreamWriter is used by one writer thread.
#ifndef SEGLEDGER_CLIENT_CLIENT_H_
#define SEGLEDGER_CLIENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/idle_watchdog.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "segledger/v1/admin_service.grpc.pb.h"
#include "segledger/v1/ledger_service.grpc.pb.h"
#include "segledger/v1/peer_service.grpc.pb.h"
#include "segledger/v1/query_service.grpc.pb.h"

namespace segledger::client {

struct ClientOptions {
  std::string target;  // HOST:PORT
  bool insecure = false;
  std::string ca_file;    // PEM CA of the node's certificate
  std::string cert_file;  // PEM client certificate
  std::string key_file;   // PEM client private key
  // TLS name to check instead of the target's host (tests, IP targets).
  std::string server_name_override;
  // A unary call's deadline per attempt; a stream's longest wait for the
  // node's next message (IdleWatchdog), however long the whole stream runs.
  absl::Duration timeout = absl::Seconds(30);
  int max_attempts = 4;  // idempotent calls only
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
};

// grpc::Status <-> absl::Status, code for code.
absl::Status FromGrpcStatus(const grpc::Status& status);
grpc::Status ToGrpcStatus(const absl::Status& status);

// True for codes that mean "could not reach or was refused by the node":
// UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED.
bool IsUnreachableOrRefused(const absl::Status& status);

class AppendStreamWriter;

class Client {
 public:
  // Builds the channel (connects lazily). INVALID_ARGUMENT naming the
  // option when a TLS file is missing or TLS and insecure are mixed.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ClientOptions& options);

  // Retried when every record carries a request_id (the node answers a
  // retry with the original result).
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& request);

  absl::StatusOr<v1::EntryResponse> GetEntry(uint64_t index);
  // Calls fn for entries [from, to) in order until it returns false. `to`
  // 0: the current size.
  // `origin`: a log the node follows (its verified copy); empty: its own.
  absl::Status GetEntries(uint64_t from, uint64_t to,
                          const std::function<bool(v1::EntryResponse&)>& fn,
                          const std::string& origin = "");
  // The latest checkpoint, or the one at exactly `size` (of `origin`, a
  // followed log, when set).
  absl::StatusOr<v1::CheckpointResponse> GetCheckpoint(
      std::optional<uint64_t> size = std::nullopt,
      const std::string& origin = "");
  // Every stored signed checkpoint of the node's own log, by size.
  absl::StatusOr<std::vector<v1::CheckpointResponse>> ListCheckpoints();
  absl::StatusOr<v1::InclusionProofResponse> InclusionProof(uint64_t index,
                                                            uint64_t size);
  absl::StatusOr<v1::ConsistencyProofResponse> ConsistencyProof(
      uint64_t old_size, uint64_t size);
  // Both proofs and the signed checkpoint of one tree in one call
  // (ProofsRequest: old_size 0 asks no consistency proof, size 0 the
  // latest checkpoint's tree).
  absl::StatusOr<v1::ProofsResponse> Proofs(uint64_t index, uint64_t old_size,
                                            uint64_t size);

  // Calls fn per event until it returns false (then cancels) or the stream
  // ends. Not retried.
  absl::Status Watch(const v1::WatchRequest& request,
                     const std::function<bool(const v1::WatchEvent&)>& fn);

  // Domain queries (retried: reads).
  absl::StatusOr<v1::TimelineResponse> Timeline(const std::string& lot_id);
  absl::StatusOr<v1::TraceResponse> Trace(const std::string& lot_id,
                                          bool forward);
  absl::StatusOr<v1::MassBalanceResponse> MassBalance(
      const std::string& lot_id);
  absl::StatusOr<v1::FindingsResponse> Findings(
      const std::string& min_severity);

  // Peer protocol (peer_service.proto): what the node holds about other
  // logs (retried), and the calls peers make (not retried).
  absl::StatusOr<v1::PeerDataResponse> GetPeerData(const std::string& origin);
  absl::StatusOr<v1::HeldSizeResponse> GetHeldSize(const std::string& origin);
  absl::StatusOr<v1::DeliverEvidenceResponse> DeliverEvidence(
      const v1::HandoffEvidence& evidence);
  absl::StatusOr<v1::CosignResponse> Cosign(const v1::CosignRequest& request);

  absl::StatusOr<v1::StatusResponse> GetStatus();
  absl::StatusOr<v1::CheckpointNowResponse> CheckpointNow();
  absl::StatusOr<v1::RotateKeyResponse> RotateKey(
      const v1::RotateKeyRequest& request);
  absl::StatusOr<v1::BackupResponse> Backup(const std::string& dir);

  // Opens a bulk append stream; `on_ack` runs on the stream's reader
  // thread for every acknowledgement.
  absl::StatusOr<std::unique_ptr<AppendStreamWriter>> OpenAppendStream(
      std::function<void(const v1::StreamAck&)> on_ack);

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const ClientOptions& options() const { return options_; }

 private:
  Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel);
  void Prepare(grpc::ClientContext& ctx) const;
  // Runs `call` up to max_attempts times while it fails with UNAVAILABLE
  // or DEADLINE_EXCEEDED, sleeping with jittered exponential backoff.
  // The context of a unary call gets options_.timeout as its deadline; a
  // stream's call (`unary` false) watches for progress itself.
  absl::Status Retry(
      bool idempotent,
      const std::function<grpc::Status(grpc::ClientContext&)>& call) const;
  absl::Status Retry(
      bool idempotent, bool unary,
      const std::function<grpc::Status(grpc::ClientContext&)>& call) const;

  const ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AppendService::Stub> append_;
  std::unique_ptr<v1::ReadService::Stub> read_;
  std::unique_ptr<v1::ProofService::Stub> proof_;
  std::unique_ptr<v1::WatchService::Stub> watch_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::QueryService::Stub> query_;
  std::unique_ptr<v1::PeerService::Stub> peer_;
};

// A bulk append stream: Write() sends records (blocking under the node's
// flow control); acknowledgements arrive on a reader thread. Finish()
// half-closes, waits for every ack and returns the stream's status. A node
// that neither takes a record nor acknowledges one for the client's
// timeout has the stream cancelled: DEADLINE_EXCEEDED.
class AppendStreamWriter {
 public:
  ~AppendStreamWriter();  // Finish()es if needed
  // False once the stream is broken (Finish() tells why).
  bool Write(const v1::AppendStreamRequest& request);
  absl::Status Finish();

 private:
  friend class Client;
  AppendStreamWriter() = default;

  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<IdleWatchdog> watchdog_;  // on ctx_
  std::unique_ptr<grpc::ClientReaderWriter<v1::AppendStreamRequest,
                                           v1::AppendStreamResponse>>
      stream_;
  std::function<void(const v1::StreamAck&)> on_ack_;
  std::thread reader_;
  bool finished_ = false;
  absl::Status status_;
};

}  // namespace segledger::client

#endif  // SEGLEDGER_CLIENT_CLIENT_H_
