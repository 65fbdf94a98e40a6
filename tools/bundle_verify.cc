#include "tools/bundle_verify.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ledger/checkpoint.h"
#include "ledger/tiles.h"
#include "tools/bundle_layout.h"
#include "tools/log_check.h"
#include "tools/proof_file.h"

namespace segledger::tools {
namespace {

AuditFinding Make(absl::string_view check, Severity sev, std::string origin,
                  int64_t index, std::string path, std::string detail) {
  return AuditFinding{
      std::string(check), sev, std::move(origin), index, std::move(path),
      std::move(detail),  {}};
}

// MANIFEST (`*from_file`), or a listing of log directories when it is
// missing or broken.
absl::StatusOr<Manifest> LoadManifest(const Fetcher& f,
                                      std::vector<AuditFinding>& findings,
                                      bool* from_file) {
  *from_file = false;
  absl::StatusOr<std::string> text = f.Fetch(kManifestPath);
  if (text.ok()) {
    absl::StatusOr<Manifest> m = ParseManifest(*text);
    if (m.ok() && !m->logs.empty()) {
      // The writer's exact form (tools/README.md): anything else - lines of
      // different kinds reordered, blank lines, a lost final newline - is
      // an alteration even when every claim still checks out.
      if (FormatManifest(*m) != *text) {
        findings.push_back(Make(kCheckManifest, Severity::kWarning, "", -1,
                                std::string(kManifestPath),
                                "not in the form the exporter writes (line "
                                "order, blank lines or final newline)"));
      }
      *from_file = true;
      return m;
    }
    findings.push_back(Make(
        kCheckManifest, Severity::kMajor, "", -1, std::string(kManifestPath),
        m.ok() ? "lists no log" : std::string(m.status().message())));
  } else if (absl::IsUnavailable(text.status())) {
    return text.status();
  } else {
    findings.push_back(Make(kCheckManifest, Severity::kMajor, "", -1,
                            std::string(kManifestPath),
                            std::string(text.status().message())));
  }
  absl::StatusOr<std::vector<std::string>> dirs = f.ListRoot();
  Manifest m;
  if (dirs.ok()) {
    std::sort(dirs->begin(), dirs->end());
    for (const std::string& d : *dirs) {
      if (d != "cosignatures" && f.Fetch(CheckpointPath(d)).ok()) {
        m.logs.push_back(ManifestLog{d, {}});
      }
    }
  }
  if (m.logs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(f.Describe(),
                     " is not an audit bundle (no MANIFEST, no log with a "
                     "checkpoint)"));
  }
  return m;
}

// The MANIFEST is trusted by no verifier: where the bundle can be listed
// (a directory), a log directory or a file under cosignatures/ that it does
// not name is a finding. A MANIFEST cut at a line end would otherwise hide
// a log, a cosignature or peer evidence from every check.
void CheckUnlisted(const Fetcher& f, const Manifest& m,
                   std::vector<AuditFinding>& findings) {
  std::set<std::string> logs;
  for (const ManifestLog& ml : m.logs) logs.insert(ml.log_dir);
  absl::StatusOr<std::vector<std::string>> dirs = f.ListRoot();
  if (dirs.ok()) {
    std::sort(dirs->begin(), dirs->end());
    for (const std::string& d : *dirs) {
      if (d == "cosignatures" || logs.count(d)) continue;
      findings.push_back(Make(kCheckManifest, Severity::kMajor, "", -1, d,
                              "a directory the MANIFEST does not list"));
    }
  }
  absl::StatusOr<std::vector<std::string>> files = f.ListFiles("cosignatures");
  if (!files.ok()) return;
  std::set<std::string> listed(m.cosignatures.begin(), m.cosignatures.end());
  listed.insert(m.evidence.begin(), m.evidence.end());
  std::sort(files->begin(), files->end());
  for (const std::string& file : *files) {
    if (listed.count(file)) continue;
    findings.push_back(Make(kCheckManifest, Severity::kMajor, "", -1, file,
                            "a file the MANIFEST does not list"));
  }
}

std::vector<NoteVerifier> LoadKeys(const Fetcher& f, AuditReport& report) {
  std::vector<NoteVerifier> keys;
  absl::StatusOr<std::string> text = f.Fetch(kKeysPath);
  if (!text.ok()) {
    report.findings.push_back(Make(kCheckMissingFile, Severity::kCritical, "",
                                   -1, std::string(kKeysPath),
                                   std::string(text.status().message())));
    return keys;
  }
  int line_no = 0;
  absl::string_view prev;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_no;
    // tools/README.md: one key per line, sorted, each line ending in "\n".
    bool last = line_no > 1 &&
                text->size() == static_cast<size_t>(line.data() - text->data() +
                                                    line.size());
    if (line.empty() ? !last : (line_no > 1 && line <= prev)) {
      report.findings.push_back(Make(
          kCheckKeys, Severity::kWarning, "", line_no, std::string(kKeysPath),
          line.empty() ? "blank line" : "not sorted after the line before"));
    }
    if (line.empty()) continue;
    prev = line;
    absl::StatusOr<NoteVerifier> v = NoteVerifier::FromVerifierKey(line);
    if (!v.ok()) {
      report.findings.push_back(Make(kCheckKeys, Severity::kMajor, "", line_no,
                                     std::string(kKeysPath),
                                     std::string(v.status().message())));
      continue;
    }
    const Ed25519PublicKey& pk = v->public_key();
    report.keys.push_back(
        KeySummary{v->VerifierKey(), v->name(),
                   HashHex(Sha256(absl::string_view(
                       reinterpret_cast<const char*>(pk.data()), pk.size())))});
    keys.push_back(*std::move(v));
  }
  if (!text->empty() && text->back() != '\n') {
    report.findings.push_back(Make(kCheckKeys, Severity::kWarning, "", line_no,
                                   std::string(kKeysPath),
                                   "no newline after the last key"));
  }
  return keys;
}

