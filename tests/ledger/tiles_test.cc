#include "ledger/tiles.h"

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/merkle.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;

constexpr uint16_t kFull = 256;

// Examples from https://c2sp.org/tlog-tiles ("index 1234067 will be encoded
// as x001/x234/067") and the boundaries of the 3-digit grouping.
TEST(TileIndexPathTest, SpecExamplesAndBoundaries) {
  EXPECT_EQ(TileIndexPath(0), "000");
  EXPECT_EQ(TileIndexPath(5), "005");
  EXPECT_EQ(TileIndexPath(999), "999");
  EXPECT_EQ(TileIndexPath(1000), "x001/000");
  EXPECT_EQ(TileIndexPath(1234067), "x001/x234/067");
  EXPECT_EQ(TileIndexPath(1000000), "x001/x000/000");
  EXPECT_EQ(TileIndexPath(UINT64_MAX), "x018/x446/x744/x073/x709/x551/615");
}

TEST(TilePathTest, HashEntryAndSignaturePaths) {
  EXPECT_EQ(HashTilePath({0, 1234067, kFull}), "tile/0/x001/x234/067");
  EXPECT_EQ(HashTilePath({3, 1234067, 8}), "tile/3/x001/x234/067.p/8");
  EXPECT_EQ(HashTilePath({1, 0, 1}), "tile/1/000.p/1");
  EXPECT_EQ(HashTilePath({0, 0, 255}), "tile/0/000.p/255");
  EXPECT_EQ(EntryBundlePath({0, 1234067, kFull}), "tile/entries/x001/x234/067");
  EXPECT_EQ(EntryBundlePath({5, 2, 17}), "tile/entries/002.p/17");
  EXPECT_EQ(SignatureBundlePath({0, 1000, kFull}), "signatures/x001/000");
  EXPECT_EQ(SignatureBundlePath({0, 3, 1}), "signatures/003.p/1");
}

TEST(ParseTilePathTest, ParsesSpecPaths) {
  SEG_ASSERT_OK_AND_ASSIGN(ParsedTilePath p,
                           ParseTilePath("tile/0/x001/x234/067"));
  EXPECT_EQ(p.kind, TileKind::kHash);
  EXPECT_EQ(p.tile, (TileId{0, 1234067, kFull}));
  SEG_ASSERT_OK_AND_ASSIGN(p, ParseTilePath("tile/63/000.p/1"));
  EXPECT_EQ(p.kind, TileKind::kHash);
  EXPECT_EQ(p.tile, (TileId{63, 0, 1}));
  SEG_ASSERT_OK_AND_ASSIGN(p, ParseTilePath("tile/entries/x001/x234/067.p/8"));
  EXPECT_EQ(p.kind, TileKind::kEntries);
  EXPECT_EQ(p.tile, (TileId{0, 1234067, 8}));
  SEG_ASSERT_OK_AND_ASSIGN(p, ParseTilePath("signatures/255.p/255"));
  EXPECT_EQ(p.kind, TileKind::kSignatures);
  EXPECT_EQ(p.tile, (TileId{0, 255, 255}));
}

TEST(ParseTilePathTest, RoundTrip) {
  std::mt19937_64 rng(256);
  std::vector<TileId> tiles = {{0, 0, 1},          {0, 0, kFull},
                               {7, 999, 255},      {1, 1000, 2},
                               {2, UINT64_MAX, 1}, {8, UINT64_MAX, kFull}};
  for (int i = 0; i < 500; ++i) {
    const uint64_t index = rng() >> (rng() % 64);
    tiles.push_back({static_cast<uint8_t>(rng() % 9), index,
                     static_cast<uint16_t>(1 + rng() % 256)});
  }
  for (const TileId& t : tiles) {
    SEG_ASSERT_OK_AND_ASSIGN(ParsedTilePath h, ParseTilePath(HashTilePath(t)));
    EXPECT_EQ(h.kind, TileKind::kHash);
    EXPECT_EQ(h.tile, t) << HashTilePath(t);
    const TileId level0{0, t.index, t.width};
    SEG_ASSERT_OK_AND_ASSIGN(ParsedTilePath e,
                             ParseTilePath(EntryBundlePath(t)));
    EXPECT_EQ(e.kind, TileKind::kEntries);
    EXPECT_EQ(e.tile, level0) << EntryBundlePath(t);
    SEG_ASSERT_OK_AND_ASSIGN(ParsedTilePath s,
                             ParseTilePath(SignatureBundlePath(t)));
    EXPECT_EQ(s.kind, TileKind::kSignatures);
    EXPECT_EQ(s.tile, level0) << SignatureBundlePath(t);
  }
}

