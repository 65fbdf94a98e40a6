// Strict standard base64 (RFC 4648 section 4, with padding).
//
// Signed notes and verifier keys are byte formats other implementations
// check, so decoding is strict: no whitespace, no missing or extra padding,
// no non-canonical trailing bits. (absl::Base64Unescape is lenient.)
// Pure and thread-safe.
#ifndef SEGLEDGER_LEDGER_BASE64_H_
#define SEGLEDGER_LEDGER_BASE64_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger {

std::string Base64Encode(absl::string_view bytes);

// INVALID_ARGUMENT naming the first offending position when `text` is not
// canonical padded standard base64.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_BASE64_H_
