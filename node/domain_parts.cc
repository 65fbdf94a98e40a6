#include "node/domain_parts.h"

#include "ledger/domain/evidence.h"
#include "ledger/domain/hook.h"
#include "node/query_service.h"

namespace segledger::node {
namespace {

// The DomainHook over the peer layer's evidence (verified dispatches,
// registrations of other parties).
class LedgerDomainParts final : public DomainParts {
 public:
  LedgerDomainParts(const v1::NodeConfig& config, domain::Evidence* evidence)
      : hook_(Config(config, evidence)) {}

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

  domain::DomainHook hook_;
  std::unique_ptr<QueryServiceImpl> query_;  // outlives the server (Node)
};

}  // namespace

std::unique_ptr<DomainParts> MakeDomainParts(const v1::NodeConfig& config,
                                             domain::Evidence* evidence) {
  return std::make_unique<LedgerDomainParts>(config, evidence);
}

}  // namespace segledger::node
