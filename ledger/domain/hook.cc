#include "ledger/domain/hook.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/domain/apply_internal.h"
#include "ledger/domain/rules.h"
#include "ledger/domain/validate.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

PilotMode ModeOf(const DomainConfig& c, PilotParam p) {
  switch (p) {
    case PilotParam::kCmoExperience:
      return c.cmo_experience;
    case PilotParam::kMahStaff:
      return c.mah_staff;
    default:
      return PilotMode::kRefuse;
  }
}

RuleContext MakeContext(const v1::EntryBody& body, store::IndexTxn& txn,
                        const DomainConfig& config, RegistrationCache* cache) {
  const v1::RecordHeader* h = HeaderOf(body.record());
  absl::Time t = h != nullptr && h->has_event_time()
                     ? FromProtoTime(h->event_time().time())
                     : FromProtoTime(body.recorded_at());
  return RuleContext{body, body.record(), h, txn, config, t, cache};
}

void WriteFindings(const v1::EntryBody& body,
                   const std::vector<v1::RuleFinding>& findings,
                   store::IndexTxn& txn) {
  for (const auto& f : findings) {
    WriteRow(txn, absl::StrCat("d/find/", Be64(body.index()), "/", f.rule_id()),
             f);
  }
}

}  // namespace

DomainHook::DomainHook(DomainConfig config)
    : config_(std::move(config)),
      registrations_(std::make_shared<RegistrationCache>()) {}

absl::Status DomainHook::Check(const v1::EntryBody& body, store::IndexTxn& txn,
                               std::vector<v1::RuleFinding>* findings) const {
  SEG_RETURN_IF_ERROR(ValidateRecord(body.record()));
  return CheckRules(body, txn, findings);
}

absl::Status DomainHook::CheckRules(
    const v1::EntryBody& body, store::IndexTxn& txn,
    std::vector<v1::RuleFinding>* findings) const {
  RuleContext ctx = MakeContext(body, txn, config_, registrations_.get());
  return CheckRules(ctx, findings);
}

absl::Status DomainHook::CheckRules(
    RuleContext& ctx, std::vector<v1::RuleFinding>* findings) const {
  const v1::EntryBody& body = ctx.body;
  for (const Rule& rule : RuleTable()) {
    if (rule.kind != v1::Record::KIND_NOT_SET &&
        rule.kind != body.record().kind_case()) {
      continue;
    }
    PilotMode mode = ModeOf(config_, rule.pilot);
    if (mode == PilotMode::kOff) continue;
    absl::Status st = rule.check(ctx);
    if (st.ok()) continue;
    if (!absl::IsFailedPrecondition(st)) return st;  // state read errors
    if (mode == PilotMode::kFinding && rule.pilot != PilotParam::kNone) {
      v1::RuleFinding f;
      f.set_rule_id(std::string(rule.id));
      f.set_index(body.index());
      f.set_message(std::string(st.message()));
      if (findings != nullptr) findings->push_back(std::move(f));
      continue;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("rule ", rule.id, ": ", st.message()));
  }
  return absl::OkStatus();
}

absl::Status DomainHook::Apply(const v1::EntryBody& body,
                               store::IndexTxn& txn) const {
  RuleContext ctx = MakeContext(body, txn, config_, registrations_.get());
  return Apply(ctx);
}

absl::Status DomainHook::Apply(RuleContext& ctx) const {
  SEG_RETURN_IF_ERROR(ApplyRecord(ctx));
  ApplyIndexes(ctx);
  return absl::OkStatus();
}

absl::Status DomainHook::OnAppend(const v1::EntryBody& body,
                                  store::IndexTxn& txn) {
  SEG_RETURN_IF_ERROR(ValidateRecord(body.record()));
  return CheckAndApply(body, txn);
}

absl::Status DomainHook::Precheck(const store::AppendRecord& record) const {
  return ValidateRecord(record.record);
}

absl::Status DomainHook::OnPrecheckedAppend(const v1::EntryBody& body,
                                            store::IndexTxn& txn) {
  return CheckAndApply(body, txn);
}

absl::Status DomainHook::CheckAndApply(const v1::EntryBody& body,
                                       store::IndexTxn& txn) {
  // One context for both: the update reuses the rows the rules parsed.
  RuleContext ctx = MakeContext(body, txn, config_, registrations_.get());
  std::vector<v1::RuleFinding> findings;
  SEG_RETURN_IF_ERROR(CheckRules(ctx, &findings));
  SEG_RETURN_IF_ERROR(Apply(ctx));
  WriteFindings(body, findings, txn);
  return absl::OkStatus();
}

absl::Status DomainHook::PilotFindings(
    const v1::EntryBody& body, store::IndexTxn& txn,
    std::vector<v1::RuleFinding>* findings) const {
  if (HeaderOf(body.record()) == nullptr) return absl::OkStatus();
  RuleContext ctx = MakeContext(body, txn, config_, registrations_.get());
  for (const Rule& rule : RuleTable()) {
    if (rule.pilot == PilotParam::kNone ||
        rule.kind != body.record().kind_case() ||
        ModeOf(config_, rule.pilot) != PilotMode::kFinding) {
      continue;
    }
    absl::Status st = rule.check(ctx);
    if (absl::IsFailedPrecondition(st)) {
      v1::RuleFinding f;
      f.set_rule_id(std::string(rule.id));
      f.set_index(body.index());
      f.set_message(std::string(st.message()));
      findings->push_back(std::move(f));
    } else if (!st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

absl::Status RebuildState(
    const std::function<absl::Status(const BodyVisitor&)>& for_each_body,
    const DomainHook& hook, store::IndexTxn& txn) {
  std::vector<std::string> old;
  SEG_RETURN_IF_ERROR(txn.ScanPrefix(
      kDomainPrefix, [&](absl::string_view k, absl::string_view) {
        old.emplace_back(k);
        return true;
      }));
  for (const auto& k : old) txn.Delete(k);
  return for_each_body([&](const v1::EntryBody& body) -> absl::Status {
    // Pilot-rule findings depend only on this log's records: re-derive them
    // before applying, exactly as OnAppend did.
    std::vector<v1::RuleFinding> findings;
    SEG_RETURN_IF_ERROR(hook.PilotFindings(body, txn, &findings));
    SEG_RETURN_IF_ERROR(hook.Apply(body, txn));
    WriteFindings(body, findings, txn);
    return absl::OkStatus();
  });
}

}  // namespace segledger::domain
