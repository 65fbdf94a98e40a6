#include "ledger/peers/peer_keys.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"

namespace segledger::peers {

absl::StatusOr<std::pair<std::string, uint64_t>> ParseRef(absl::string_view v) {
  const size_t nul = v.rfind('\0', v.size() >= 9 ? v.size() - 9 : 0);
  if (v.size() < 9 || nul == absl::string_view::npos || nul + 9 != v.size()) {
    return absl::DataLossError(
        absl::StrCat("malformed peer reference \"", absl::CHexEscape(v), "\""));
  }
  absl::StatusOr<uint64_t> index = store::ParseBe64(v.substr(nul + 1), "index");
  if (!index.ok()) return absl::DataLossError(index.status().message());
  return std::make_pair(std::string(v.substr(0, nul)), *index);
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) != 0xff) {
      end.back() =
          static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace segledger::peers
