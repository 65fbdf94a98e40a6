// The domain model's plug-in points in the node: the AppendHook that checks
// the GMP rules and keeps the indexes (ledger/domain), and the query
// service over them.
// Thread-safety: as the hook and services it holds.
#ifndef SEGLEDGER_NODE_DOMAIN_PARTS_H_
#define SEGLEDGER_NODE_DOMAIN_PARTS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/server_builder.h"
#include "ledger/domain/evidence.h"
#include "ledger/store/log_store.h"
#include "node/service_context.h"
#include "segledger/v1/admin_service.pb.h"

namespace segledger::node {

class DomainParts {
 public:
  virtual ~DomainParts() = default;
  // The hook passed to LogStore::Open (owned by this object).
  virtual store::AppendHook* hook() = 0;
  // Registers the query service(s); `ctx` outlives the server.
  virtual void RegisterServices(grpc::ServerBuilder& builder,
                                ServiceContext* ctx) = 0;
};

// The domain parts of this build for the node's party and site (`config`
// has party set). The DomainHook of ledger/domain checks every record
// against `evidence` (not owned; must outlive the parts) for what other
// logs hold: verified dispatches and registrations. INVALID_ARGUMENT
// naming the field for a bad `pilot_rules`.
absl::StatusOr<std::unique_ptr<DomainParts>> MakeDomainParts(
    const v1::NodeConfig& config, domain::Evidence* evidence);

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_DOMAIN_PARTS_H_
