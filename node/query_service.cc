#include "node/query_service.h"

#include <atomic>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/store_queries.h"
#include "ledger/peers/follower.h"
#include "ledger/proto_time.h"
#include "ledger/status_macros.h"
#include "node/peer_layer.h"
#include "node/rpc_util.h"

namespace segledger::node {
namespace {

// The transfers whose other side a lot query shows: the lot's own
// dispatches and receipts (timeline, balance), or those of every lot the
// trace reaches.
std::set<std::string> TransfersOfQuery(const domain::DomainGraph& graph,
                                       const std::string& lot_id,
                                       domain::LoadScope scope) {
  switch (scope) {
    case domain::LoadScope::kBackward:
      return graph.Backward(lot_id).transfers;
    case domain::LoadScope::kForward:
      return graph.Forward(lot_id).transfers;
    case domain::LoadScope::kLot:
      break;
  }
  return graph.TransfersOfLot(lot_id);
}

absl::Status CheckLotId(const std::string& lot_id) {
  if (lot_id.empty()) return absl::InvalidArgumentError("lot_id: empty");
  return absl::OkStatus();
}

// Admits the call, checks the request (`check`, cheap: a refusal never
// waits behind other queries) and runs `work`, which fills the response,
// on the query threads (ctx->queries): loading a graph and querying it can
// take seconds (findings over a million entries) and must not hold a gRPC
// thread that appends also need. Beyond ctx->max_queries queued or
// running, the call is refused at once. A call cancelled (its client gave
// up, or the node's shutdown grace ran out) or arriving at a draining node
// while it waited ends without running its work.
grpc::ServerUnaryReactor* RunQuery(ServiceContext* ctx,
                                   grpc::CallbackServerContext* context,
                                   absl::Status check,
                                   std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status admitted = ctx->Admit(*context, Rpc::kQuery).status();
  if (!admitted.ok()) return Done(ctx, reactor, admitted);
  if (!check.ok()) return Done(ctx, reactor, check);
  std::atomic<uint64_t>& pending = ctx->metrics->queries_pending;
  const uint64_t before = pending.fetch_add(1);
  if (ctx->max_queries > 0 && before >= ctx->max_queries) {
    pending.fetch_sub(1);
    return Done(ctx, reactor,
                absl::ResourceExhaustedError(absl::StrCat(
                    "max_queries: ", ctx->max_queries,
                    " queries are queued or running on this node; retry "
                    "when one has ended")));
  }
  auto run = [ctx, context, reactor, work = std::move(work)] {
    absl::Status s;
    if (context->IsCancelled()) {
      s = absl::CancelledError("the call was cancelled before its query ran");
    } else if (ctx->draining.load()) {
      s = absl::UnavailableError("node is shutting down");
    } else {
      s = work();
    }
    ctx->metrics->queries_pending.fetch_sub(1);
    Done(ctx, reactor, s);
  };
  if (ctx->queries != nullptr) {
    ctx->queries->Schedule(std::move(run));
  } else {
    run();
  }
  return reactor;
}

}  // namespace

// The graph a lot query needs: on a node that follows other logs, the
// cached graph of all of them (every lot's custody may cross them); else
// the lot's own entries from the DomainHook's indexes plus the hand-off
// evidence held of their transfers (the receiver's receipt of our
// dispatch, the sender's dispatch of our receipt), so a shipment delivered
// is not shown in transit.
absl::StatusOr<std::shared_ptr<const domain::DomainGraph>>
QueryServiceImpl::Load(const std::string& lot_id, domain::LoadScope scope) {
  if (ctx_->peers != nullptr && ctx_->peers->follows_any()) return All();
  auto graph = std::make_shared<domain::DomainGraph>();
  SEG_RETURN_IF_ERROR(domain::LoadLotEntries(
      ctx_->store->kv(), ctx_->store->origin(), lot_id, scope, graph.get()));
  if (ctx_->peers != nullptr && ctx_->peers->peer_store() != nullptr) {
    SEG_RETURN_IF_ERROR(peers::LoadTransferEvidence(
        *ctx_->peers->peer_store(), TransfersOfQuery(*graph, lot_id, scope),
        graph.get()));
  }
  return std::shared_ptr<const domain::DomainGraph>(std::move(graph));
}

// Every log this node holds verified: its own, the followed copies and
// the hand-off evidence (the MAH's view of the whole product). Building it
// is O(entries) (docs/scaling.md), so it is cached until one of them grows.
absl::StatusOr<std::shared_ptr<const domain::DomainGraph>>
QueryServiceImpl::All() {
  return cache_.Get();
}

namespace {

absl::StatusOr<domain::FindingSeverity> ParseSeverity(absl::string_view s) {
  if (s.empty()) return domain::FindingSeverity::kWarning;
  for (domain::FindingSeverity f :
       {domain::FindingSeverity::kInfo, domain::FindingSeverity::kWarning,
        domain::FindingSeverity::kMajor, domain::FindingSeverity::kCritical}) {
    if (domain::FindingSeverityName(f) == s) return f;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "min_severity: \"", s, "\" (want info, warning, major or critical)"));
}

}  // namespace

