#include "tools/audit_finding.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/base64.h"

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
  absl::StrAppend(&line, ": ", f.detail);
  // The other records involved (the first is log= index= above).
  for (size_t i = 1; i < f.records.size(); ++i) {
    absl::StrAppend(&line, i == 1 ? " (also " : ", ", f.records[i].origin,
                    " index ", f.records[i].index);
  }
  absl::StrAppend(&line, f.records.size() > 1 ? ")\n" : "\n");
  return line;
}

std::string AsOf(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

std::string FormatReportText(const AuditReport& report) {
  std::string out = absl::StrCat("bundle ", report.source, "\n");
  for (const LogSummary& log : report.logs) {
    absl::StrAppendFormat(
        &out,
        "log %s: size %d, root %s (base64 %s), %d checkpoints, %d entries, "
        "%d tiles checked, checkpoint sha256 %s\n",
        log.origin, log.size, log.root_hex, log.root_base64,
        log.checkpoint_sizes.size(), log.entries_verified, log.tiles_checked,
        log.checkpoint_sha256);
    if (!log.cosigners.empty()) {
      absl::StrAppend(&out, "  cosigned by:");
      for (const std::string& c : log.cosigners) absl::StrAppend(&out, " ", c);
      absl::StrAppend(&out, "\n");
    }
  }
  for (const KeySummary& k : report.keys) {
    absl::StrAppend(&out, "key ", k.name, " sha256 ", k.fingerprint, "\n");
  }
  if (report.domain_as_of != absl::InfinitePast()) {
    absl::StrAppend(&out, "domain findings as of ", AsOf(report.domain_as_of),
                    " (the latest record in the bundle)\n");
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
                    ",\"root_base64\":", Quote(l.root_base64),
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
                    ",\"detail\":", Quote(f.detail), ",\"records\":[");
    for (size_t j = 0; j < f.records.size(); ++j) {
      const AuditFinding::Record& r = f.records[j];
      absl::StrAppend(&out, j ? "," : "", "{\"origin\":", Quote(r.origin),
                      ",\"index\":", r.index, ",\"leaf_hash\":",
                      Quote(Base64Encode(absl::string_view(
                          reinterpret_cast<const char*>(r.leaf_hash.data()),
                          r.leaf_hash.size()))),
                      "}");
    }
    absl::StrAppend(&out, "]}");
  }
  absl::StrAppend(&out, "]");
  if (report.domain_as_of != absl::InfinitePast()) {
    absl::StrAppend(&out,
                    ",\"domain_as_of\":", Quote(AsOf(report.domain_as_of)));
  }
  absl::StrAppend(&out, "}\n");
  return out;
}

}  // namespace segledger::tools
