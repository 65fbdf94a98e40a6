#include "node/domain_parts.h"

#include "absl/strings/str_cat.h"
#include "ledger/domain/evidence.h"
#include "ledger/domain/hook.h"
#include "ledger/status_macros.h"
#include "node/query_service.h"

namespace segledger::node {
namespace {

absl::StatusOr<domain::PilotMode> ModeOf(v1::PilotRuleMode m,
                                         absl::string_view field) {
  switch (m) {
    case v1::PILOT_RULE_MODE_UNSPECIFIED:
    case v1::PILOT_RULE_MODE_REFUSE:
      return domain::PilotMode::kRefuse;
    case v1::PILOT_RULE_MODE_FINDING:
      return domain::PilotMode::kFinding;
    case v1::PILOT_RULE_MODE_OFF:
      return domain::PilotMode::kOff;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "pilot_rules.", field, ": unknown mode ", static_cast<int>(m)));
  }
}

absl::Status AtMost(uint32_t v, uint32_t max, absl::string_view field) {
  if (v <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("pilot_rules.", field, ": ", v, " above ", max));
}

// The DomainHook's configuration for the node's party and site, with the
// pilot parameters of `config.pilot_rules` (defaults: DOMAIN.md's 3 years
// and 2 MAH staff, both refusing).
absl::StatusOr<domain::DomainConfig> Config(const v1::NodeConfig& config,
                                            domain::Evidence* evidence) {
  domain::DomainConfig c;
  c.party_id = config.party();
  c.site_id = config.site_id();
  c.evidence = evidence;
  const v1::PilotRules& p = config.pilot_rules();
  SEG_RETURN_IF_ERROR(
      AtMost(p.cmo_min_experience_years(), 50, "cmo_min_experience_years"));
  SEG_RETURN_IF_ERROR(
      AtMost(p.min_mah_staff_on_site(), 100, "min_mah_staff_on_site"));
  if (p.cmo_min_experience_years() > 0) {
    c.cmo_min_experience_years = static_cast<int>(p.cmo_min_experience_years());
  }
  if (p.min_mah_staff_on_site() > 0) {
    c.min_mah_staff_on_site = static_cast<int>(p.min_mah_staff_on_site());
  }
  SEG_ASSIGN_OR_RETURN(c.cmo_experience,
                       ModeOf(p.cmo_experience(), "cmo_experience"));
  SEG_ASSIGN_OR_RETURN(c.mah_staff, ModeOf(p.mah_staff(), "mah_staff"));
  return c;
}

// The DomainHook over the peer layer's evidence (verified dispatches,
// registrations of other parties).
class LedgerDomainParts final : public DomainParts {
 public:
  explicit LedgerDomainParts(domain::DomainConfig config)
      : hook_(config), config_(std::move(config)) {}

  store::AppendHook* hook() override { return &hook_; }
  void RegisterServices(grpc::ServerBuilder& builder,
                        ServiceContext* ctx) override {
    domain::FindingOptions findings;
    findings.cmo_min_experience_years = config_.cmo_min_experience_years;
    findings.min_mah_staff_on_site = config_.min_mah_staff_on_site;
    query_ = std::make_unique<QueryServiceImpl>(ctx, findings);
    builder.RegisterService(query_.get());
  }

 private:
  domain::DomainHook hook_;
  const domain::DomainConfig config_;
  std::unique_ptr<QueryServiceImpl> query_;  // outlives the server (Node)
};

}  // namespace

absl::StatusOr<std::unique_ptr<DomainParts>> MakeDomainParts(
    const v1::NodeConfig& config, domain::Evidence* evidence) {
  SEG_ASSIGN_OR_RETURN(domain::DomainConfig c, Config(config, evidence));
  return std::make_unique<LedgerDomainParts>(std::move(c));
}

}  // namespace segledger::node
