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

// Loads the entries of the "<prefix>...\0<be64 index>" rows under `prefix`.
absl::Status LoadIndexed(store::KvStore& kv, KvIndexView& view,
                         absl::string_view origin, const std::string& prefix,
                         DomainGraph* graph,
                         std::vector<const GraphEntry*>* loaded) {
  std::vector<uint64_t> indexes;
  SEG_RETURN_IF_ERROR(
      view.ScanPrefix(prefix, [&](absl::string_view k, absl::string_view) {
        indexes.push_back(FromBe64(k.substr(prefix.size())));
        return true;
      }));
  for (uint64_t index : indexes) {
    SEG_ASSIGN_OR_RETURN(const GraphEntry* e,
                         LoadEntry(kv, origin, index, graph));
    if (loaded != nullptr) loaded->push_back(e);
  }
  return absl::OkStatus();
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
      SEG_RETURN_IF_ERROR(LoadIndexed(kv, view, origin, CorrectionPrefix(index),
                                      graph, nullptr));
      if (scope == LoadScope::kLot) continue;
      if (!e->body.record().has_transformation()) continue;
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
  if (scope != LoadScope::kLot) return absl::OkStatus();
  // The timeline also shows the records of the lot's shipments that do
  // not name it (DomainGraph::Timeline), and their corrections.
  for (const std::string& t : graph->TransfersOfLot(lot)) {
    std::vector<const GraphEntry*> loaded;
    SEG_RETURN_IF_ERROR(
        LoadIndexed(kv, view, origin, TransferRefPrefix(t), graph, &loaded));
    for (const GraphEntry* e : loaded) {
      SEG_RETURN_IF_ERROR(LoadIndexed(
          kv, view, origin, CorrectionPrefix(e->index), graph, nullptr));
    }
  }
  return absl::OkStatus();
}

}  // namespace segledger::domain
