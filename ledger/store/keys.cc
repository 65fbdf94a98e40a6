#include "ledger/store/keys.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace segledger::store {

std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

absl::StatusOr<uint64_t> ParseBe64(absl::string_view bytes,
                                   absl::string_view what) {
  if (bytes.size() != 8) {
    return absl::DataLossError(
        absl::StrCat(what, ": want 8 bytes, have ", bytes.size()));
  }
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string TreeKey(const NodeId& id) {
  std::string key(1, static_cast<char>(id.level));
  key += Be64(id.index);
  return key;
}

absl::StatusOr<NodeId> ParseTreeKey(absl::string_view key) {
  if (key.size() != 9) {
    return absl::DataLossError(
        absl::StrCat("tree key: want 9 bytes, have ", key.size()));
  }
  NodeId id;
  id.level = static_cast<uint8_t>(key[0]);
  auto index = ParseBe64(key.substr(1), "tree key index");
  if (!index.ok()) return index.status();
  id.index = *index;
  return id;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace segledger::store