TEST(ParseTilePathTest, RejectsNonCanonicalAndMalformedPaths) {
  const char* bad[] = {
      "", "tile", "tile/0", "tile/0/", "/tile/0/000", "tile/0/000/",
      "tile//000", "tiles/0/000", "TILE/0/000", "signature/000", "tile/entries",
      "tile/entries/", "signatures",
      // Level: decimal 0..63 without leading zeroes.
      "tile/00/000", "tile/01/000", "tile/64/000", "tile/-1/000", "tile/+1/000",
      "tile/1a/000", "tile/1000/000",
      // Index: 3-digit groups, "x" on all but the last, canonical.
      "tile/0/0", "tile/0/00", "tile/0/0000", "tile/0/1234", "tile/0/00a",
      "tile/0/ 000", "tile/0/x000/001", "tile/0/x000/x001/002",
      "tile/0/001/002", "tile/0/x001", "tile/0/x001/x002", "tile/0/xx01/002",
      "tile/0/x01/002", "tile/0/X001/002", "tile/0/x001/234/567",
      "tile/0/x018/x446/x744/x073/x709/x551/616",
      "tile/0/x001/x000/x000/x000/x000/x000/x000/000", "tile/entries/000/extra",
      "signatures/x001",
      // Width: 1..255 without leading zeroes, only after ".p/".
      "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/07", "tile/0/000.p/",
      "tile/0/000.p", "tile/0/000.p/1/2", "tile/0/000.q/1",
      "tile/0/000.p/1.p/2", "tile/0/x001.p/234/1", "tile/0/.p/1",
      "tile/entries/000.p/-1", "signatures/000.p/1000"};
  for (const char* path : bad) {
    EXPECT_THAT(ParseTilePath(path),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "\"" << path << "\"";
  }
}

std::vector<TileId> Tiles(
    std::initializer_list<std::pair<int, std::vector<uint16_t>>> levels) {
  std::vector<TileId> out;
  for (const auto& [level, widths] : levels) {
    for (size_t n = 0; n < widths.size(); ++n) {
      out.push_back({static_cast<uint8_t>(level), n, widths[n]});
    }
  }
  return out;
}

TEST(HashTilesForSizeTest, SmallSizes) {
  EXPECT_TRUE(HashTilesForSize(0).empty());
  EXPECT_EQ(HashTilesForSize(1), Tiles({{0, {1}}}));
  EXPECT_EQ(HashTilesForSize(255), Tiles({{0, {255}}}));
  // c2sp.org/tlog-tiles: "a tree of size 256 will be represented by a full
  // level 0 tile and a partial level 1 tile of width 1".
  EXPECT_EQ(HashTilesForSize(256), Tiles({{0, {kFull}}, {1, {1}}}));
  EXPECT_EQ(HashTilesForSize(257), Tiles({{0, {kFull, 1}}, {1, {1}}}));
}

TEST(HashTilesForSizeTest, LargeSizes) {
  std::vector<uint16_t> full256(256, kFull);
  std::vector<TileId> want = Tiles({{0, full256}, {1, {kFull}}, {2, {1}}});
  EXPECT_EQ(HashTilesForSize(65536), want);
  std::vector<uint16_t> plus1 = full256;
  plus1.push_back(1);
  want = Tiles({{0, plus1}, {1, {kFull}}, {2, {1}}});
  EXPECT_EQ(HashTilesForSize(65537), want);
}

// c2sp.org/tlog-tiles: "a tree of size 70,000 will be represented by 273
// full level 0 tiles, one partial level 0 tile of width 112, one full level 1
// tile, one partial level 1 tile of width 17, and one partial level 2 tile
// of width 1".
TEST(HashTilesForSizeTest, SpecExample70000) {
  std::vector<uint16_t> level0(273, kFull);
  level0.push_back(112);
  EXPECT_EQ(HashTilesForSize(70000),
            Tiles({{0, level0}, {1, {kFull, 17}}, {2, {1}}}));
}

// Every node a proof or root of the tree needs can be computed from the
// listed tiles (a node at level l is inside one tile of level l / 8), and
// each tile has the width the spec gives: floor(s / 256^l) mod 256 for the
// partial one.
TEST(HashTilesForSizeTest, CoversEveryProofNode) {
  std::mt19937_64 rng(70000);
  std::vector<uint64_t> sizes = {1,     255,   256,      257,     65535,
                                 65536, 65537, 16777216, 16777217};
  for (int i = 0; i < 200; ++i) sizes.push_back(1 + rng() % 5000000);
  for (uint64_t size : sizes) {
    std::map<std::pair<int, uint64_t>, uint16_t> width;
    for (const TileId& t : HashTilesForSize(size)) {
      const uint64_t count = size >> (8 * t.level);
      const uint64_t left = count - t.index * 256;
      ASSERT_EQ(t.width, left >= 256 ? 256 : left) << size;
      ASSERT_TRUE(
          width.emplace(std::make_pair(t.level, t.index), t.width).second);
    }
    std::vector<NodeId> needed = RangeNodes(0, size);
    for (int k = 0; k < 5; ++k) {
      auto incl = InclusionNodes(rng() % size, size);
      auto cons = ConsistencyNodes(1 + rng() % size, size);
      ASSERT_THAT(incl, IsOk());
      ASSERT_THAT(cons, IsOk());
      needed.insert(needed.end(), incl->ids.begin(), incl->ids.end());
      needed.insert(needed.end(), cons->ids.begin(), cons->ids.end());
    }
    for (const NodeId& id : needed) {
      const int sub = id.level % 8;
      const uint64_t first = id.index << sub;
      const uint64_t last = ((id.index + 1) << sub) - 1;
      auto it = width.find({id.level / 8, first / 256});
      ASSERT_NE(it, width.end()) << size;
      ASSERT_LT(last % 256, it->second) << size;
    }
  }
}

TEST(EntryTilesForSizeTest, Level0Only) {
  EXPECT_TRUE(EntryTilesForSize(0).empty());
  EXPECT_EQ(EntryTilesForSize(1), Tiles({{0, {1}}}));
  EXPECT_EQ(EntryTilesForSize(256), Tiles({{0, {kFull}}}));
  EXPECT_EQ(EntryTilesForSize(513), Tiles({{0, {kFull, kFull, 1}}}));
}

TEST(LogDirNameTest, EscapesOutsideUnreservedSet) {
  EXPECT_EQ(LogDirName("cmo-up.example/segledger"),
            "cmo-up.example%2Fsegledger");
  EXPECT_EQ(LogDirName("AZaz09._-"), "AZaz09._-");
  EXPECT_EQ(LogDirName("a b:c~%"), "a%20b%3Ac%7E%25");
  EXPECT_EQ(LogDirName("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(LogDirName(std::string("\0\xff", 2)), "%00%FF");
}

TEST(LogDirNameTest, RoundTripsEveryByte) {
  for (int b = 0; b < 256; ++b) {
    const std::string origin = "o" + std::string(1, static_cast<char>(b));
    SEG_ASSERT_OK_AND_ASSIGN(std::string back,
                             OriginFromLogDirName(LogDirName(origin)));
    EXPECT_EQ(back, origin) << b;
  }
  SEG_ASSERT_OK_AND_ASSIGN(
      std::string back,
      OriginFromLogDirName(LogDirName("cmo-up.example/segledger")));
  EXPECT_EQ(back, "cmo-up.example/segledger");
}

TEST(LogDirNameTest, RejectsNonCanonicalNames) {
  const char* bad[] = {"",    ".",   "..",  "%2f", "%41", "%2",  "%",
                       "%G0", "a/b", "a b", "~",   "a%",  "%%41"};
  for (const char* dir : bad) {
    EXPECT_THAT(OriginFromLogDirName(dir),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "\"" << dir << "\"";
  }
}

}  // namespace
}  // namespace segledger
