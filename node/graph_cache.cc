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
  if (hooks_.on_build) hooks_.on_build();
  auto graph = std::make_shared<domain::DomainGraph>();
  SEG_RETURN_IF_ERROR(peers::LoadOwnLog(*log_, graph.get()));
  if (peers_ != nullptr) {
    SEG_RETURN_IF_ERROR(peers::LoadVerifiedLogs(*peers_, graph.get()));
  }
  if (builds_ != nullptr) builds_->fetch_add(1);
  return std::shared_ptr<const domain::DomainGraph>(std::move(graph));
}

absl::StatusOr<std::shared_ptr<const domain::DomainGraph>> GraphCache::Get() {
  // What this call must reflect: the inputs as it arrives. Both only grow,
  // so any graph built from at least them will do - in particular one whose
  // build started while this call waited, even if the logs grew again
  // meanwhile (under steady appends, waiters would otherwise each rebuild
  // in turn instead of sharing one build).
  const Inputs need = Current();
  Inputs now;
  {
    absl::MutexLock lock(&mu_);
    for (;;) {
      if (graph_ != nullptr && built_from_.Covers(need)) return graph_;
      if (!building_) break;
      if (hooks_.on_wait) hooks_.on_wait();
      mu_.Await(absl::Condition(
          +[](bool* building) { return !*building; }, &building_));
    }
    building_ = true;
    now = Current();  // before loading: the graph is never older
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
