// Identifier syntax (DOMAIN.md "Record catalogue"): GS1 EPC URNs (TDS 2.x
// section 6, e.g. urn:epc:class:lgtin:4012345.012345.998877), GS1 Digital
// Link URIs (https://id.gs1.org/01/<GTIN-14>/10/<lot>, GTIN check digit
// verified) and private https:// URIs; plus the Chinese unified social
// credit code (GB 32100-2015) and the 20-digit drug traceability code.
// Pure functions; thread-safe.
#ifndef SEGLEDGER_LEDGER_DOMAIN_IDS_H_
#define SEGLEDGER_LEDGER_DOMAIN_IDS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace segledger::domain {

// OK when `id` is an accepted identifier; INVALID_ARGUMENT saying why
// (without a field path: callers prefix it).
absl::Status ValidateIdentifier(absl::string_view id);

// GS1 mod-10 check digit over all digits but the last (GTIN, GLN, SSCC).
bool Gs1CheckDigitOk(absl::string_view digits);

// GB 32100-2015: 18 characters of "0-9A-HJ-NPQRTUWXY", the last a mod-31
// check character over the first 17.
absl::Status ValidateUnifiedSocialCreditCode(absl::string_view code);
// The check character for the first 17 characters (reference for tests).
char UsccCheckChar(absl::string_view first17);

// China drug traceability code: exactly 20 digits.
absl::Status ValidateTraceCode(absl::string_view code);

// ISO 3166-2 subdivision code such as "CN-SH" or "DE-BY".
absl::Status ValidateProvince(absl::string_view code);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_IDS_H_
