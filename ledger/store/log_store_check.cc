// Open-time consistency checks of a LogStore (log_store.h Open):
//
//   kTail: the last tail_entries entries (body parses, index and origin
//          match, chain links, signature by a known key, leaf hash equals
//          the stored level-0 node), nothing stored beyond the size, and the
//          latest checkpoint (signature by a log key, root == RootAt(size)).
//   kFull: every entry, every stored tree node recomputed from the leaves,
//          every checkpoint, and the request-id index rows: each entry's
//          "r/<request id>" row points at it and no other row exists.
//
// Any inconsistency is DATA_LOSS naming the entry index (or checkpoint
// size, or tree node and the entries it covers) and what is wrong.
#include <map>

#include "absl/strings/escaping.h"
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

// Checks one parsed entry's fields against its position; returns its leaf
// (hashed with the caller's `hasher`).
absl::StatusOr<Hash> CheckBody(const LogStore::Impl& impl, uint64_t index,
                               const v1::SignedEntry& entry, const Hash& prev,
                               const VerifierMap& keys, TreeHasher& hasher,
                               std::string* request_id) {
  absl::StatusOr<v1::EntryBody> body = ParseEntryBody(entry.body());
  if (!body.ok()) return EntryError(index, body.status().message());
  *request_id = body->request_id();
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
  return hasher.LeafHash(entry.body());
}

// kFull (log_store.h idempotency): the row "r/<request id>" of every entry
// carrying a request id points back at that entry; `ids` are the request
// ids of entries begin, begin + 1, ... Adds the rows checked to `*rows`.
absl::Status CheckRequestRows(LogStore::Impl& impl, uint64_t begin,
                              const std::vector<std::string>& ids,
                              uint64_t* rows) {
  std::vector<std::string> keys;
  std::vector<uint64_t> at;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k].empty()) continue;
    keys.push_back(RequestKey(ids[k]));
    at.push_back(begin + k);
  }
  SEG_ASSIGN_OR_RETURN(auto values, impl.kv->MultiGet(Family::kIndex, keys));
  for (size_t i = 0; i < keys.size(); ++i) {
    if (values[i].has_value() && *values[i] == Be64(at[i])) continue;
    absl::StatusOr<uint64_t> points = values[i].has_value()
                                          ? ParseBe64(*values[i], "request row")
                                          : absl::NotFoundError("no row");
    return EntryError(
        at[i],
        absl::StrCat("the index row of request id \"",
                     absl::CHexEscape(ids[at[i] - begin]), "\" ",
                     !values[i].has_value() ? "is missing"
                     : points.ok() ? absl::StrCat("points at entry ", *points)
                                   : "is malformed"));
  }
  *rows += keys.size();
  return absl::OkStatus();
}

// kFull: the index holds no request row besides the `rows` checked above; a
// stray one is named with the entry it points at.
absl::Status CheckStrayRequestRows(LogStore::Impl& impl, uint64_t size,
                                   uint64_t rows) {
  const std::string prefix(kRequestPrefix);
  std::vector<std::pair<std::string, std::string>> found;
  SEG_RETURN_IF_ERROR(
      impl.kv->Scan(Family::kIndex, prefix, PrefixEnd(prefix),
                    [&found](absl::string_view key, absl::string_view value) {
                      found.emplace_back(key, value);
                      return true;
                    }));
  if (found.size() == rows) return absl::OkStatus();
  for (const auto& [key, value] : found) {
    const std::string id = absl::CHexEscape(key.substr(prefix.size()));
    absl::StatusOr<uint64_t> index = ParseBe64(value, "request row");
    if (!index.ok() || *index >= size) {
      return absl::DataLossError(absl::StrCat("index row of request id \"", id,
                                              "\" points at no entry"));
    }
    SEG_ASSIGN_OR_RETURN(std::string bytes,
                         impl.kv->Get(Family::kEntries, EntryKey(*index)));
    v1::SignedEntry entry;
    v1::EntryBody body;
    if (!entry.ParseFromString(bytes) || !body.ParseFromString(entry.body()) ||
        absl::CHexEscape(body.request_id()) != id) {
      return EntryError(*index, absl::StrCat("index row of request id \"", id,
                                             "\" points here, but the entry "
                                             "does not carry that id"));
    }
  }
  return absl::DataLossError(absl::StrCat("the index holds ", found.size(),
                                          " request rows, the entries ", rows));
}

