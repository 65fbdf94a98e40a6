// segaudit verify and verify-proof.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ledger/thread_pool.h"
#include "tools/audit_finding.h"
#include "tools/bundle_verify.h"
#include "tools/commands.h"
#include "tools/domain_audit.h"
#include "tools/fetcher.h"
#include "tools/file_util.h"
#include "tools/proof_file.h"

namespace segledger::tools {
namespace {

Severity SeverityFromName(const std::string& s) {
  if (s == "info") return Severity::kInfo;
  if (s == "major") return Severity::kMajor;
  if (s == "critical") return Severity::kCritical;
  return Severity::kWarning;
}

// Pinned keys from --key and --keys; false (after one stderr line) on error.
bool LoadPinned(const std::vector<std::string>& keys,
                const std::string& keys_file, std::vector<NoteVerifier>* out) {
  std::vector<std::string> lines = keys;
  if (!keys_file.empty()) {
    absl::StatusOr<std::string> text = ReadFileToString(keys_file);
    if (!text.ok()) {
      std::fprintf(stderr, "segaudit: %s\n",
                   std::string(text.status().message()).c_str());
      return false;
    }
    for (absl::string_view l : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      lines.emplace_back(l);
    }
  }
  for (const std::string& l : lines) {
    absl::StatusOr<NoteVerifier> v = NoteVerifier::FromVerifierKey(l);
    if (!v.ok()) {
      std::fprintf(stderr, "segaudit: bad verifier key '%s': %s\n", l.c_str(),
                   std::string(v.status().message()).c_str());
      return false;
    }
    out->push_back(*std::move(v));
  }
  return true;
}

// A progress bar on stderr, redrawn at most every 100 ms.
class ProgressBar {
 public:
  void Update(uint64_t done, uint64_t total) {
    absl::Time now = absl::Now();
    if (now - last_ < absl::Milliseconds(100) && done < total) return;
    last_ = now;
    int pct = total ? static_cast<int>(done * 100 / total) : 100;
    std::string bar(pct / 4, '#');
    std::fprintf(stderr, "\r[%-25s] %3d%% %llu/%llu entries", bar.c_str(), pct,
                 static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
    dirty_ = true;
  }
  ~ProgressBar() {
    if (dirty_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  absl::Time last_ = absl::InfinitePast();
  bool dirty_ = false;
};

}  // namespace

int RunVerify(const VerifyFlags& flags) {
  VerifyOptions options;
  if (!LoadPinned(flags.keys, flags.keys_file, &options.pinned_keys)) {
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Fetcher>> fetcher = OpenFetcher(flags.where);
  if (!fetcher.ok()) {
    std::fprintf(stderr, "segaudit: %s\n",
                 std::string(fetcher.status().message()).c_str());
    return kExitUsage;
  }
  size_t workers = flags.threads > 0 ? static_cast<size_t>(flags.threads - 1)
                                     : ThreadPool::DefaultWorkers();
  ThreadPool pool(workers);
  options.pool = &pool;
  std::unique_ptr<ProgressBar> bar;
  if (flags.progress && ::isatty(2)) {
    bar = std::make_unique<ProgressBar>();
    options.progress = [&bar](uint64_t d, uint64_t t) { bar->Update(d, t); };
  }
  // The domain findings' graph is built as entries are verified.
  absl::StatusOr<AuditReport> report = AuditBundle(**fetcher, options);
  bar.reset();
  if (!report.ok()) {
    std::fprintf(stderr, "segaudit: %s\n",
                 std::string(report.status().message()).c_str());
    return absl::IsUnavailable(report.status()) ? kExitUnreachable : kExitUsage;
  }
  Severity fail_at = SeverityFromName(flags.severity);
  std::string out = flags.format == "json" ? FormatReportJson(*report, fail_at)
                                           : FormatReportText(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report->CountAtLeast(fail_at) == 0 ? kExitOk : kExitFindings;
}

int RunVerifyProof(const VerifyProofFlags& flags) {
  std::vector<NoteVerifier> keys;
  if (!LoadPinned(flags.keys, "", &keys)) return kExitUsage;
  absl::StatusOr<std::string> text = ReadFileToString(flags.file);
  if (!text.ok()) {
    std::fprintf(stderr, "segaudit: %s\n",
                 std::string(text.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<VerifiedEntryProof> v =
      VerifyEntryProofFile(*text, keys, flags.origin);
  const bool json = flags.format == "json";
  // An input error (not a proof file, a bad index, bad base64) is one line
  // on stderr and exit 2; only a verification failure is a result (exit 1).
  if (absl::IsInvalidArgument(v.status())) {
    std::string msg(v.status().message());
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::replace(msg.begin(), msg.end(), '\r', ' ');
    std::fprintf(stderr, "segaudit: %s\n", msg.c_str());
    return kExitUsage;
  }
  if (!v.ok()) {
    std::string msg(v.status().message());
    if (json) {
      std::printf("{\"ok\":false,\"error\":\"%s\"}\n", JsonEscape(msg).c_str());
    } else {
      std::printf("FAILED: %s\n", msg.c_str());
    }
    return kExitFindings;
  }
  std::string signers = absl::StrJoin(v->signers, ",");
  if (json) {
    std::printf(
        "{\"ok\":true,\"origin\":\"%s\",\"index\":%llu,\"tree_size\":%llu,"
        "\"leaf_hash\":\"%s\",\"checkpoint_signers\":\"%s\"}\n",
        JsonEscape(v->checkpoint.origin).c_str(),
        static_cast<unsigned long long>(v->index),
        static_cast<unsigned long long>(v->checkpoint.size),
        HashBase64(v->leaf_hash).c_str(), JsonEscape(signers).c_str());
  } else {
    std::printf(
        "OK: entry %llu of %s is in the tree of size %llu (leaf %s), "
        "checkpoint signed by %s\n",
        static_cast<unsigned long long>(v->index), v->checkpoint.origin.c_str(),
        static_cast<unsigned long long>(v->checkpoint.size),
        HashHex(v->leaf_hash).c_str(), signers.c_str());
  }
  return kExitOk;
}

}  // namespace segledger::tools
