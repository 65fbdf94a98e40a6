// Findings of an audit-bundle verification and their text/JSON rendering.
//
// A finding names the log (origin), the entry index or checkpoint size, the
// bundle file involved and the check that failed, so an inspector can go
// straight to the evidence. Core LogVerifier findings are converted 1:1
// (their stable names from FindingKindName become `check`). Pure; value
// types, thread-compatible.
#ifndef SEGLEDGER_TOOLS_AUDIT_FINDING_H_
#define SEGLEDGER_TOOLS_AUDIT_FINDING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger/hash.h"
#include "ledger/json_string.h"
#include "ledger/verifier.h"

namespace segledger::tools {

// Checks of the bundle layer (names used in JSON output; stable).
inline constexpr absl::string_view kCheckManifest = "manifest";
inline constexpr absl::string_view kCheckMissingFile = "missing_file";
inline constexpr absl::string_view kCheckMalformedBundle = "malformed_bundle";
inline constexpr absl::string_view kCheckTileMismatch = "tile_mismatch";
inline constexpr absl::string_view kCheckPartialMismatch = "partial_mismatch";
inline constexpr absl::string_view kCheckConsistency = "consistency";
inline constexpr absl::string_view kCheckCheckpointFile = "checkpoint_file";
inline constexpr absl::string_view kCheckKeys = "key_invalid";
inline constexpr absl::string_view kCheckCosignature = "cosignature";
inline constexpr absl::string_view kCheckEvidence = "peer_evidence";
inline constexpr absl::string_view kCheckCrossLog = "cross_log_reference";
inline constexpr absl::string_view kCheckDomain = "domain";

struct AuditFinding {
  std::string check;  // a kCheck* name or a core FindingKindName
  Severity severity = Severity::kMajor;
  std::string origin;  // empty for bundle-wide findings
  int64_t index = -1;  // entry index or checkpoint size; -1 when none
  std::string path;    // bundle-relative file, when one is involved
  std::string detail;
  // Every record involved (domain findings: DOMAIN.md's (origin, index,
  // leaf hash)); origin/index above repeat the first.
  struct Record {
    std::string origin;
    uint64_t index = 0;
    Hash leaf_hash{};
  };
  std::vector<Record> records;
};

AuditFinding FromCoreFinding(const Finding& f);

// What was verified, for the summary (text, JSON and HTML report).
struct LogSummary {
  std::string origin;
  std::string log_dir;
  uint64_t size = 0;              // latest checkpoint size
  std::string root_hex;           // root recomputed from the entries
  std::string root_base64;        // the same, as checkpoints write it
  std::string checkpoint_sha256;  // hex SHA-256 of the checkpoint file
  std::vector<uint64_t> checkpoint_sizes;
  uint64_t entries_verified = 0;
  uint64_t tiles_checked = 0;
  std::vector<std::string> cosigners;  // key names that cosigned a checkpoint
};

struct KeySummary {
  std::string verifier_key;
  std::string name;
  std::string fingerprint;  // hex SHA-256 of the 32-byte public key
};

struct AuditReport {
  std::string source;  // directory or URL
  std::vector<LogSummary> logs;
  std::vector<KeySummary> keys;
  std::vector<AuditFinding> findings;
  double seconds = 0;
  // The time the domain findings were judged at (the latest recorded_at of
  // the bundle's logs; InfinitePast when no domain audit ran).
  absl::Time domain_as_of = absl::InfinitePast();

  // Findings at or above `min`.
  size_t CountAtLeast(Severity min) const;
};

// JSON string escaping, shared with the rest of the project.
using ::segledger::JsonEscape;

// Human-readable report: summary lines then one line per finding.
std::string FormatReportText(const AuditReport& report);
// One JSON object: {"source","ok","seconds","logs":[...],"keys":[...],
// "findings":[{"check","severity","origin","index","path","detail",
// "records":[{"origin","index","leaf_hash"}]}]} (+ "domain_as_of" when a
// domain audit ran).
std::string FormatReportJson(const AuditReport& report, Severity fail_at);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_AUDIT_FINDING_H_