std::vector<NoteVerifier> TrustedKeys(const VerifyOptions& options,
                                      std::vector<NoteVerifier> bundle_keys,
                                      AuditReport& report) {
  if (options.pinned_keys.empty()) return bundle_keys;
  std::set<std::string> pinned;
  for (const NoteVerifier& k : options.pinned_keys) {
    pinned.insert(k.VerifierKey());
  }
  for (const NoteVerifier& k : bundle_keys) {
    if (!pinned.count(k.VerifierKey())) {
      report.findings.push_back(
          Make(kCheckKeys, Severity::kWarning, "", -1, std::string(kKeysPath),
               absl::StrCat("bundle key ", k.VerifierKey(), " is not pinned")));
    }
  }
  return options.pinned_keys;
}

}  // namespace

absl::StatusOr<AuditReport> VerifyBundle(const Fetcher& fetcher,
                                         const VerifyOptions& options,
                                         BundleContents* contents) {
  absl::Time start = absl::Now();
  AuditReport report;
  report.source = fetcher.Describe();
  bool manifest_file = false;
  absl::StatusOr<Manifest> manifest =
      LoadManifest(fetcher, report.findings, &manifest_file);
  if (!manifest.ok()) return manifest.status();
  if (manifest_file) CheckUnlisted(fetcher, *manifest, report.findings);
  std::vector<NoteVerifier> keys =
      TrustedKeys(options, LoadKeys(fetcher, report), report);
  std::vector<LogCheckResult> logs;
  for (const ManifestLog& ml : manifest->logs) {
    LogCheckInput in;
    in.fetcher = &fetcher;
    in.log_dir = ml.log_dir;
    in.sizes = ml.checkpoint_sizes;
    in.keys = keys;
    in.pool = options.pool;
    in.progress = options.progress;
    in.keep_entries = options.keep_entries;
    in.on_entry = options.on_entry;
    logs.push_back(CheckLog(in));
    std::vector<AuditFinding>& lf = logs.back().findings;
    report.findings.insert(report.findings.end(), lf.begin(), lf.end());
  }
  CheckCosignatures(fetcher, *manifest, keys, logs, report);
  CheckEvidence(fetcher, *manifest, keys, logs, report, contents);
  for (LogCheckResult& r : logs) {
    report.logs.push_back(r.summary);
    if (contents != nullptr) contents->logs.push_back(std::move(r.entries));
  }
  if (contents != nullptr) contents->keys = keys;
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const AuditFinding& a, const AuditFinding& b) {
                     return std::tie(a.origin, a.index) <
                            std::tie(b.origin, b.index);
                   });
  report.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return report;
}

}  // namespace segledger::tools
