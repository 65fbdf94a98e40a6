// Key encodings of the store's column families (DESIGN.md "Storage"):
//
//   entries      be64(index)                 -> SignedEntry bytes
//   tree         level (1 byte) || be64(idx) -> 32-byte node hash
//   checkpoints  be64(size)                  -> signed checkpoint note
//   index        "r/" || request_id          -> be64(index)
//   meta         "size" -> be64, "origin", "current_key" -> key name,
//                "key/" || name -> verifier key
//
// Big-endian integers sort numerically under RocksDB's bytewise comparator.
// Pure functions: thread-safe.
#ifndef SEGLEDGER_LEDGER_STORE_KEYS_H_
#define SEGLEDGER_LEDGER_STORE_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ledger/merkle.h"

namespace segledger::store {

inline constexpr absl::string_view kMetaSize = "size";
inline constexpr absl::string_view kMetaOrigin = "origin";
inline constexpr absl::string_view kMetaCurrentKey = "current_key";
inline constexpr absl::string_view kMetaKeyPrefix = "key/";
// Size of the latest checkpoint, and one "cp/<be64 size>" row per checkpoint,
// written in the same batch as each checkpoint so that a deleted checkpoint
// row is detected on open (the latest in both modes, any in kFull).
inline constexpr absl::string_view kMetaCheckpointSize = "checkpoint_size";
inline constexpr absl::string_view kMetaCheckpointPrefix = "cp/";
inline constexpr absl::string_view kRequestPrefix = "r/";

// 8 bytes, most significant first.
std::string Be64(uint64_t v);
// Decodes exactly 8 bytes; DATA_LOSS naming `what` otherwise.
absl::StatusOr<uint64_t> ParseBe64(absl::string_view bytes,
                                   absl::string_view what);

inline std::string EntryKey(uint64_t index) { return Be64(index); }
inline std::string CheckpointKey(uint64_t size) { return Be64(size); }
// Meta row recording that a checkpoint was signed at `size` (empty value).
inline std::string MetaCheckpointKey(uint64_t size) {
  return std::string(kMetaCheckpointPrefix) + Be64(size);
}
// level (1 byte) || be64(index).
std::string TreeKey(const NodeId& id);
// DATA_LOSS unless `key` is 9 bytes.
absl::StatusOr<NodeId> ParseTreeKey(absl::string_view key);
inline std::string RequestKey(absl::string_view request_id) {
  return std::string(kRequestPrefix) + std::string(request_id);
}
inline std::string MetaKeyName(absl::string_view key_name) {
  return std::string(kMetaKeyPrefix) + std::string(key_name);
}

// The smallest key greater than every key starting with `prefix` (empty:
// no bound, when the prefix is all 0xff bytes).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_KEYS_H_
