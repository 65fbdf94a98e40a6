#include "tools/bundle_layout.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace segledger::tools {

std::string FormatManifest(const Manifest& m) {
  std::string out = absl::StrCat(kManifestMagic, "\n");
  for (const ManifestLog& log : m.logs) {
    absl::StrAppend(&out, "log ", log.log_dir);
    for (uint64_t s : log.checkpoint_sizes) absl::StrAppend(&out, " ", s);
    absl::StrAppend(&out, "\n");
  }
  for (const std::string& p : m.cosignatures) {
    absl::StrAppend(&out, "cosignature ", p, "\n");
  }
  for (const std::string& p : m.evidence) {
    absl::StrAppend(&out, "evidence ", p, "\n");
  }
  return out;
}

bool IsSafeRelativePath(absl::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x21 || c == '\\') return false;
  }
  return true;
}

namespace {

absl::Status ParseLogLine(const std::vector<absl::string_view>& fields,
                          size_t line_no, Manifest& m) {
  if (fields.size() < 3 || !IsSafeRelativePath(fields[1]) ||
      fields[1].find('/') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MANIFEST line ", line_no, ": want 'log <dir> <size>...'"));
  }
  ManifestLog log;
  log.log_dir = std::string(fields[1]);
  for (size_t i = 2; i < fields.size(); ++i) {
    uint64_t s = 0;
    if (!absl::SimpleAtoi(fields[i], &s) ||
        (!log.checkpoint_sizes.empty() && s <= log.checkpoint_sizes.back())) {
      return absl::InvalidArgumentError(
          absl::StrCat("MANIFEST line ", line_no, ": size '", fields[i],
                       "' is not a number above the previous one"));
    }
    log.checkpoint_sizes.push_back(s);
  }
  m.logs.push_back(std::move(log));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Manifest> ParseManifest(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.empty() || lines[0] != kManifestMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat("MANIFEST does not start with ", kManifestMagic));
  }
  Manifest m;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<absl::string_view> f = absl::StrSplit(lines[i], ' ');
    if (f[0] == "log") {
      absl::Status s = ParseLogLine(f, i + 1, m);
      if (!s.ok()) return s;
    } else if ((f[0] == "cosignature" || f[0] == "evidence") && f.size() == 2 &&
               IsSafeRelativePath(f[1])) {
      (f[0] == "evidence" ? m.evidence : m.cosignatures)
          .push_back(std::string(f[1]));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "MANIFEST line ", i + 1, ": unknown or malformed '", lines[i], "'"));
    }
  }
  return m;
}

std::string CheckpointPath(absl::string_view log_dir) {
  return absl::StrCat(log_dir, "/checkpoint");
}

std::string CheckpointAtPath(absl::string_view log_dir, uint64_t size) {
  return absl::StrCat(log_dir, "/checkpoints/", size);
}

std::string LogPath(absl::string_view log_dir, absl::string_view rel) {
  return absl::StrCat(log_dir, "/", rel);
}

}  // namespace segledger::tools
