// LogStore's C2SP tlog-tiles exports (ledger/tiles.h): hash tiles from the
// tree family, entry and signature bundles from the entries family.
#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"
#include "ledger/store/log_store.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {
namespace {

absl::Status CheckWidth(const TileId& tile) {
  if (tile.width == 0 || tile.width > kTileWidth) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile width ", tile.width, " not in 1..256"));
  }
  return absl::OkStatus();
}

// First node index of the tile and one past its last.
std::pair<uint64_t, uint64_t> TileSpan(const TileId& tile) {
  const uint64_t first = tile.index * kTileWidth;
  return {first, first + tile.width};
}

}  // namespace

absl::StatusOr<std::string> LogStore::ReadHashTile(const TileId& tile) const {
  SEG_RETURN_IF_ERROR(CheckWidth(tile));
  const uint64_t n = Size();
  const int level = kTileHeight * tile.level;
  const auto [first, end] = TileSpan(tile);
  // Nodes of tree level `level` that are complete within n: n >> level.
  if (level >= 64 || end > (n >> level)) {
    return absl::OutOfRangeError(absl::StrCat(
        "hash tile level ", tile.level, " index ", tile.index, " width ",
        tile.width, " reaches beyond the log size ", n));
  }
  std::vector<NodeId> ids;
  ids.reserve(tile.width);
  for (uint64_t i = first; i < end; ++i) {
    ids.push_back(NodeId{static_cast<uint8_t>(level), i});
  }
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> hashes, impl_->FetchNodes(ids));
  std::string out;
  out.reserve(hashes.size() * kHashSize);
  for (const Hash& h : hashes) {
    out.append(reinterpret_cast<const char*>(h.data()), h.size());
  }
  return out;
}

namespace {

// Visits the entries of an entry-level tile, checking it lies within n.
absl::Status ScanTile(const LogStore& log, const TileId& tile,
                      const std::function<void(const v1::SignedEntry&)>& fn) {
  SEG_RETURN_IF_ERROR(CheckWidth(tile));
  const uint64_t n = log.Size();
  const auto [first, end] = TileSpan(tile);
  if (end > n) {
    return absl::OutOfRangeError(
        absl::StrCat("entry tile index ", tile.index, " width ", tile.width,
                     " reaches beyond the log size ", n));
  }
  uint64_t seen = 0;
  SEG_RETURN_IF_ERROR(
      log.ScanEntries(first, end, [&](uint64_t, const v1::SignedEntry& e) {
        fn(e);
        ++seen;
        return true;
      }));
  if (seen != end - first) {
    return absl::DataLossError(absl::StrCat("entries ", first, "..", end - 1,
                                            ": only ", seen, " stored"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> LogStore::ReadEntryBundle(
    const TileId& tile) const {
  std::string out;
  SEG_RETURN_IF_ERROR(ScanTile(*this, tile, [&out](const v1::SignedEntry& e) {
    // tlog-tiles entry bundle: uint16 big-endian length || bytes.
    const size_t len = e.body().size();
    out.push_back(static_cast<char>((len >> 8) & 0xff));
    out.push_back(static_cast<char>(len & 0xff));
    out.append(e.body());
  }));
  return out;
}

absl::StatusOr<std::string> LogStore::ReadSignatureBundle(
    const TileId& tile) const {
  std::string out;
  SEG_RETURN_IF_ERROR(ScanTile(*this, tile, [&out](const v1::SignedEntry& e) {
    out.append(e.signature());
  }));
  return out;
}

}  // namespace segledger::store
