#include "ledger/tiles.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"

namespace segledger {
namespace {

// C2SP tlog-tiles caps the level at 63 (a decimal without leading zeroes).
constexpr uint64_t kMaxTileLevel = 63;

std::string PartialSuffix(const TileId& tile) {
  if (tile.width == 0 || tile.width >= kTileWidth) return "";
  return absl::StrCat(".p/", tile.width);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Strict decimal: digits only, no sign, no leading zero (except "0"), value
// <= max.
bool ParseCanonicalDecimal(absl::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

// Three decimal digits exactly ("007").
bool ParseGroup(absl::string_view s, uint64_t* out) {
  if (s.size() != 3 || !IsDigit(s[0]) || !IsDigit(s[1]) || !IsDigit(s[2])) {
    return false;
  }
  *out = static_cast<uint64_t>((s[0] - '0') * 100 + (s[1] - '0') * 10 +
                               (s[2] - '0'));
  return true;
}

// Parses the index elements ("x001", "x234", "067") of a tile path. The
// encoding is canonical: a leading "x000" group is rejected, and the value
// must fit in 64 bits.
absl::StatusOr<uint64_t> ParseIndexElements(
    absl::Span<const absl::string_view> elems, absl::string_view path) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile path \"", path, "\": bad index: ", why));
  };
  if (elems.empty()) return bad("missing");
  if (elems.size() > 7) return bad("more than 7 groups");  // 2^64 < 10^21
  uint64_t n = 0;
  for (size_t i = 0; i < elems.size(); ++i) {
    absl::string_view e = elems[i];
    const bool last = i + 1 == elems.size();
    if (!last) {
      if (e.empty() || e[0] != 'x') return bad("non-final group without 'x'");
      e.remove_prefix(1);
    }
    uint64_t g = 0;
    if (!ParseGroup(e, &g)) return bad("group is not 3 digits");
    if (i == 0 && !last && g == 0) return bad("leading zero group");
    if (n > (UINT64_MAX - g) / 1000) return bad("overflows 64 bits");
    n = n * 1000 + g;
  }
  return n;
}

// Splits "<N>[.p/<W>]" elements into the index and the width (256 if full).
absl::StatusOr<TileId> ParseIndexAndWidth(std::vector<absl::string_view> elems,
                                          absl::string_view path) {
  TileId tile;
  tile.width = kTileWidth;
  // A partial tile's last index element carries ".p", then one W element.
  if (elems.size() >= 2 && absl::EndsWith(elems[elems.size() - 2], ".p")) {
    uint64_t w = 0;
    if (!ParseCanonicalDecimal(elems.back(), kTileWidth - 1, &w) || w == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tile path \"", path, "\": partial width must be 1..255"));
    }
    tile.width = static_cast<uint16_t>(w);
    elems.pop_back();
    elems.back().remove_suffix(2);
  }
  absl::StatusOr<uint64_t> n = ParseIndexElements(elems, path);
  if (!n.ok()) return n.status();
  tile.index = *n;
  return tile;
}