grpc::ServerUnaryReactor* QueryServiceImpl::Timeline(
    grpc::CallbackServerContext* context, const v1::LotQueryRequest* request,
    v1::TimelineResponse* response) {
  return RunQuery(
      ctx_, context, CheckLotId(request->lot_id()),
      [this, request, response] { return DoTimeline(*request, response); });
}

grpc::ServerUnaryReactor* QueryServiceImpl::Trace(
    grpc::CallbackServerContext* context, const v1::TraceRequest* request,
    v1::TraceResponse* response) {
  return RunQuery(
      ctx_, context, CheckLotId(request->lot_id()),
      [this, request, response] { return DoTrace(*request, response); });
}

grpc::ServerUnaryReactor* QueryServiceImpl::MassBalance(
    grpc::CallbackServerContext* context, const v1::LotQueryRequest* request,
    v1::MassBalanceResponse* response) {
  return RunQuery(
      ctx_, context, CheckLotId(request->lot_id()),
      [this, request, response] { return DoMassBalance(*request, response); });
}

grpc::ServerUnaryReactor* QueryServiceImpl::Findings(
    grpc::CallbackServerContext* context, const v1::FindingsRequest* request,
    v1::FindingsResponse* response) {
  absl::StatusOr<domain::FindingSeverity> min =
      ParseSeverity(request->min_severity());
  const domain::FindingSeverity severity =
      min.value_or(domain::FindingSeverity::kWarning);  // used when ok
  return RunQuery(ctx_, context, min.status(), [this, severity, response] {
    return DoFindings(severity, response);
  });
}

absl::Status QueryServiceImpl::DoTimeline(const v1::LotQueryRequest& request,
                                          v1::TimelineResponse* response) {
  SEG_ASSIGN_OR_RETURN(std::shared_ptr<const domain::DomainGraph> loaded,
                       Load(request.lot_id(), domain::LoadScope::kLot));
  const domain::DomainGraph& graph = *loaded;
  for (const domain::TimelineItem& item : graph.Timeline(request.lot_id())) {
    v1::TimelineEvent* e = response->add_events();
    *e->mutable_ref() = item.ref;
    e->set_kind(item.kind);
    e->set_biz_step(item.biz_step);
    e->set_site_id(item.site_id);
    *e->mutable_event_time() = ToProtoTime(item.event_time);
    e->set_utc_offset_minutes(item.utc_offset_minutes);
    *e->mutable_recorded_at() = ToProtoTime(item.recorded_at);
    for (const std::string& sig : item.signatures) e->add_signatures(sig);
    for (const v1::EntryRef& r : item.corrected_by) {
      *e->add_corrected_by() = r;
    }
    e->set_is_correction(item.is_correction);
    e->set_via_transfer_id(item.via_transfer);
  }
  return absl::OkStatus();
}

absl::Status QueryServiceImpl::DoTrace(const v1::TraceRequest& request,
                                       v1::TraceResponse* response) {
  SEG_ASSIGN_OR_RETURN(
      std::shared_ptr<const domain::DomainGraph> loaded,
      Load(request.lot_id(), request.forward() ? domain::LoadScope::kForward
                                               : domain::LoadScope::kBackward));
  const domain::DomainGraph& graph = *loaded;
  domain::TraceResult t = request.forward() ? graph.Forward(request.lot_id())
                                            : graph.Backward(request.lot_id());
  for (const auto& [id, lot] : t.lots) {
    v1::TracedLotInfo* l = response->add_lots();
    l->set_lot_id(lot.lot_id);
    l->set_material_id(lot.material_id);
    for (const std::string& site : lot.sites) l->add_sites(site);
  }
  for (const std::string& x : t.sites) response->add_sites(x);
  for (const std::string& x : t.transfers) response->add_transfers(x);
  for (const std::string& x : t.in_transit) response->add_in_transit(x);
  for (const v1::EntryRef& r : t.records) *response->add_records() = r;
  return absl::OkStatus();
}

