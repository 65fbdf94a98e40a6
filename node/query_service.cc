#include "node/query_service.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/store_queries.h"
#include "node/rpc_util.h"

namespace segledger::node {
namespace {

using google::protobuf::util::TimeUtil;

grpc::ServerUnaryReactor* Done(ServiceContext* ctx,
                               grpc::ServerUnaryReactor* reactor,
                               const absl::Status& status) {
  if (!status.ok()) ctx->metrics->rpc_errors_total.fetch_add(1);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

// Admits the call, checks lot_id and loads the graph the query needs.
absl::Status Load(ServiceContext* ctx, const grpc::ServerContextBase& context,
                  const std::string& lot_id, domain::LoadScope scope,
                  domain::DomainGraph* graph) {
  absl::Status s = ctx->Admit(context, Rpc::kQuery).status();
  if (!s.ok()) return s;
  if (lot_id.empty()) return absl::InvalidArgumentError("lot_id: empty");
  return domain::LoadLotEntries(ctx->store->kv(), ctx->store->origin(), lot_id,
                                scope, graph);
}

}  // namespace

grpc::ServerUnaryReactor* QueryServiceImpl::Timeline(
    grpc::CallbackServerContext* context, const v1::LotQueryRequest* request,
    v1::TimelineResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  domain::DomainGraph graph;
  absl::Status s =
      Load(ctx_, *context, request->lot_id(), domain::LoadScope::kLot, &graph);
  if (!s.ok()) return Done(ctx_, reactor, s);
  for (const domain::TimelineItem& item : graph.Timeline(request->lot_id())) {
    v1::TimelineEvent* e = response->add_events();
    *e->mutable_ref() = item.ref;
    e->set_kind(item.kind);
    e->set_biz_step(item.biz_step);
    e->set_site_id(item.site_id);
    *e->mutable_event_time() = ToProto(item.event_time);
    e->set_utc_offset_minutes(item.utc_offset_minutes);
    *e->mutable_recorded_at() = ToProto(item.recorded_at);
    for (const std::string& sig : item.signatures) e->add_signatures(sig);
    for (const v1::EntryRef& r : item.corrected_by) {
      *e->add_corrected_by() = r;
    }
    e->set_is_correction(item.is_correction);
  }
  return Done(ctx_, reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* QueryServiceImpl::Trace(
    grpc::CallbackServerContext* context, const v1::TraceRequest* request,
    v1::TraceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  domain::DomainGraph graph;
  absl::Status s = Load(ctx_, *context, request->lot_id(),
                        request->forward() ? domain::LoadScope::kForward
                                           : domain::LoadScope::kBackward,
                        &graph);
  if (!s.ok()) return Done(ctx_, reactor, s);
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
  domain::DomainGraph graph;
  absl::Status s =
      Load(ctx_, *context, request->lot_id(), domain::LoadScope::kLot, &graph);
  if (!s.ok()) return Done(ctx_, reactor, s);
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
  return Done(ctx_, reactor, absl::OkStatus());
}

}  // namespace segledger::node
