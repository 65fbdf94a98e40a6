#include "ledger/store/store_verify.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "ledger/checkpoint.h"
#include "ledger/compact_range.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/status_macros.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::store {
namespace {

// The key layouts of kv.h: be64(index), level (1 byte) || be64(index).
std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

bool ParseBe64(absl::string_view bytes, uint64_t* v) {
  if (bytes.size() != 8) return false;
  *v = 0;
  for (char c : bytes) *v = (*v << 8) | static_cast<uint8_t>(c);
  return true;
}

std::string TreeKey(const NodeId& id) {
  return std::string(1, static_cast<char>(id.level)) + Be64(id.index);
}

// The first leaf under a node (its finding index); saturates for garbage.
int64_t FirstLeaf(const NodeId& id) {
  if (id.level >= 63 || id.index > (uint64_t{INT64_MAX} >> id.level)) {
    return INT64_MAX;
  }
  return static_cast<int64_t>(id.index << id.level);
}

// Recomputes the tree nodes the store must hold (CompactRange::Append
// visits exactly those) and compares them with the stored ones in batches.
class TreeChecker {
 public:
  TreeChecker(KvStore& kv, size_t batch, std::vector<Finding>* findings,
              std::string origin)
      : kv_(kv), batch_(batch), findings_(findings), origin_(origin) {}

  // Adds the entry whose body is `body` as the next leaf.
  absl::Status AddEntry(absl::string_view body) {
    range_.Append(
        hasher_.LeafHash(body),
        [this](NodeId id, const Hash& h) {
          ids_.push_back(id);
          keys_.push_back(TreeKey(id));
          want_.push_back(h);
        },
        hasher_);
    return ids_.size() >= batch_ ? Flush() : absl::OkStatus();
  }

  absl::Status Flush() {
    if (ids_.empty()) return absl::OkStatus();
    SEG_ASSIGN_OR_RETURN(auto stored, kv_.MultiGet(Family::kTree, keys_));
    for (size_t i = 0; i < ids_.size(); ++i) {
      const NodeId& id = ids_[i];
      if (stored[i].has_value() && *stored[i] == HashBytes(want_[i])) continue;
      const std::string got = stored[i].has_value()
                                  ? absl::BytesToHexString(*stored[i])
                                  : std::string("nothing");
      findings_->push_back(
          Finding{FindingKind::kTreeNodeMismatch,
                  DefaultSeverity(FindingKind::kTreeNodeMismatch), origin_,
                  FirstLeaf(id),
                  absl::StrFormat("tree node level %d index %d: stored %s, the "
                                  "entries give %s",
                                  id.level, id.index, got, HashHex(want_[i]))});
    }
    ids_.clear();
    keys_.clear();
    want_.clear();
    return absl::OkStatus();
  }

  uint64_t size() const { return range_.size(); }

 private:
  KvStore& kv_;
  const size_t batch_;
  std::vector<Finding>* findings_;
  const std::string origin_;
  CompactRange range_;
  TreeHasher hasher_;  // range_'s and the leaves' hashing
  std::vector<NodeId> ids_;
  std::vector<std::string> keys_;
  std::vector<Hash> want_;
};

struct Run {
  LogStore& store;
  KvStore& kv;
  uint64_t size;  // the store's size when the run started
  LogVerifier verifier;
  std::vector<Finding> findings;  // the store-level ones
  TreeChecker tree;