// Checks entries [begin, end); `prev` is the leaf before `begin` and is
// advanced. Leaves are appended to `leaves` when non-null.
absl::Status CheckChunk(LogStore::Impl& impl, uint64_t begin, uint64_t end,
                        const VerifierMap& keys, Hash& prev,
                        std::vector<Hash>* leaves, uint64_t* request_rows) {
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
  std::vector<std::string> request_ids(entries.size());
  TreeHasher hasher;  // this chunk's leaf hashes
  for (size_t k = 0; k < entries.size(); ++k) {
    SEG_ASSIGN_OR_RETURN(Hash leaf, CheckBody(impl, begin + k, entries[k], prev,
                                              keys, hasher, &request_ids[k]));
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
  if (leaves == nullptr) return absl::OkStatus();
  return CheckRequestRows(impl, begin, request_ids, request_rows);
}

absl::Status CheckEntries(LogStore::Impl& impl, uint64_t from, uint64_t size,
                          std::vector<Hash>* leaves, uint64_t* request_rows) {
  VerifierMap keys;
  for (NoteVerifier& v : impl.VerifiersCopy()) keys.emplace(v.name(), v);
  Hash prev = kZeroHash;
  if (from > 0) {
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> h,
                         impl.FetchNodes({NodeId{0, from - 1}}));
    prev = h[0];
  }
  for (uint64_t b = from; b < size; b += kChunk) {
    SEG_RETURN_IF_ERROR(CheckChunk(impl, b, std::min(size, b + kChunk), keys,
                                   prev, leaves, request_rows));
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
  TreeHasher hasher;
  std::vector<std::pair<NodeId, Hash>> pending;
  for (const Hash& leaf : leaves) {
    range.Append(
        leaf,
        [&pending](NodeId id, const Hash& h) {
          if (id.level > 0) pending.emplace_back(id, h);
        },
        hasher);
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

// Every checkpoint meta recorded as signed ("cp/<size>") is still stored.
absl::Status CheckSignedCheckpointsStored(LogStore::Impl& impl) {
  std::vector<std::string> sizes;
  const std::string end = std::string(kMetaCheckpointPrefix) + "\xff";
  SEG_RETURN_IF_ERROR(impl.kv->Scan(
      Family::kMeta, kMetaCheckpointPrefix, end,
      [&](absl::string_view key, absl::string_view) {
        sizes.emplace_back(key.substr(kMetaCheckpointPrefix.size()));
        return true;
      }));
  SEG_ASSIGN_OR_RETURN(auto rows,
                       impl.kv->MultiGet(Family::kCheckpoints, sizes));
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (rows[i].has_value()) continue;
    SEG_ASSIGN_OR_RETURN(uint64_t n, ParseBe64(sizes[i], "meta cp row"));
    return absl::DataLossError(
        absl::StrCat("checkpoint at size ", n, " was signed but is missing"));
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
  SEG_RETURN_IF_ERROR(bad);
  return CheckSignedCheckpointsStored(impl);
}

}  // namespace

absl::Status LogStore::Impl::CheckStore(uint64_t size) {
  SEG_RETURN_IF_ERROR(CheckNothingBeyond(*this, size));
  const bool full = options.open_check == LogStoreOptions::OpenCheck::kFull;
  const uint64_t from =
      full || size <= options.tail_entries ? 0 : size - options.tail_entries;
  std::vector<Hash> leaves;
  uint64_t request_rows = 0;
  SEG_RETURN_IF_ERROR(
      CheckEntries(*this, from, size, full ? &leaves : nullptr, &request_rows));
  if (full) {
    SEG_RETURN_IF_ERROR(CheckStrayRequestRows(*this, size, request_rows));
    SEG_RETURN_IF_ERROR(CheckTree(*this, leaves));
  }
  return CheckCheckpoints(*this, size, full);
}

}  // namespace segledger::store
