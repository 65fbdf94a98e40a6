// Structured log lines for segledgerd: one JSON object per line on stderr,
//   {"ts":"2026-01-01T00:00:00.000Z","level":"info","msg":"...",<fields>}
// Thread-safe: each line is written with one fwrite under a mutex.
#ifndef SEGLEDGER_NODE_JSON_LOG_H_
#define SEGLEDGER_NODE_JSON_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "ledger/json_string.h"

namespace segledger::node {

// Field values are strings; numbers are passed through absl::StrCat.
using LogFields = std::vector<std::pair<std::string, std::string>>;

// Writes one JSON line. `level` is "debug", "info", "warn" or "error".
void LogJson(absl::string_view level, absl::string_view msg,
             const LogFields& fields = {});

// Silences LogJson below "warn" (tests).
void SetQuietLog(bool quiet);

// JSON string quoting, shared with the rest of the project.
using ::segledger::JsonQuote;

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_JSON_LOG_H_
