#include "node/graph_cache.h"

#include <utility>

#include "ledger/peers/follower.h"
#include "ledger/status_macros.h"

namespace segledger::node {

GraphCache::Inputs GraphCache::Current() const {
  Inputs in;
  in.log_size = log_->Size();
  in.peer_generation = peers_ != nullptr ? peers_->generation() : 0;
  return in;
}

absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> GraphCache::Build()
    const {
  auto graph = std::make_shared<domain::DomainGraph>();
  SEG_RETURN_IF_ERROR(peers::LoadOwnLog(*log_, graph.get()));
  if (peers_ != nullptr) {
    SEG_RETURN_IF_ERROR(peers::LoadVerifiedLogs(*peers_, graph.get()));
  }
  if (builds_ != nullptr) builds_->fetch_add(1);
  return std::shared_ptr<const domain::DomainGraph>(std::move(graph));
}

absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> GraphCache::Get() {
  Inputs now;
  {
    absl::MutexLock lock(&mu_);
    // Wait out a build in progress: it may be of exactly what we need.
    // The inputs are read again after it, as they may have moved meanwhile.
    for (;;) {
      now = Current();  // before loading: the graph is never older
      if (graph_ != nullptr && built_from_ == now) return graph_;
      if (!building_) break;
      mu_.Await(absl::Condition(
          +[](bool* building) { return !*building; }, &building_));
    }
    building_ = true;
  }
  absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> built = Build();
  absl::MutexLock lock(&mu_);
  building_ = false;
  if (built.ok()) {
    graph_ = *built;
    built_from_ = now;
  }
  return built;
}

}  // namespace segledger::node
