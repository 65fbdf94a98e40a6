#include "ledger/domain/store_queries.h"

#include <deque>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "ledger/domain/state.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

absl::StatusOr<const GraphEntry*> LoadEntry(store::KvStore& kv,
                                            absl::string_view origin,
                                            uint64_t index,
                                            DomainGraph* graph) {
  if (const GraphEntry* e = graph->Find(origin, index)) return e;
  auto bytes = kv.Get(store::Family::kEntries, Be64(index));
  if (!bytes.ok()) {
    return absl::DataLossError(absl::StrCat(
        "indexed entry ", index, " unreadable: ", bytes.status().message()));
  }
  v1::SignedEntry se;
  if (!se.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("entry ", index, " is corrupt"));
  }
  SEG_RETURN_IF_ERROR(graph->AddSigned(origin, se.body(), se.signature(), {}));
  const GraphEntry* e = graph->Find(origin, index);
  if (e == nullptr) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, " has index ", "mismatch"));
  }
  return e;
}

}  // namespace

absl::Status LoadLotEntries(store::KvStore& kv, absl::string_view origin,
                            absl::string_view lot, LoadScope scope,
                            DomainGraph* graph) {
  KvIndexView view(&kv);
  std::set<std::string> seen;
  std::deque<std::string> todo{std::string(lot)};
  while (!todo.empty()) {
    std::string cur = todo.front();
    todo.pop_front();
    if (!seen.insert(cur).second) continue;
    SEG_ASSIGN_OR_RETURN(std::vector<uint64_t> refs, LotRefs(view, cur));
    for (uint64_t index : refs) {
      SEG_ASSIGN_OR_RETURN(const GraphEntry* e,
                           LoadEntry(kv, origin, index, graph));
      std::vector<uint64_t> corr;
      std::string prefix = CorrectionPrefix(index);
      SEG_RETURN_IF_ERROR(
          view.ScanPrefix(prefix, [&](absl::string_view k, absl::string_view) {
            corr.push_back(FromBe64(k.substr(prefix.size())));
            return true;
          }));
      for (uint64_t c : corr) {
        SEG_RETURN_IF_ERROR(LoadEntry(kv, origin, c, graph).status());
      }
      if (scope == LoadScope::kLot || !e->body.record().has_transformation()) {
        continue;
      }
      const auto& t = e->body.record().transformation();
      bool is_output = false;
      for (const auto& o : t.outputs()) is_output |= o.lot_id() == cur;
      if (scope == LoadScope::kBackward && is_output) {
        for (const auto& i : t.inputs()) todo.push_back(i.lot_id());
      } else if (scope == LoadScope::kForward && !is_output) {
        for (const auto& o : t.outputs()) todo.push_back(o.lot_id());
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace segledger::domain
