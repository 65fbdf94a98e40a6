#include "tools/log_check.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/tiles.h"
#include "ledger/verifier.h"
#include "tools/bundle_layout.h"

namespace segledger::tools {

absl::Status SplitEntryBundle(absl::string_view data, size_t want,
                              std::vector<absl::string_view>* bodies) {
  size_t off = 0;
  while (off < data.size() && bodies->size() < want) {
    if (data.size() - off < 2) break;
    size_t len = (static_cast<uint8_t>(data[off]) << 8) |
                 static_cast<uint8_t>(data[off + 1]);
    if (data.size() - off - 2 < len) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", bodies->size(), " at offset ", off, " claims ",
                       len, " bytes, only ", data.size() - off - 2, " left"));
    }
    bodies->push_back(data.substr(off + 2, len));
    off += 2 + len;
  }
  if (bodies->size() != want || off != data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("holds ", bodies->size(), " entries in ", off, " of ",
                     data.size(), " bytes, want ", want, " entries"));
  }
  return absl::OkStatus();
}

namespace {

constexpr int kMaxMissingStreak = 64;
// Larger claimed sizes are findings (2^32 entries). Below it, memory still
// follows the entries the bundle holds, never the size it claims: the
// per-entry arrays grow tile by tile as tiles load, and the walks over a
// claimed size stop once kMaxMissingStreak files in a row are missing.
constexpr uint64_t kMaxVerifiableSize = uint64_t{1} << 32;

class LogChecker {
 public:
  explicit LogChecker(const LogCheckInput& in) : in_(in) {}
  LogCheckResult Run();

 private:
  void Add(absl::string_view check, Severity sev, int64_t index,
           std::string path, std::string detail) {
    out_.findings.push_back(AuditFinding{std::string(check),
                                         sev,
                                         origin_,
                                         index,
                                         std::move(path),
                                         std::move(detail),
                                         {}});
  }
  std::optional<std::string> Get(const std::string& rel, int64_t index);
  // Past a streak of missing files Get fetches nothing more.
  bool GaveUp() const { return missing_streak_ > kMaxMissingStreak; }
  // Makes the per-entry arrays hold indexes below `end`.
  void Grow(uint64_t end);
  void LoadCheckpoints(LogVerifier& v);
  void LoadOneCheckpoint(uint64_t size, LogVerifier& v);
  void LoadEntries(LogVerifier& v);
  void LoadEntryTile(const TileId& t, LogVerifier& v);
  void CheckTiles();
  void CheckTile(const TileId& t, std::set<std::string>& seen);
  void CheckPartials();
  void CheckConsistency();

