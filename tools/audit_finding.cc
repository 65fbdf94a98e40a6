#include "tools/audit_finding.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace segledger::tools {

AuditFinding FromCoreFinding(const Finding& f) {
  AuditFinding out;
  out.check = std::string(FindingKindName(f.kind));
  out.severity = f.severity;
  out.origin = f.origin;
  out.index = f.index;
  out.detail = f.detail;
  return out;
}

size_t AuditReport::CountAtLeast(Severity min) const {
  size_t n = 0;
  for (const AuditFinding& f : findings) {
    if (static_cast<int>(f.severity) >= static_cast<int>(min)) ++n;
  }
  return n;
}

namespace {

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", JsonEscape(s), "\"");
}

std::string FindingText(const AuditFinding& f) {
  std::string line = absl::StrCat(SeverityName(f.severity), " ", f.check);
  if (!f.origin.empty()) absl::StrAppend(&line, " log=", f.origin);
  if (f.index >= 0) absl::StrAppend(&line, " index=", f.index);
  if (!f.path.empty()) absl::StrAppend(&line, " file=", f.path);
  absl::StrAppend(&line, ": ", f.detail, "\n");
  return line;
}

}  // namespace

std::string FormatReportText(const AuditReport& report) {
  std::string out = absl::StrCat("bundle ", report.source, "\n");
  for (const LogSummary& log : report.logs) {
    absl::StrAppendFormat(
        &out,
        "log %s: size %d, root %s, %d checkpoints, %d entries, "
        "%d tiles checked, checkpoint sha256 %s\n",
        log.origin, log.size, log.root_hex, log.checkpoint_sizes.size(),
        log.entries_verified, log.tiles_checked, log.checkpoint_sha256);
    if (!log.cosigners.empty()) {
      absl::StrAppend(&out, "  cosigned by:");
      for (const std::string& c : log.cosigners) absl::StrAppend(&out, " ", c);
      absl::StrAppend(&out, "\n");
    }
  }
  for (const KeySummary& k : report.keys) {
    absl::StrAppend(&out, "key ", k.name, " sha256 ", k.fingerprint, "\n");
  }
  for (const AuditFinding& f : report.findings) out += FindingText(f);
  absl::StrAppendFormat(&out, "%d findings (%d major or critical) in %.2f s\n",
                        report.findings.size(),
                        report.CountAtLeast(Severity::kMajor), report.seconds);
  return out;
}

std::string FormatReportJson(const AuditReport& report, Severity fail_at) {
  std::string out = absl::StrCat(
      "{\"source\":", Quote(report.source),
      ",\"ok\":", report.CountAtLeast(fail_at) == 0 ? "true" : "false",
      absl::StrFormat(",\"seconds\":%.3f", report.seconds), ",\"logs\":[");
  for (size_t i = 0; i < report.logs.size(); ++i) {
    const LogSummary& l = report.logs[i];
    absl::StrAppend(&out, i ? "," : "", "{\"origin\":", Quote(l.origin),
                    ",\"log_dir\":", Quote(l.log_dir), ",\"size\":", l.size,
                    ",\"root_hex\":", Quote(l.root_hex),
                    ",\"checkpoint_sha256\":", Quote(l.checkpoint_sha256),
                    ",\"entries_verified\":", l.entries_verified,
                    ",\"tiles_checked\":", l.tiles_checked,
                    ",\"checkpoint_sizes\":[");
    for (size_t j = 0; j < l.checkpoint_sizes.size(); ++j) {
      absl::StrAppend(&out, j ? "," : "", l.checkpoint_sizes[j]);
    }
    absl::StrAppend(&out, "],\"cosigners\":[");
    for (size_t j = 0; j < l.cosigners.size(); ++j) {
      absl::StrAppend(&out, j ? "," : "", Quote(l.cosigners[j]));
    }
    absl::StrAppend(&out, "]}");
  }
  absl::StrAppend(&out, "],\"keys\":[");
  for (size_t i = 0; i < report.keys.size(); ++i) {
    const KeySummary& k = report.keys[i];
    absl::StrAppend(&out, i ? "," : "", "{\"name\":", Quote(k.name),
                    ",\"verifier_key\":", Quote(k.verifier_key),
                    ",\"fingerprint\":", Quote(k.fingerprint), "}");
  }
  absl::StrAppend(&out, "],\"findings\":[");
  for (size_t i = 0; i < report.findings.size(); ++i) {
    const AuditFinding& f = report.findings[i];
    absl::StrAppend(&out, i ? "," : "", "{\"check\":", Quote(f.check),
                    ",\"severity\":", Quote(SeverityName(f.severity)),
                    ",\"origin\":", Quote(f.origin), ",\"index\":", f.index,
                    ",\"path\":", Quote(f.path),
                    ",\"detail\":", Quote(f.detail), "}");
  }
  absl::StrAppend(&out, "]}\n");
  return out;
}

}  // namespace segledger::tools
