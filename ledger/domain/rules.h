// The rule table (issue 4 item 3): one row per rule with a stable id, the
// record kind it applies to (KIND_NOT_SET: every record), whether it is a
// pilot parameter, and its check. A check returns OK, FAILED_PRECONDITION
// with the reason (the hook prefixes "rule <id>: "), or another code for
// errors reading state. Thread-safe (the table is constant).
#ifndef SEGLEDGER_LEDGER_DOMAIN_RULES_H_
#define SEGLEDGER_LEDGER_DOMAIN_RULES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ledger/domain/rule_context.h"

namespace segledger::domain {

enum class PilotParam { kNone, kCmoExperience, kMahStaff };

struct Rule {
  absl::string_view id;
  v1::Record::KindCase kind;
  PilotParam pilot;
  absl::string_view summary;
  absl::Status (*check)(RuleContext& ctx);
};

absl::Span<const Rule> RuleTable();

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_RULES_H_
