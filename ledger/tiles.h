// C2SP tlog-tiles (https://c2sp.org/tlog-tiles) coordinates and paths.
//
// A tile at level L, index N holds up to 256 hashes of tree level 8*L: the
// nodes N*256 .. N*256+W-1 (W < 256 for a partial tile, path suffix ".p/W").
// Entry bundles ("tile/entries/N") hold leaves N*256 .. as uint16 big-endian
// length || bytes; segledger adds "signatures/N": the 64-byte entry
// signatures of the same leaves, concatenated without prefix.
//
// Path index encoding: N in groups of three decimal digits, every group but
// the last prefixed with 'x' (1234067 -> "x001/x234/067"). Pure, thread-safe.
#ifndef SEGLEDGER_LEDGER_TILES_H_
#define SEGLEDGER_LEDGER_TILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace segledger {

inline constexpr uint64_t kTileWidth = 256;
inline constexpr int kTileHeight = 8;

struct TileId {
  uint8_t level = 0;   // tile level L (tree level 8*L)
  uint64_t index = 0;  // tile index N at that level
  uint16_t width = 0;  // 1..256 (256 = full tile)

  friend bool operator==(const TileId& a, const TileId& b) {
    return a.level == b.level && a.index == b.index && a.width == b.width;
  }
};

// "x001/x234/067" for 1234067; "000" for 0.
std::string TileIndexPath(uint64_t index);
// "tile/<L>/<N>[.p/<W>]". Requires 1 <= width <= 256; only widths 1..255
// get the ".p/<W>" suffix.
std::string HashTilePath(const TileId& tile);
// "tile/entries/<N>[.p/<W>]" (level ignored).
std::string EntryBundlePath(const TileId& tile);
// "signatures/<N>[.p/<W>]" (level ignored).
std::string SignatureBundlePath(const TileId& tile);

// Parses a path relative to a log directory back to (kind, tile); a full
// tile has width 256, entries and signatures level 0. Strict: only the
// canonical encoding is accepted (level 0..63 and width 1..255 without
// leading zeroes, 3-digit index groups with "x" on all but the last, no
// leading "x000" group, index < 2^64); INVALID_ARGUMENT otherwise.
enum class TileKind { kHash, kEntries, kSignatures };
struct ParsedTilePath {
  TileKind kind;
  TileId tile;
};
absl::StatusOr<ParsedTilePath> ParseTilePath(absl::string_view path);

// Every hash tile needed to serve a tree of `size` leaves: for each level,
// full tiles and at most one partial tile (for the right edge), lowest level
// first. A tree of size 0 has none.
std::vector<TileId> HashTilesForSize(uint64_t size);
// Entry bundle tiles (level 0 widths) covering leaves [0, size).
std::vector<TileId> EntryTilesForSize(uint64_t size);
// The same one at a time, for sizes too large to list (a size a bundle
// claims): a tile level holding `count` hashes has LevelTileCount(count)
// tiles, full ones then at most one partial; LevelTile gives the n-th.
uint64_t LevelTileCount(uint64_t count);
TileId LevelTile(uint8_t level, uint64_t count, uint64_t n);

// The log directory name: `origin` with every byte outside [A-Za-z0-9._-]
// written as %XX (upper-case hex). Callers must refuse the origins "", "."
// and "..", whose names would not be a directory of their own.
std::string LogDirName(absl::string_view origin);
// Inverse of LogDirName, accepting only its exact output: INVALID_ARGUMENT
// for "", ".", "..", an unescaped byte outside the set, lower-case or
// truncated %XX, or an escaped byte that needs no escape.
absl::StatusOr<std::string> OriginFromLogDirName(absl::string_view dir);

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_TILES_H_
