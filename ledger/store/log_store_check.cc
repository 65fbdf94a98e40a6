// Open-time consistency checks of a LogStore (log_store.h Open):
//
//   kTail: the last tail_entries entries (body parses, index and origin
//          match, chain links, signature by a known key, leaf hash equals
//          the stored level-0 node), nothing stored beyond the size, and the
//          latest checkpoint (signature by a log key, root == RootAt(size)).
//   kFull: every entry, every stored tree node recomputed from the leaves,
//          every checkpoint.
//
// Any inconsistency is DATA_LOSS naming the entry index (or checkpoint
// size, or tree node and the entries it covers) and what is wrong.
#include <map>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/status_macros.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store_impl.h"

namespace segledger::store {
namespace {

constexpr uint64_t kChunk = 2048;

absl::Status EntryError(uint64_t index, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("entry ", index, ": ", what));
}

absl::Status CheckNothingBeyond(LogStore::Impl& impl, uint64_t size) {
  SEG_ASSIGN_OR_RETURN(auto last, impl.kv->Last(Family::kEntries));
  if (last.has_value()) {
    SEG_ASSIGN_OR_RETURN(uint64_t idx, ParseBe64(last->first, "entry key"));
    if (idx >= size) {
      return EntryError(idx, absl::StrCat("stored beyond the log size ", size));
    }
  }
  for (int level = 0; level < 64; ++level) {
    absl::Status found;
    const NodeId from{static_cast<uint8_t>(level), size >> level};
    const NodeId to{static_cast<uint8_t>(level + 1), 0};
    SEG_RETURN_IF_ERROR(impl.kv->Scan(
        Family::kTree, TreeKey(from), TreeKey(to),
        [&](absl::string_view key, absl::string_view) {
          absl::StatusOr<NodeId> id = ParseTreeKey(key);
          found = absl::DataLossError(absl::StrCat(
              "tree node level ", level, " index ", id.ok() ? id->index : 0,
              " stored beyond the log size ", size));
          return false;
        }));
    SEG_RETURN_IF_ERROR(found);
  }
  return absl::OkStatus();
}

using VerifierMap = std::map<std::string, NoteVerifier, std::less<>>;

// Checks one parsed entry's fields against its position; returns its leaf.
absl::StatusOr<Hash> CheckBody(const LogStore::Impl& impl, uint64_t index,
                               const v1::SignedEntry& entry, const Hash& prev,
                               const VerifierMap& keys) {
  absl::StatusOr<v1::EntryBody> body = ParseEntryBody(entry.body());
  if (!body.ok()) return EntryError(index, body.status().message());
  if (body->index() != index) {
    return EntryError(index, absl::StrCat("body says index ", body->index()));
  }
  if (body->log_origin() != impl.options.origin) {
    return EntryError(index,
                      absl::StrCat("body origin \"", body->log_origin(), "\""));
  }
  if (body->prev_hash() != HashBytes(prev)) {
    return EntryError(index,
                      "prev_hash differs from the previous leaf hash "
                      "(broken chain)");
  }
  if (keys.find(body->key_name()) == keys.end()) {
    return EntryError(index, absl::StrCat("signed by unknown key \"",
                                          body->key_name(), "\""));
  }
  return LeafHash(entry.body());
}

// Checks entries [begin, end); `prev` is the leaf before `begin` and is
// advanced. Leaves are appended to `leaves` when non-null.
absl::Status CheckChunk(LogStore::Impl& impl, uint64_t begin, uint64_t end,
                        const VerifierMap& keys, Hash& prev,
                        std::vector<Hash>* leaves) {
  std::vector<v1::SignedEntry> entries;
  entries.reserve(end - begin);
  absl::Status scan_error;
  SEG_RETURN_IF_ERROR(impl.kv->Scan(
      Family::kEntries, EntryKey(begin), EntryKey(end),
      [&](absl::string_view key, absl::string_view value) {
        const uint64_t want = begin + entries.size();
        absl::StatusOr<uint64_t> idx = ParseBe64(key, "entry key");
        entries.emplace_back();
        if (!idx.ok() || *idx != want) {
          scan_error = EntryError(want, "missing");
        } else if (!entries.back().ParseFromArray(
                       value.data(), static_cast<int>(value.size()))) {
          scan_error = EntryError(want, "not a SignedEntry");
        }
        return scan_error.ok();
      }));
  SEG_RETURN_IF_ERROR(scan_error);
  if (entries.size() != end - begin) {
    return EntryError(begin + entries.size(), "missing");
  }
  std::vector<NodeId> ids;
  for (uint64_t i = begin; i < end; ++i) ids.push_back(NodeId{0, i});
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> stored, impl.FetchNodes(ids));
  std::vector<absl::Status> errors(entries.size());
  std::vector<std::string> names(entries.size());
  for (size_t k = 0; k < entries.size(); ++k) {
    SEG_ASSIGN_OR_RETURN(Hash leaf,
                         CheckBody(impl, begin + k, entries[k], prev, keys));
    if (leaf != stored[k]) {
      return EntryError(
          begin + k,
          absl::StrCat("leaf hash differs from stored tree node level 0 index ",
                       begin + k));
    }
    if (leaves != nullptr) leaves->push_back(leaf);
    prev = leaf;
  }
  impl.pool->ParallelFor(entries.size(), 32, [&](size_t b, size_t e) {
    for (size_t k = b; k < e; ++k) {
      v1::EntryBody body;
      body.ParseFromString(entries[k].body());
      errors[k] = keys.find(body.key_name())
                      ->second.Verify(EntrySigningMessage(entries[k].body()),
                                      entries[k].signature());
    }
  });
  for (size_t k = 0; k < errors.size(); ++k) {
    if (!errors[k].ok()) {
      return EntryError(begin + k, absl::StrCat("signature does not verify: ",
                                                errors[k].message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEntries(LogStore::Impl& impl, uint64_t from, uint64_t size,
                          std::vector<Hash>* leaves) {
  VerifierMap keys;
  for (NoteVerifier& v : impl.VerifiersCopy()) keys.emplace(v.name(), v);
  Hash prev = kZeroHash;
  if (from > 0) {
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> h,
                         impl.FetchNodes({NodeId{0, from - 1}}));
    prev = h[0];
  }
  for (uint64_t b = from; b < size; b += kChunk) {
    SEG_RETURN_IF_ERROR(
        CheckChunk(impl, b, std::min(size, b + kChunk), keys, prev, leaves));
  }
  return absl::OkStatus();
}

absl::Status CompareNodes(LogStore::Impl& impl,
                          std::vector<std::pair<NodeId, Hash>>& nodes) {
  std::vector<NodeId> ids;
  for (const auto& [id, h] : nodes) ids.push_back(id);
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> stored, impl.FetchNodes(ids));
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (stored[i] == nodes[i].second) continue;
    const NodeId& id = nodes[i].first;
    return absl::DataLossError(absl::StrCat(
        "tree node level ", id.level, " index ", id.index, " (entries ",
        id.index << id.level, "..", ((id.index + 1) << id.level) - 1,
        ") differs from the hash recomputed from the entries"));
  }
  nodes.clear();
  return absl::OkStatus();
}

// Recomputes every complete subtree above the leaves and compares.
absl::Status CheckTree(LogStore::Impl& impl, const std::vector<Hash>& leaves) {
  CompactRange range;
  std::vector<std::pair<NodeId, Hash>> pending;
  for (const Hash& leaf : leaves) {
    range.Append(leaf, [&pending](NodeId id, const Hash& h) {
      if (id.level > 0) pending.emplace_back(id, h);
    });
    if (pending.size() >= kChunk)
      SEG_RETURN_IF_ERROR(CompareNodes(impl, pending));
  }
  return CompareNodes(impl, pending);
}

absl::Status CheckOneCheckpoint(LogStore::Impl& impl, uint64_t size,
                                absl::string_view key, absl::string_view note,
                                absl::Span<const NoteVerifier> keys) {
  SEG_ASSIGN_OR_RETURN(uint64_t cp_size, ParseBe64(key, "checkpoint key"));
  auto bad = [cp_size](absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat("checkpoint at size ", cp_size, ": ", what));
  };
  absl::StatusOr<SignedCheckpoint> cp =
      OpenCheckpoint(note, keys, impl.options.origin);
  if (!cp.ok()) return bad(cp.status().message());
  if (cp->checkpoint.size != cp_size) {
    return bad(absl::StrCat("note says size ", cp->checkpoint.size));
  }
  if (cp_size > size) return bad(absl::StrCat("beyond the log size ", size));
  SEG_ASSIGN_OR_RETURN(Hash root, impl.RootAtUnchecked(cp_size));
  if (root != cp->checkpoint.root) {
    return bad(absl::StrCat("root ", HashHex(cp->checkpoint.root),
                            " differs from the tree's root ", HashHex(root)));
  }
  return absl::OkStatus();
}

absl::Status CheckCheckpoints(LogStore::Impl& impl, uint64_t size, bool all) {
  const std::vector<NoteVerifier> keys = impl.VerifiersCopy();
  if (!all) {
    SEG_ASSIGN_OR_RETURN(auto last, impl.kv->Last(Family::kCheckpoints));
    if (!last.has_value()) return absl::DataLossError("no checkpoint stored");
    return CheckOneCheckpoint(impl, size, last->first, last->second, keys);
  }
  absl::Status bad;
  SEG_RETURN_IF_ERROR(
      impl.kv->Scan(Family::kCheckpoints, "", "",
                    [&](absl::string_view key, absl::string_view note) {
                      bad = CheckOneCheckpoint(impl, size, key, note, keys);
                      return bad.ok();
                    }));
  return bad;
}

}  // namespace

absl::Status LogStore::Impl::CheckStore(uint64_t size) {
  SEG_RETURN_IF_ERROR(CheckNothingBeyond(*this, size));
  const bool full = options.open_check == LogStoreOptions::OpenCheck::kFull;
  const uint64_t from =
      full || size <= options.tail_entries ? 0 : size - options.tail_entries;
  std::vector<Hash> leaves;
  SEG_RETURN_IF_ERROR(
      CheckEntries(*this, from, size, full ? &leaves : nullptr));
  if (full) SEG_RETURN_IF_ERROR(CheckTree(*this, leaves));
  return CheckCheckpoints(*this, size, full);
}

}  // namespace segledger::store
