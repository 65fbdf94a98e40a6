#include "node/query_service.h"

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

}  // namespace

// Admits the call, checks lot_id and loads the graph the query needs: on a
// node that follows other logs, the cached graph of all of them (every
// lot's custody may cross them); else the lot's own entries from the
// DomainHook's indexes plus the hand-off evidence held of their transfers
// (the receiver's receipt of our dispatch, the sender's dispatch of our
// receipt), so a shipment delivered is not shown in transit.
absl::StatusOr<std::shared_ptr<const domain::DomainGraph>>
QueryServiceImpl::Load(const grpc::ServerContextBase& context,
                       const std::string& lot_id, domain::LoadScope scope) {
  SEG_RETURN_IF_ERROR(ctx_->Admit(context, Rpc::kQuery).status());
  if (lot_id.empty()) return absl::InvalidArgumentError("lot_id: empty");
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
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> loaded =
      Load(*context, request->lot_id(), domain::LoadScope::kLot);
  if (!loaded.ok()) return Done(ctx_, reactor, loaded.status());
  const domain::DomainGraph& graph = **loaded;
  for (const domain::TimelineItem& item : graph.Timeline(request->lot_id())) {
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
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* QueryServiceImpl::Trace(
    grpc::CallbackServerContext* context, const v1::TraceRequest* request,
    v1::TraceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> loaded =
      Load(*context, request->lot_id(),
           request->forward() ? domain::LoadScope::kForward
                              : domain::LoadScope::kBackward);
  if (!loaded.ok()) return Done(ctx_, reactor, loaded.status());
  const domain::DomainGraph& graph = **loaded;
  domain::TraceResult t = request->forward()
                              ? graph.Forward(request->lot_id())
                              : graph.Backward(request->lot_id());
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
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* QueryServiceImpl::MassBalance(
    grpc::CallbackServerContext* context, const v1::LotQueryRequest* request,
    v1::MassBalanceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> loaded =
      Load(*context, request->lot_id(), domain::LoadScope::kLot);
  if (!loaded.ok()) return Done(ctx_, reactor, loaded.status());
  const domain::DomainGraph& graph = **loaded;
  domain::LotBalance b = graph.MassBalance(request->lot_id());
  response->set_lot_id(b.lot_id.empty() ? request->lot_id() : b.lot_id);
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
  for (const std::string& t : graph.TransfersOfLot(request->lot_id())) {
    domain::ShipmentBalance sb = graph.Shipment(t);
    auto lot = sb.lots.find(request->lot_id());
    if (lot == sb.lots.end()) continue;
    v1::MassBalanceResponse::Shipment* out = response->add_shipments();
    out->set_transfer_id(t);
    out->set_received(sb.received);
    out->set_dispatched(lot->second.first.ToString());
    out->set_received_quantity(lot->second.second.ToString());
    out->set_unit(sb.units[request->lot_id()]);
    // This lot's quantities the shipment could not count (record, units).
    std::string note;
    for (const domain::UncountedQuantity& u : sb.uncounted) {
      if (u.lot_id != request->lot_id()) continue;
      absl::StrAppend(&note, note.empty() ? "" : "; ",
                      domain::DescribeUncounted(u));
    }
    out->set_unit_note(note);
  }
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* QueryServiceImpl::Findings(
    grpc::CallbackServerContext* context, const v1::FindingsRequest* request,
    v1::FindingsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kQuery).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  absl::StatusOr<domain::FindingSeverity> min =
      ParseSeverity(request->min_severity());
  if (!min.ok()) return Done(ctx_, reactor, min.status());
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> loaded = All();
  if (!loaded.ok()) return Done(ctx_, reactor, loaded.status());
  const domain::DomainGraph& graph = **loaded;
  domain::FindingOptions options = findings_;
  options.now = absl::Now();
  std::vector<domain::DomainFinding> found;
  if (ctx_->peers != nullptr && ctx_->peers->peer_store() != nullptr) {
    absl::StatusOr<std::vector<domain::DomainFinding>> all =
        peers::CrossLogFindings(*ctx_->peers->peer_store(), graph, options);
    if (!all.ok()) return Done(ctx_, reactor, all.status());
    found = *std::move(all);
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
    if (f.severity < *min) continue;
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
  return Done(ctx_, reactor, absl::OkStatus());
}

}  // namespace segledger::node
