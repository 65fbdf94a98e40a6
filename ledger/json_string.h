// JSON string escaping (RFC 8259 section 7) for the hand-written JSON that
// the node's logs, segctl, segaudit and segbench print. Pure, thread-safe.
#ifndef SEGLEDGER_LEDGER_JSON_STRING_H_
#define SEGLEDGER_LEDGER_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace segledger {

// `s` escaped for use inside a JSON string: '"' and '\\' are escaped, \n \r
// \t use their short forms, other control bytes \u00XX. Bytes >= 0x20 are
// copied as they are (callers pass UTF-8).
std::string JsonEscape(absl::string_view s);

// JsonEscape(s) between double quotes.
std::string JsonQuote(absl::string_view s);

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_JSON_STRING_H_
