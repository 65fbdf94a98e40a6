#include "node/peer_links.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "ledger/peers/handoff.h"
#include "ledger/status_macros.h"
#include "node/data_dir.h"

namespace segledger::node {
namespace {

// Chooses `own` when set, else `fallback` (with the field it came from).
std::pair<std::string, std::string> Pick(const std::string& own,
                                         absl::string_view own_field,
                                         const std::string& fallback,
                                         absl::string_view fallback_field) {
  if (!own.empty()) return {own, std::string(own_field)};
  return {fallback, std::string(fallback_field)};
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> PeerCredentials(
    const v1::NodeConfig& c) {
  if (c.insecure()) return grpc::InsecureChannelCredentials();
  auto [ca, ca_field] =
      Pick(c.peer_tls_ca(), "peer_tls_ca", c.tls_ca(), "tls_ca");
  auto [cert, cert_field] =
      Pick(c.peer_tls_cert(), "peer_tls_cert", c.tls_cert(), "tls_cert");
  auto [key, key_field] =
      Pick(c.peer_tls_key(), "peer_tls_key", c.tls_key(), "tls_key");
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> pem = ReadTextFile(ca_field, ca);
  if (!pem.ok()) return pem.status();
  ssl.pem_root_certs = *std::move(pem);
  pem = ReadTextFile(cert_field, cert);
  if (!pem.ok()) return pem.status();
  ssl.pem_cert_chain = *std::move(pem);
  pem = ReadTextFile(key_field, key);
  if (!pem.ok()) return pem.status();
  ssl.pem_private_key = *std::move(pem);
  return grpc::SslCredentials(ssl);
}

void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace

absl::Status FromGrpc(const grpc::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

absl::StatusOr<std::unique_ptr<PeerLinks>> PeerLinks::Create(
    const v1::NodeConfig& config) {
  auto links = std::make_unique<PeerLinks>();
  if (config.peer_timeout_ms() > 0) {
    links->timeout_ = absl::Milliseconds(config.peer_timeout_ms());
  }
  if (config.peers().empty()) return links;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      PeerCredentials(config);
  if (!creds.ok()) return creds.status();
  for (const v1::PeerNode& p : config.peers()) {
    grpc::ChannelArguments args;
    if (!p.tls_server_name().empty()) {
      args.SetSslTargetNameOverride(p.tls_server_name());
    }
    args.SetMaxReceiveMessageSize(kMaxPeerMessageBytes);
    // Reconnect quickly after a peer restarts (default backoff grows to
    // two minutes); the loops have their own, per-row backoff.
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    auto link = std::make_unique<PeerLink>();
    link->config = p;
    link->channel = grpc::CreateCustomChannel(p.address(), *creds, args);
    link->peer = v1::PeerService::NewStub(link->channel);
    link->read = v1::ReadService::NewStub(link->channel);
    link->proof = v1::ProofService::NewStub(link->channel);
    links->links_.push_back(std::move(link));
  }
  return links;
}

PeerLink* PeerLinks::ByOrigin(absl::string_view origin) const {
  for (const auto& l : links_) {
    if (l->config.origin() == origin) return l.get();
  }
  return nullptr;
}

absl::StatusOr<v1::HeldSizeResponse> PeerLinks::HeldSize(
    const PeerLink& link, absl::string_view our_origin) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::HeldSizeRequest req;
  req.set_origin(std::string(our_origin));
  v1::HeldSizeResponse resp;
  absl::Status s = FromGrpc(link.peer->GetHeldSize(&ctx, req, &resp),
                            absl::StrCat("peer ", link.config.origin()));
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::DeliverEvidenceResponse> PeerLinks::Deliver(
    const PeerLink& link, const v1::HandoffEvidence& evidence) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::DeliverEvidenceRequest req;
  *req.mutable_evidence() = evidence;
  v1::DeliverEvidenceResponse resp;
  absl::Status s = FromGrpc(link.peer->DeliverEvidence(&ctx, req, &resp),
                            absl::StrCat("peer ", link.config.origin()));
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<std::string> PeerLinks::Cosign(
    const PeerLink& link, const v1::CosignRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::CosignResponse resp;
  absl::Status s = FromGrpc(link.peer->Cosign(&ctx, request, &resp),
                            absl::StrCat("peer ", link.config.origin()));
  if (!s.ok()) return s;
  return resp.cosigned();
}

absl::StatusOr<uint64_t> GrpcPeerTransport::HeldSize(
    absl::string_view destination, absl::string_view origin) {
  PeerLink* link = links_->ByOrigin(destination);
  if (link == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no peer node is configured for origin ", destination));
  }
  absl::StatusOr<v1::HeldSizeResponse> r = links_->HeldSize(*link, origin);
  if (!r.ok()) return r.status();
  return r->size();
}

absl::Status GrpcPeerTransport::Deliver(absl::string_view destination,
                                        const v1::HandoffEvidence& evidence) {
  PeerLink* link = links_->ByOrigin(destination);
  if (link == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no peer node is configured for origin ", destination));
  }
  return links_->Deliver(*link, evidence).status();
}

absl::StatusOr<std::string> GrpcFollowSource::LatestCheckpoint() {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::CheckpointResponse resp;
  absl::Status s = FromGrpc(
      link_->read->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &resp),
      absl::StrCat("peer ", link_->config.origin(), " checkpoint"));
  if (!s.ok()) return s;
  return resp.note();
}

absl::Status GrpcFollowSource::Entries(
    uint64_t from, uint64_t to,
    const std::function<bool(v1::SignedEntry&)>& take) {
  if (from >= to) return absl::OkStatus();
  grpc::ClientContext ctx;
  // Large catch-ups stream many entries: allow time proportional to them.
  SetDeadline(ctx, timeout_ + absl::Microseconds(100) * (to - from));
  v1::GetEntriesRequest req;
  req.set_from(from);
  req.set_to(to);
  std::unique_ptr<grpc::ClientReader<v1::EntryResponse>> reader =
      link_->read->GetEntries(&ctx, req);
  v1::EntryResponse e;
  uint64_t next = from;
  while (reader->Read(&e)) {
    absl::Status bad;
    if (next == to) {
      bad = absl::DataLossError(absl::StrCat("peer ", link_->config.origin(),
                                             " sent more than entries [", from,
                                             ", ", to, ")"));
    } else if (e.index() != next) {
      bad = absl::DataLossError(absl::StrCat("peer ", link_->config.origin(),
                                             " sent entry ", e.index(),
                                             " where ", next, " was due"));
    }
    const bool more = bad.ok() && take(*e.mutable_entry());
    if (!more) {
      // Stop the stream: nothing more of it is read.
      ctx.TryCancel();
      reader->Finish().ok();
      return bad;
    }
    ++next;
  }
  return FromGrpc(reader->Finish(),
                  absl::StrCat("peer ", link_->config.origin(), " entries"));
}

absl::StatusOr<std::optional<std::string>> GrpcFollowSource::CheckpointIn(
    uint64_t above, uint64_t at_most) {
  std::optional<std::string> best;
  if (at_most <= above) return best;
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::ListCheckpointsRequest req;
  req.set_from_size(above + 1);
  // One checkpoint per size at most: no more than the range can hold.
  req.set_limit(static_cast<uint32_t>(
      std::min<uint64_t>(at_most - above, uint64_t{1} << 16)));
  std::unique_ptr<grpc::ClientReader<v1::CheckpointResponse>> reader =
      link_->read->ListCheckpoints(&ctx, req);
  v1::CheckpointResponse c;
  bool stopped = false;
  while (reader->Read(&c)) {
    if (c.size() > at_most) {  // sizes increase: the rest are larger too
      stopped = true;
      ctx.TryCancel();
      break;
    }
    if (c.size() > above) best = std::move(*c.mutable_note());
  }
  const grpc::Status finish = reader->Finish();
  if (!stopped) {
    SEG_RETURN_IF_ERROR(FromGrpc(
        finish, absl::StrCat("peer ", link_->config.origin(), " checkpoints")));
  }
  return best;
}

absl::StatusOr<std::vector<Hash>> GrpcFollowSource::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout_);
  v1::ConsistencyProofRequest req;
  req.set_old_size(old_size);
  req.set_tree_size(new_size);
  v1::ConsistencyProofResponse resp;
  SEG_RETURN_IF_ERROR(FromGrpc(
      link_->proof->GetConsistencyProof(&ctx, req, &resp),
      absl::StrCat("peer ", link_->config.origin(), " consistency proof")));
  if (resp.old_size() != old_size || resp.tree_size() != new_size) {
    return absl::DataLossError(absl::StrCat(
        "peer ", link_->config.origin(), " sent a consistency proof from ",
        resp.old_size(), " to ", resp.tree_size(), ", asked for ", old_size,
        " to ", new_size));
  }
  return peers::HashesFromBytes(resp.proof(), "consistency proof");
}

}  // namespace segledger::node