  void Report(FindingKind kind, int64_t index, std::string detail) {
    findings.push_back(Finding{kind, DefaultSeverity(kind), store.origin(),
                               index, std::move(detail)});
  }
};

// Checkpoints go first: LogVerifier takes the entries' root at each
// checkpoint's size as it passes.
absl::Status FeedCheckpoints(Run& run) {
  return run.kv.Scan(
      Family::kCheckpoints, "", "",
      [&run](absl::string_view key, absl::string_view note) {
        uint64_t size = 0;
        if (!ParseBe64(key, &size)) {
          run.Report(FindingKind::kStoreInconsistent, -1,
                     absl::StrFormat("checkpoints key %s is not 8 bytes",
                                     absl::BytesToHexString(key)));
        } else {
          absl::StatusOr<Checkpoint> cp = PeekCheckpoint(note);
          if (cp.ok() && cp->size != size) {
            run.Report(FindingKind::kStoreInconsistent,
                       static_cast<int64_t>(size),
                       absl::StrFormat("checkpoint stored under size %d has "
                                       "size %d",
                                       size, cp->size));
          }
        }
        run.verifier.AddCheckpoint(std::string(note));
        return true;
      });
}

absl::Status FeedEntries(Run& run) {
  absl::Status tree_status;
  bool tree_ok = true;  // contiguous so far: the recomputed tree is valid
  absl::Status scan = run.kv.Scan(
      Family::kEntries, "", "",
      [&](absl::string_view key, absl::string_view value) {
        uint64_t index = 0;
        v1::SignedEntry entry;
        if (!ParseBe64(key, &index)) {
          run.Report(FindingKind::kStoreInconsistent, -1,
                     absl::StrFormat("entries key %s is not 8 bytes",
                                     absl::BytesToHexString(key)));
          return true;
        }
        const auto at = static_cast<int64_t>(index);
        if (index >= run.size) {
          run.Report(FindingKind::kStoreInconsistent, at,
                     absl::StrFormat("entry %d stored beyond the store's "
                                     "size %d",
                                     index, run.size));
          return true;
        }
        if (!entry.ParseFromArray(value.data(),
                                  static_cast<int>(value.size()))) {
          run.Report(FindingKind::kMalformedEntry, at,
                     absl::StrFormat("stored SignedEntry (%d bytes) does not "
                                     "parse",
                                     value.size()));
          tree_ok = false;
          return true;
        }
        tree_ok = tree_ok && index == run.tree.size();
        if (tree_ok) tree_status = run.tree.AddEntry(entry.body());
        run.verifier.AddEntry(index, entry.body(), entry.signature());
        return tree_status.ok();
      });
  SEG_RETURN_IF_ERROR(scan);
  SEG_RETURN_IF_ERROR(tree_status);
  if (run.verifier.entries_seen() < run.size) {
    run.Report(FindingKind::kStoreInconsistent,
               static_cast<int64_t>(run.verifier.entries_seen()),
               absl::StrFormat("the store's size is %d but its entries end "
                               "at %d",
                               run.size, run.verifier.entries_seen()));
  }
  return run.tree.Flush();
}

// Every stored node must be a complete subtree within the size.
absl::Status CheckTreeLayout(Run& run) {
  return run.kv.Scan(
      Family::kTree, "", "", [&run](absl::string_view key, absl::string_view) {
        NodeId id;
        if (key.size() != 9 || !ParseBe64(key.substr(1), &id.index)) {
          run.Report(FindingKind::kStoreInconsistent, -1,
                     absl::StrFormat("tree key %s is not 9 bytes",
                                     absl::BytesToHexString(key)));
          return true;
        }
        id.level = static_cast<uint8_t>(key[0]);
        if (id.level >= 64 || id.index >= (run.size >> id.level)) {
          run.Report(FindingKind::kStoreInconsistent, FirstLeaf(id),
                     absl::StrFormat("tree node level %d index %d lies "
                                     "beyond the store's size %d",
                                     id.level, id.index, run.size));
        }
        return true;
      });
}

}  // namespace

absl::StatusOr<std::vector<Finding>> VerifyLogStore(
    LogStore& store, const StoreVerifyOptions& options) {
  LogVerifierOptions vo;
  vo.origin = store.origin();
  vo.trusted_keys =
      options.trusted_keys.empty() ? store.Verifiers() : options.trusted_keys;
  vo.pool = options.pool;
  vo.batch_size = options.batch_size;
  const size_t batch = std::max<size_t>(options.batch_size, 1);
  std::vector<Finding> tree_findings;
  Run run{store,
          store.kv(),
          store.Size(),
          LogVerifier(std::move(vo)),
          {},
          TreeChecker(store.kv(), batch, &tree_findings, store.origin())};
  SEG_RETURN_IF_ERROR(FeedCheckpoints(run));
  SEG_RETURN_IF_ERROR(FeedEntries(run));
  SEG_RETURN_IF_ERROR(CheckTreeLayout(run));
  std::vector<Finding> out = run.verifier.Finish();
  out.insert(out.end(), run.findings.begin(), run.findings.end());
  out.insert(out.end(), tree_findings.begin(), tree_findings.end());
  std::stable_sort(
      out.begin(), out.end(),
      [](const Finding& a, const Finding& b) { return a.index < b.index; });
  return out;
}

}  // namespace segledger::store
