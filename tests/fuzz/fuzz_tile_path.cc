// libFuzzer target: tlog-tiles paths and log directory names. Anything that
// parses must format back to exactly the input (the parsers accept only the
// canonical encoding).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ledger/tiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ParsedTilePath> p = ParseTilePath(input);
  if (p.ok()) {
    std::string back;
    switch (p->kind) {
      case TileKind::kHash:
        back = HashTilePath(p->tile);
        break;
      case TileKind::kEntries:
        back = EntryBundlePath(p->tile);
        break;
      case TileKind::kSignatures:
        back = SignatureBundlePath(p->tile);
        break;
    }
    if (back != input) std::abort();
    if (p->tile.width < 1 || p->tile.width > kTileWidth) std::abort();
  }
  absl::StatusOr<std::string> origin = OriginFromLogDirName(input);
  if (origin.ok() && LogDirName(*origin) != input) std::abort();
  if (LogDirName(input).empty() != input.empty()) std::abort();
  return 0;
}
