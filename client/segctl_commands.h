// segctl's commands (DESIGN.md "Command-line contract"), separated from
// flag parsing so tests can call them. Each returns the process exit code:
//   0 ok, 1 verification failed, 2 usage or input error, 3 node unreachable
//   or refused. Errors go to `err` as one line naming the problem.
// Thread-compatible.
#ifndef SEGLEDGER_CLIENT_SEGCTL_COMMANDS_H_
#define SEGLEDGER_CLIENT_SEGCTL_COMMANDS_H_

#include <cstdint>
#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "client/client.h"

namespace segledger::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitVerifyFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

enum class Format { kJson, kText };

struct CommandEnv {
  Client* client = nullptr;
  Format format = Format::kJson;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

// Exit code for a failed call: 2 when the input is at fault
// (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, NOT_FOUND,
// ALREADY_EXISTS), 3 otherwise (unreachable, refused, or a failure of the
// node such as a full disk).
int ExitCodeFor(const absl::Status& status);
// Prints "segctl: <CODE>: <message>" (one line) and returns
// ExitCodeFor(status).
int ReportError(const CommandEnv& env, const absl::Status& status);

// Reads proto3-JSON AppendRecordRequest lines from `in` (blank lines are
// skipped), appends them in order through an append stream and prints one
// {"index":..,"leaf_hash":".."} line per appended record, in input order.
// Every line is parsed before anything is sent: a malformed line appends
// nothing (exit 2). The node checks and appends each record on its own, so
// one it refuses does not stop the others: each refused record gets one
// stderr line "segctl: <CODE>: line <N>: <node's message>", records left
// unacknowledged by a broken stream one line together, and the exit code
// is ExitCodeFor() the first record not appended (0 when all were).
int RunAppend(const CommandEnv& env, std::istream& in);
int RunCheckpoint(const CommandEnv& env, int64_t size);  // -1: latest
int RunEntries(const CommandEnv& env, uint64_t from, uint64_t to);
// With a non-empty `proof_file`, also writes a C2SP tlog-proof file for the
// entry (its SignedEntry in the extra line, the proof and the checkpoint of
// that size), which `segaudit verify-proof` checks offline.
int RunProveInclusion(const CommandEnv& env, uint64_t index, uint64_t size,
                      const std::string& proof_file = "");
int RunProveConsistency(const CommandEnv& env, uint64_t old_size,
                        uint64_t size);
int RunStatus(const CommandEnv& env);
int RunCheckpointNow(const CommandEnv& env);
int RunRotateKey(const CommandEnv& env, const v1::RotateKeyRequest& req);
int RunBackup(const CommandEnv& env, const std::string& dir);
// `what` is "timeline", "trace-back", "trace-forward" or "balance".
int RunQuery(const CommandEnv& env, const std::string& what,
             const std::string& lot_id);
// Writes the audit bundle of the node's log up to its latest checkpoint to
// `out_dir` (must not exist), after checking the entries against the
// signed checkpoint (client/export_source.h). Exit 1 when the node's data
// does not check out (nothing is written), 2 when `out_dir` exists or the
// log has no checkpoint, 3 when unreachable. Every log the node follows
// is exported too (checked the same way against the keys the node trusts
// for it), and the node's peer data: cosigned checkpoints and hand-off
// evidence (DESIGN.md "Audit bundle and tiles", cosignatures/). Prints
// {"out":..,"origin":..,"size":..,"followed":[..],"evidence":..,
// "cosigned":..}.
int RunExport(const CommandEnv& env, const std::string& out_dir);
// Findings over every log the node holds verified (QueryService.Findings):
// one JSON line per finding {"kind","severity","message","records"}; exit
// 1 when any is at or above `min_severity`, else 0.
int RunFindings(const CommandEnv& env, const std::string& min_severity);

}  // namespace segledger::client

#endif  // SEGLEDGER_CLIENT_SEGCTL_COMMANDS_H_
