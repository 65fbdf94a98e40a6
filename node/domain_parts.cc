#include "node/domain_parts.h"

#include "ledger/domain/evidence.h"
#include "ledger/domain/hook.h"
#include "node/query_service.h"

namespace segledger::node {
namespace {

// The DomainHook over evidence held in memory. Peer evidence (verified
// dispatches, registrations of other parties) is added by the peer layer.
class LedgerDomainParts final : public DomainParts {
 public:
  explicit LedgerDomainParts(const v1::NodeConfig& config)
      : hook_(Config(config, &evidence_)) {}

  store::AppendHook* hook() override { return &hook_; }
  void RegisterServices(grpc::ServerBuilder& builder,
                        ServiceContext* ctx) override {
    query_ = std::make_unique<QueryServiceImpl>(ctx);
    builder.RegisterService(query_.get());
  }

 private:
  static domain::DomainConfig Config(const v1::NodeConfig& config,
                                     domain::Evidence* evidence) {
    domain::DomainConfig c;
    c.party_id = config.party();
    c.site_id = config.site_id();
    c.evidence = evidence;
    return c;
  }

  domain::InMemoryEvidence evidence_;  // before hook_: the hook points here
  domain::DomainHook hook_;
  std::unique_ptr<QueryServiceImpl> query_;  // outlives the server (Node)
};

}  // namespace

std::unique_ptr<DomainParts> MakeDomainParts(const v1::NodeConfig& config) {
  return std::make_unique<LedgerDomainParts>(config);
}

}  // namespace segledger::node