  const LogCheckInput& in_;
  LogCheckResult out_;
  std::string origin_;
  uint64_t size_ = 0;
  std::vector<uint64_t> sizes_;
  std::vector<Hash> leaves_;
  std::vector<bool> known_;
  std::set<uint64_t> keep_raw_;  // entry tiles whose raw bytes are kept
  std::map<uint64_t, std::pair<std::string, std::string>> raw_;
  std::map<std::string, std::string> tiles_;  // path -> bytes as fetched
  int missing_streak_ = 0;
};

std::optional<std::string> LogChecker::Get(const std::string& rel,
                                           int64_t index) {
  // A bundle that lost its tail (or claims a size it never had) would
  // otherwise produce one finding per missing file: give up after a streak.
  if (GaveUp()) return std::nullopt;
  absl::StatusOr<std::string> data =
      in_.fetcher->Fetch(LogPath(in_.log_dir, rel));
  if (data.ok()) {
    missing_streak_ = 0;
    return *std::move(data);
  }
  Add(kCheckMissingFile, Severity::kMajor, index, LogPath(in_.log_dir, rel),
      std::string(data.status().message()));
  if (++missing_streak_ > kMaxMissingStreak) {
    Add(kCheckMissingFile, Severity::kCritical, index, "",
        absl::StrCat(kMaxMissingStreak,
                     " files in a row are missing; no "
                     "further files of this log fetched"));
  }
  return std::nullopt;
}

void LogChecker::Grow(uint64_t end) {
  if (leaves_.size() >= end) return;
  leaves_.resize(end);
  known_.resize(end, false);
  if (in_.keep_entries) out_.entries.bodies.resize(end);
}

void LogChecker::LoadOneCheckpoint(uint64_t size, LogVerifier& v) {
  std::string rel = absl::StrCat("checkpoints/", size);
  std::optional<std::string> note = Get(rel, static_cast<int64_t>(size));
  if (!note.has_value()) return;
  v.AddCheckpoint(*note);
  absl::StatusOr<SignedCheckpoint> cp =
      OpenCheckpoint(*note, in_.keys, origin_);
  if (!cp.ok()) return;  // the LogVerifier reports bad checkpoints
  if (cp->checkpoint.size != size) {
    Add(kCheckCheckpointFile, Severity::kMajor, static_cast<int64_t>(size),
        LogPath(in_.log_dir, rel),
        absl::StrCat("file holds a checkpoint of size ", cp->checkpoint.size));
    return;
  }
  out_.signed_roots[size] = cp->checkpoint.root;
  for (const NoteSignature& s : cp->verified) out_.own_key_names.insert(s.name);
}

void LogChecker::LoadCheckpoints(LogVerifier& v) {
  std::optional<std::string> latest = Get("checkpoint", -1);
  int64_t latest_size = -1;
  if (latest.has_value()) {
    absl::StatusOr<Checkpoint> cp = PeekCheckpoint(*latest);
    if (cp.ok()) {
      latest_size = static_cast<int64_t>(cp->size);
    } else {
      Add(kCheckCheckpointFile, Severity::kCritical, -1,
          CheckpointPath(in_.log_dir), std::string(cp.status().message()));
    }
  }
  sizes_ = in_.sizes;
  if (sizes_.empty() && latest_size >= 0) sizes_.push_back(latest_size);
  if (latest_size >= 0 && !sizes_.empty() &&
      static_cast<uint64_t>(latest_size) != sizes_.back()) {
    Add(kCheckCheckpointFile, Severity::kCritical, latest_size,
        CheckpointPath(in_.log_dir),
        absl::StrCat("checkpoint size ", latest_size, " but MANIFEST lists ",
                     sizes_.back(), " as the latest"));
  }
  while (!sizes_.empty() && sizes_.back() > kMaxVerifiableSize) {
    Add(kCheckCheckpointFile, Severity::kCritical,
        static_cast<int64_t>(sizes_.back()), CheckpointPath(in_.log_dir),
        absl::StrCat("size ", sizes_.back(),
                     " exceeds what segaudit verifies (", kMaxVerifiableSize,
                     ")"));
    sizes_.pop_back();
  }
  for (uint64_t s : sizes_) LoadOneCheckpoint(s, v);
  if (latest.has_value() && !sizes_.empty()) {
    absl::StatusOr<std::string> last =
        in_.fetcher->Fetch(CheckpointAtPath(in_.log_dir, sizes_.back()));
    if (!last.ok() || *last != *latest) v.AddCheckpoint(*latest);
  }
  size_ = sizes_.empty() ? 0 : sizes_.back();
  for (uint64_t s : sizes_) {
    if (s < size_ && s % kTileWidth != 0) keep_raw_.insert(s / kTileWidth);
  }
}

void LogChecker::LoadEntryTile(const TileId& t, LogVerifier& v) {
  const uint64_t first = t.index * kTileWidth;
  const std::string epath = EntryBundlePath(t), spath = SignatureBundlePath(t);
  std::optional<std::string> entries = Get(epath, first);
  std::optional<std::string> sigs = Get(spath, first);
  std::vector<absl::string_view> bodies;
  if (entries.has_value()) {
    absl::Status s = SplitEntryBundle(*entries, t.width, &bodies);
    if (!s.ok()) {
      Add(kCheckMalformedBundle, Severity::kCritical, first,
          LogPath(in_.log_dir, epath), std::string(s.message()));
      bodies.clear();
    }
  }
  if (sigs.has_value() && sigs->size() != t.width * kEd25519SignatureSize) {
    Add(kCheckMalformedBundle, Severity::kCritical, first,
        LogPath(in_.log_dir, spath),
        absl::StrCat(sigs->size(), " bytes, want ",
                     t.width * kEd25519SignatureSize));
    sigs.reset();
  }
  // Before the verifier sees them: it reports leaves through on_entry.
  Grow(first + bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    const absl::string_view sig =
        sigs.has_value() ? absl::string_view(*sigs).substr(
                               i * kEd25519SignatureSize, kEd25519SignatureSize)
                         : absl::string_view();
    known_[first + i] = true;  // leaves_ come from the verifier (on_entry)
    if (in_.keep_entries)
      out_.entries.bodies[first + i] = std::string(bodies[i]);
    v.AddEntry(first + i, bodies[i], sig);
  }
  if (keep_raw_.count(t.index) && entries.has_value() && sigs.has_value()) {
    raw_[t.index] = {*std::move(entries), *std::move(sigs)};
  }
}

void LogChecker::LoadEntries(LogVerifier& v) {
  const uint64_t tiles = LevelTileCount(size_);
  for (uint64_t n = 0; n < tiles && !GaveUp(); ++n) {
    const TileId t = LevelTile(0, size_, n);
    LoadEntryTile(t, v);
    if (in_.progress) in_.progress(t.index * kTileWidth + t.width, size_);
  }
}

void LogChecker::CheckTiles() {
  std::set<std::string> seen;
  for (uint64_t s : sizes_) {
    // Level L holds the hashes of complete subtrees of 256^L leaves.
    for (int level = 0; level * kTileHeight < 64; ++level) {
      const uint64_t count = s >> (level * kTileHeight);
      if (count == 0) break;
      for (uint64_t n = 0; n < LevelTileCount(count) && !GaveUp(); ++n) {
        CheckTile(LevelTile(static_cast<uint8_t>(level), count, n), seen);
      }
    }
  }
}

void LogChecker::CheckTile(const TileId& t, std::set<std::string>& seen) {
  std::string rel = HashTilePath(t);
  if (!seen.insert(rel).second) return;
  uint64_t first_leaf = (t.index * kTileWidth) << (kTileHeight * t.level);
  std::optional<std::string> got = Get(rel, first_leaf);
  if (!got.has_value()) return;
  tiles_[rel] = *got;
  ++out_.summary.tiles_checked;
  std::optional<std::string> want = out_.tree->ExpectedTile(t);
  if (!want.has_value() || *want == *got) return;
  size_t j = 0;
  while (j * kHashSize < got->size() && j * kHashSize < want->size() &&
         got->compare(j * kHashSize, kHashSize, *want, j * kHashSize,
                      kHashSize) == 0) {
    ++j;
  }
  Add(kCheckTileMismatch, Severity::kCritical,
      ((t.index * kTileWidth + j) << (kTileHeight * t.level)),
      LogPath(in_.log_dir, rel),
      absl::StrCat("hash ", j, " of the tile (", got->size(),
                   " bytes) differs from the tree of the entries"));
}

void LogChecker::CheckPartials() {
  for (uint64_t s : sizes_) {
    if (s >= size_ || s % kTileWidth == 0) continue;
    TileId t{0, s / kTileWidth, static_cast<uint16_t>(s % kTileWidth)};
    auto it = raw_.find(t.index);
    std::optional<std::string> e = Get(EntryBundlePath(t), s);
    std::optional<std::string> g = Get(SignatureBundlePath(t), s);
    if (it == raw_.end()) continue;  // the full bundle was unreadable
    // Length of the first t.width entries of the full bundle.
    const std::string& full = it->second.first;
    size_t prefix = 0;
    for (size_t i = 0; i < t.width && prefix + 2 <= full.size(); ++i) {
      prefix += 2 + ((static_cast<uint8_t>(full[prefix]) << 8) |
                     static_cast<uint8_t>(full[prefix + 1]));
    }
    if (e.has_value() && *e != it->second.first.substr(0, prefix)) {
      Add(kCheckPartialMismatch, Severity::kMajor, s,
          LogPath(in_.log_dir, EntryBundlePath(t)),
          "partial entry bundle differs from the full one");
    }
    if (g.has_value() &&
        *g != it->second.second.substr(0, t.width * kEd25519SignatureSize)) {
      Add(kCheckPartialMismatch, Severity::kMajor, s,
          LogPath(in_.log_dir, SignatureBundlePath(t)),
          "partial signature bundle differs from the full one");
    }
  }
}

void LogChecker::CheckConsistency() {
  // Consistency is transitive, so consecutive signed checkpoints suffice.
  // Proof nodes come from the tiles as served, as a tlog-tiles client
  // would compute them (RFC 9162 section 2.1.4).
  auto lookup = [this](const TileId& t) -> std::optional<std::string> {
    auto it = tiles_.find(HashTilePath(t));
    if (it == tiles_.end()) return std::nullopt;
    return it->second;
  };
  const std::pair<const uint64_t, Hash>* prev = nullptr;
  for (const auto& cur : out_.signed_roots) {
    if (prev != nullptr && prev->first > 0) {
      TileNodeSource src(cur.first, lookup);
      absl::StatusOr<ProofNodes> nodes =
          ConsistencyNodes(prev->first, cur.first);
      std::vector<Hash> hashes;
      for (size_t i = 0; nodes.ok() && i < nodes->ids.size(); ++i) {
        std::optional<Hash> h = src.Node(nodes->ids[i]);
        if (!h.has_value()) {
          nodes = absl::NotFoundError("a proof node's tile is missing");
        } else {
          hashes.push_back(*h);
        }
      }
      absl::Status s = nodes.status();
      if (s.ok()) {
        absl::StatusOr<std::vector<Hash>> proof = nodes->Rehash(hashes);
        s = proof.ok() ? VerifyConsistency(prev->first, cur.first, *proof,
                                           prev->second, cur.second)
                       : proof.status();
      }
      if (!s.ok()) {
        Add(kCheckConsistency, Severity::kCritical, cur.first, "",
            absl::StrCat("checkpoints ", prev->first, " -> ", cur.first, ": ",
                         s.message()));
      }
    }
    prev = &cur;
  }
}

LogCheckResult LogChecker::Run() {
  absl::StatusOr<std::string> origin = OriginFromLogDirName(in_.log_dir);
  origin_ = origin.ok() ? *origin : in_.log_dir;
  if (!origin.ok()) {
    Add(kCheckManifest, Severity::kCritical, -1, in_.log_dir,
        std::string(origin.status().message()));
  }
  LogVerifierOptions vo;
  vo.origin = origin_;
  vo.trusted_keys = in_.keys;
  vo.pool = in_.pool;
  // The verifier parses and hashes every entry fed: its leaf hashes build
  // the tree, its parsed bodies go to the caller's sink (domain checks).
  vo.on_entry = [this](uint64_t index, const Hash& leaf, v1::EntryBody* body) {
    leaves_[index] = leaf;
    if (in_.on_entry && body != nullptr) {
      in_.on_entry(origin_, index, leaf, body);
    }
  };
  LogVerifier verifier(std::move(vo));
  LoadCheckpoints(verifier);
  LoadEntries(verifier);
  for (const Finding& f : verifier.Finish()) {
    out_.findings.push_back(FromCoreFinding(f));
  }
  out_.summary.entries_verified = verifier.entries_seen();
  out_.tree = std::make_unique<TreeLevels>(leaves_, known_, in_.pool);
  CheckTiles();
  CheckPartials();
  CheckConsistency();
  out_.summary.origin = origin_;
  out_.summary.log_dir = in_.log_dir;
  out_.summary.size = size_;
  out_.summary.checkpoint_sizes = sizes_;
  std::optional<Hash> root = out_.tree->RootAt(size_);
  out_.summary.root_hex = root.has_value() ? HashHex(*root) : "unknown";
  out_.summary.root_base64 =
      root.has_value() ? Base64Encode(HashBytes(*root)) : "unknown";
  absl::StatusOr<std::string> cp =
      in_.fetcher->Fetch(CheckpointPath(in_.log_dir));
  if (cp.ok()) out_.summary.checkpoint_sha256 = HashHex(Sha256(*cp));
  out_.entries.origin = origin_;
  out_.entries.leaf_hashes = std::move(leaves_);
  out_.entries.known = std::move(known_);
  return std::move(out_);
}

}  // namespace

LogCheckResult CheckLog(const LogCheckInput& in) {
  return LogChecker(in).Run();
}

}  // namespace segledger::tools