absl::Status QueryServiceImpl::DoMassBalance(
    const v1::LotQueryRequest& request, v1::MassBalanceResponse* response) {
  SEG_ASSIGN_OR_RETURN(std::shared_ptr<const domain::DomainGraph> loaded,
                       Load(request.lot_id(), domain::LoadScope::kLot));
  const domain::DomainGraph& graph = *loaded;
  const std::string& lot_id = request.lot_id();
  domain::LotBalance b = graph.MassBalance(lot_id);
  response->set_lot_id(b.lot_id.empty() ? lot_id : b.lot_id);
  response->set_unit(b.unit);
  for (const auto& [site_id, site] : b.sites) {
    v1::MassBalanceResponse::Site* out = response->add_sites();
    out->set_site_id(site_id);
    out->set_produced(site.produced.ToString());
    out->set_received(site.received.ToString());
    out->set_consumed(site.consumed.ToString());
    out->set_dispatched(site.dispatched.ToString());
    out->set_sampled(site.sampled.ToString());
    out->set_destroyed(site.destroyed.ToString());
    out->set_on_hand(site.on_hand.ToString());
  }
  response->set_in_transit(b.in_transit.ToString());
  for (const std::string& t : graph.TransfersOfLot(lot_id)) {
    domain::ShipmentBalance sb = graph.Shipment(t);
    auto lot = sb.lots.find(lot_id);
    if (lot == sb.lots.end()) continue;
    v1::MassBalanceResponse::Shipment* out = response->add_shipments();
    out->set_transfer_id(t);
    out->set_received(sb.received);
    out->set_dispatched(lot->second.first.ToString());
    out->set_received_quantity(lot->second.second.ToString());
    out->set_unit(sb.units[lot_id]);
    // This lot's quantities the shipment could not count (record, units).
    std::string note;
    for (const domain::UncountedQuantity& u : sb.uncounted) {
      if (u.lot_id != lot_id) continue;
      absl::StrAppend(&note, note.empty() ? "" : "; ",
                      domain::DescribeUncounted(u));
    }
    out->set_unit_note(note);
  }
  return absl::OkStatus();
}

absl::Status QueryServiceImpl::DoFindings(domain::FindingSeverity min,
                                          v1::FindingsResponse* response) {
  SEG_ASSIGN_OR_RETURN(std::shared_ptr<const domain::DomainGraph> loaded,
                       All());
  const domain::DomainGraph& graph = *loaded;
  domain::FindingOptions options = findings_;
  options.now = absl::Now();
  std::vector<domain::DomainFinding> found;
  if (ctx_->peers != nullptr && ctx_->peers->peer_store() != nullptr) {
    SEG_ASSIGN_OR_RETURN(
        found,
        peers::CrossLogFindings(*ctx_->peers->peer_store(), graph, options));
  } else {
    found = graph.Findings(options);
  }
  std::set<std::string> complete = {ctx_->store->origin()};
  if (ctx_->peers != nullptr) {
    for (const v1::PeerNode& p : ctx_->peers->config().peers()) {
      if (p.follow()) complete.insert(p.origin());
    }
  }
  for (const domain::DomainFinding& f :
       domain::FindingsAbout(std::move(found), complete)) {
    if (f.severity < min) continue;
    v1::QueryFinding* out = response->add_findings();
    out->set_kind(std::string(domain::DomainFindingKindName(f.kind)));
    out->set_severity(std::string(domain::FindingSeverityName(f.severity)));
    out->set_message(f.message);
    for (const v1::EntryRef& r : f.records) *out->add_records() = r;
  }
  response->add_logs(
      absl::StrCat(ctx_->store->origin(), " ", ctx_->store->Size()));
  if (ctx_->peers != nullptr) {
    for (const v1::PeerNode& p : ctx_->peers->config().peers()) {
      absl::StatusOr<v1::FollowState> st =
          ctx_->peers->peer_store()->FollowStateOf(p.origin());
      if (st.ok())
        response->add_logs(absl::StrCat(p.origin(), " ", st->size()));
    }
  }
  return absl::OkStatus();
}

}  // namespace segledger::node