void AppendLevelTiles(uint8_t level, uint64_t count, std::vector<TileId>* out) {
  const uint64_t tiles = LevelTileCount(count);
  for (uint64_t n = 0; n < tiles; ++n)
    out->push_back(LevelTile(level, count, n));
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int UpperHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string TileIndexPath(uint64_t index) {
  // C2SP tlog-tiles: zero-padded 3-digit elements, all but the last "x".
  std::vector<uint64_t> groups;
  do {
    groups.push_back(index % 1000);
    index /= 1000;
  } while (index != 0);
  std::string out;
  for (size_t i = groups.size(); i-- > 0;) {
    absl::StrAppendFormat(&out, "%s%03d", i == 0 ? "" : "x", groups[i]);
    if (i != 0) out += '/';
  }
  return out;
}

std::string HashTilePath(const TileId& tile) {
  return absl::StrCat("tile/", tile.level, "/", TileIndexPath(tile.index),
                      PartialSuffix(tile));
}

std::string EntryBundlePath(const TileId& tile) {
  return absl::StrCat("tile/entries/", TileIndexPath(tile.index),
                      PartialSuffix(tile));
}

std::string SignatureBundlePath(const TileId& tile) {
  return absl::StrCat("signatures/", TileIndexPath(tile.index),
                      PartialSuffix(tile));
}

absl::StatusOr<ParsedTilePath> ParseTilePath(absl::string_view path) {
  std::vector<absl::string_view> elems = absl::StrSplit(path, '/');
  ParsedTilePath parsed;
  uint64_t level = 0;
  size_t skip = 0;
  if (elems.size() >= 3 && elems[0] == "tile" && elems[1] == "entries") {
    parsed.kind = TileKind::kEntries;
    skip = 2;
  } else if (elems.size() >= 2 && elems[0] == "signatures") {
    parsed.kind = TileKind::kSignatures;
    skip = 1;
  } else if (elems.size() >= 3 && elems[0] == "tile") {
    if (!ParseCanonicalDecimal(elems[1], kMaxTileLevel, &level)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tile path \"", path, "\": level must be 0..63 without leading 0"));
    }
    parsed.kind = TileKind::kHash;
    skip = 2;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "tile path \"", path,
        "\": want tile/<L>/<N>, tile/entries/<N> or signatures/<N>"));
  }
  elems.erase(elems.begin(), elems.begin() + skip);
  absl::StatusOr<TileId> tile = ParseIndexAndWidth(std::move(elems), path);
  if (!tile.ok()) return tile.status();
  parsed.tile = *tile;
  parsed.tile.level = static_cast<uint8_t>(level);
  return parsed;
}

uint64_t LevelTileCount(uint64_t count) {
  return count / kTileWidth + (count % kTileWidth != 0 ? 1 : 0);
}

TileId LevelTile(uint8_t level, uint64_t count, uint64_t n) {
  // `count` hashes at this level: full tiles, then one partial tile with the
  // remainder (C2SP tlog-tiles "Partial Tiles": floor(s / 256^l) mod 256).
  const uint64_t width =
      n < count / kTileWidth ? kTileWidth : count % kTileWidth;
  return TileId{level, n, static_cast<uint16_t>(width)};
}

std::vector<TileId> HashTilesForSize(uint64_t size) {
  std::vector<TileId> out;
  // Level L holds the hashes of complete subtrees of 256^L leaves.
  for (int level = 0; level * kTileHeight < 64; ++level) {
    const uint64_t count = size >> (level * kTileHeight);
    if (count == 0) break;
    AppendLevelTiles(static_cast<uint8_t>(level), count, &out);
  }
  return out;
}

std::vector<TileId> EntryTilesForSize(uint64_t size) {
  std::vector<TileId> out;
  AppendLevelTiles(0, size, &out);
  return out;
}

std::string LogDirName(absl::string_view origin) {
  std::string out;
  out.reserve(origin.size());
  for (char ch : origin) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out += ch;
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

absl::StatusOr<std::string> OriginFromLogDirName(absl::string_view dir) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("log directory name \"", dir, "\": ", why));
  };
  // "." and ".." would name the bundle root or its parent, not a log.
  if (dir.empty() || dir == "." || dir == "..") return bad("not a log name");
  std::string origin;
  for (size_t i = 0; i < dir.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(dir[i]);
    if (IsUnreserved(c)) {
      origin += dir[i];
      continue;
    }
    if (c != '%') return bad(absl::StrFormat("byte 0x%02X must be escaped", c));
    const int hi = i + 2 < dir.size() ? UpperHexValue(dir[i + 1]) : -1;
    const int lo = i + 2 < dir.size() ? UpperHexValue(dir[i + 2]) : -1;
    if (hi < 0 || lo < 0) return bad("'%' needs two upper-case hex digits");
    const unsigned char decoded = static_cast<unsigned char>(hi * 16 + lo);
    // Canonical form: bytes that need no escape are never escaped.
    if (IsUnreserved(decoded)) return bad("needless escape");
    origin += static_cast<char>(decoded);
    i += 2;
  }
  return origin;
}

}  // namespace segledger
