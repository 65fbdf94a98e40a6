#include "tools/bundle_writer.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/status_macros.h"
#include "ledger/tiles.h"
#include "tools/bundle_layout.h"
#include "tools/file_util.h"
#include "tools/proof_file.h"

namespace segledger::tools {
namespace {

// Collects files under a temporary root; remembers directories to fsync.
class BundleOut {
 public:
  BundleOut(std::string root, bool sync)
      : root_(std::move(root)), sync_(sync) {}
  absl::Status Put(const std::string& rel, absl::string_view data) {
    std::string path = absl::StrCat(root_, "/", rel);
    dirs_.insert(std::filesystem::path(path).parent_path().string());
    return WriteStringToFile(path, data, sync_);
  }
  absl::Status SyncDirs() {
    if (!sync_) return absl::OkStatus();
    // Deepest first so each directory's entry in its parent is durable.
    std::set<std::string> all;
    for (const std::string& d : dirs_) {
      for (std::filesystem::path p(d); p.string().size() >= root_.size();
           p = p.parent_path()) {
        all.insert(p.string());
        if (p.string() == root_) break;
      }
    }
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      SEG_RETURN_IF_ERROR(SyncDir(*it));
    }
    return absl::OkStatus();
  }

 private:
  std::string root_;
  bool sync_;
  std::set<std::string> dirs_;
};

absl::Status WriteTiles(LogExportSource& src, const std::string& dir,
                        const std::vector<uint64_t>& sizes, BundleOut& out) {
  std::set<std::string> done;
  for (uint64_t size : sizes) {
    for (const TileId& t : HashTilesForSize(size)) {
      std::string rel = LogPath(dir, HashTilePath(t));
      if (!done.insert(rel).second) continue;
      SEG_ASSIGN_OR_RETURN(std::string data, src.ReadHashTile(t));
      SEG_RETURN_IF_ERROR(out.Put(rel, data));
    }
    for (const TileId& t : EntryTilesForSize(size)) {
      std::string rel = LogPath(dir, EntryBundlePath(t));
      if (!done.insert(rel).second) continue;
      SEG_ASSIGN_OR_RETURN(std::string entries, src.ReadEntryBundle(t));
      SEG_RETURN_IF_ERROR(out.Put(rel, entries));
      SEG_ASSIGN_OR_RETURN(std::string sigs, src.ReadSignatureBundle(t));
      SEG_RETURN_IF_ERROR(out.Put(LogPath(dir, SignatureBundlePath(t)), sigs));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteExtras(LogExportSource& src, Manifest& manifest,
                         BundleOut& out) {
  SEG_ASSIGN_OR_RETURN(std::vector<std::string> cosigned,
                       src.CosignedCheckpoints());
  for (const std::string& note : cosigned) {
    SEG_ASSIGN_OR_RETURN(Checkpoint cp, PeekCheckpoint(note));
    std::string rel =
        absl::StrCat("cosignatures/", LogDirName(cp.origin), "/", cp.size, ".",
                     HashHex(Sha256(note)).substr(0, 8));
    SEG_RETURN_IF_ERROR(out.Put(rel, note));
    manifest.cosignatures.push_back(rel);
  }
  SEG_ASSIGN_OR_RETURN(std::vector<std::string> evidence, src.PeerEvidence());
  for (const std::string& proof : evidence) {
    SEG_ASSIGN_OR_RETURN(ProofFile p, ParseProofFile(proof));
    SEG_ASSIGN_OR_RETURN(Checkpoint cp, PeekCheckpoint(p.checkpoint));
    std::string rel =
        absl::StrCat("cosignatures/evidence/", LogDirName(cp.origin), "/",
                     p.index, ".", cp.size, ".tlog-proof");
    SEG_RETURN_IF_ERROR(out.Put(rel, proof));
    manifest.evidence.push_back(rel);
  }
  return absl::OkStatus();
}

absl::Status WriteLog(LogExportSource& src, Manifest& manifest,
                      std::map<std::string, bool>& keys, BundleOut& out) {
  const std::string origin = src.Origin();
  const std::string dir = LogDirName(origin);
  SEG_ASSIGN_OR_RETURN(std::vector<std::string> notes, src.Checkpoints());
  if (notes.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("log ", origin, " has no checkpoint to export"));
  }
  ManifestLog mlog{dir, {}};
  for (const std::string& note : notes) {
    SEG_ASSIGN_OR_RETURN(Checkpoint cp, PeekCheckpoint(note));
    if (cp.origin != origin || (!mlog.checkpoint_sizes.empty() &&
                                cp.size <= mlog.checkpoint_sizes.back())) {
      return absl::InvalidArgumentError(
          absl::StrCat("log ", origin, ": checkpoint of '", cp.origin,
                       "' size ", cp.size, " out of order or of another log"));
    }
    mlog.checkpoint_sizes.push_back(cp.size);
    SEG_RETURN_IF_ERROR(out.Put(CheckpointAtPath(dir, cp.size), note));
  }
  SEG_RETURN_IF_ERROR(out.Put(CheckpointPath(dir), notes.back()));
  absl::Status s = WriteTiles(src, dir, mlog.checkpoint_sizes, out);
  if (!s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("log ", origin, ": ", s.message()));
  }
  for (const NoteVerifier& v : src.Verifiers()) keys[v.VerifierKey()] = true;
  manifest.logs.push_back(std::move(mlog));
  return WriteExtras(src, manifest, out);
}

}  // namespace

absl::Status WriteBundle(absl::Span<LogExportSource* const> logs,
                         const std::string& out_dir,
                         const BundleWriteOptions& options) {
  std::error_code ec;
  std::filesystem::path target_path =
      std::filesystem::absolute(out_dir, ec).lexically_normal();
  if (!target_path.has_filename()) target_path = target_path.parent_path();
  const std::string target = target_path.string();
  if (std::filesystem::exists(target, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("bundle target ", target, " already exists"));
  }
  std::string tmp = absl::StrCat(target, ".tmp-", ::getpid());
  std::filesystem::remove_all(tmp, ec);
  BundleOut out(tmp, options.sync);
  Manifest manifest;
  std::map<std::string, bool> keys;
  std::set<std::string> origins;
  absl::Status s;
  for (LogExportSource* src : logs) {
    if (!origins.insert(src->Origin()).second) {
      s = absl::InvalidArgumentError(
          absl::StrCat("two logs with origin ", src->Origin()));
      break;
    }
    s = WriteLog(*src, manifest, keys, out);
    if (!s.ok()) break;
  }
  std::string key_lines;
  for (const auto& [vkey, unused] : keys)
    absl::StrAppend(&key_lines, vkey, "\n");
  if (s.ok()) s = out.Put(std::string(kKeysPath), key_lines);
  if (s.ok()) s = out.Put(std::string(kManifestPath), FormatManifest(manifest));
  if (s.ok()) s = out.SyncDirs();
  if (s.ok()) s = RenameNoReplace(tmp, target);
  if (s.ok() && options.sync) {
    s = SyncDir(target_path.parent_path().string());
  }
  if (!s.ok()) std::filesystem::remove_all(tmp, ec);
  return s;
}

}  // namespace segledger::tools
