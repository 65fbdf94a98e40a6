// segaudit subcommands: each takes parsed flags and returns the process
// exit code of DESIGN.md ("Command-line contract"): 0 success, 1
// verification failed / findings at or above the requested severity, 2
// usage or input error (one line on stderr naming the problem).
// Thread-compatible; called once from main.
#ifndef SEGLEDGER_TOOLS_COMMANDS_H_
#define SEGLEDGER_TOOLS_COMMANDS_H_

#include <cstddef>
#include <string>
#include <vector>

namespace segledger::tools {

struct AuditReport;
struct BundleContents;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct VerifyFlags {
  std::string where;            // directory or http:// URL
  std::string format = "text";  // text | json
  std::string severity = "warning";
  std::vector<std::string> keys;  // pinned verifier keys
  std::string keys_file;          // pinned keys, one per line
  int threads = 0;                // 0: all cores
  bool progress = true;
};
int RunVerify(const VerifyFlags& flags);

struct VerifyProofFlags {
  std::string file;
  std::vector<std::string> keys;  // verifier keys (log and witnesses)
  std::string origin;             // expected origin (optional)
  std::string format = "text";
};
int RunVerifyProof(const VerifyProofFlags& flags);

struct ExportFlags {
  std::vector<std::string> data_dirs;  // one per log
  std::vector<std::string> key_files;  // extra key files
  std::string out;
};
int RunExport(const ExportFlags& flags);

struct EpcisFlags {
  std::string where;
  std::string out;  // empty: stdout
};
int RunEpcis(const EpcisFlags& flags);

struct ReportFlags {
  std::string where;
  std::string html;
};
int RunReport(const ReportFlags& flags);

// Verifies the bundle at `where` keeping its entries (cmd_epcis.cc).
// Returns kExitOk with `report` and `contents` filled, else the exit code
// after one stderr line.
int LoadVerified(const std::string& where, AuditReport* report,
                 BundleContents* contents);

// What epcis and report exit with once their output is written: the file
// is written either way, and a bundle whose verification (the report from
// LoadVerified) has `major` findings at major or critical severity is
// flagged by exit 1 after one stderr line ending in `hint`; kExitOk when
// `major` is 0.
int UnverifiedExit(size_t major, const char* hint);

}  // namespace segledger::tools

#endif  // SEGLEDGER_TOOLS_COMMANDS_H_
