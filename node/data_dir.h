// The node's data directory and configuration file.
//
//   DIR/node.textproto   NodeConfig (text format) written by init: origin
//   DIR/db/              the RocksDB store
//   DIR/keys/NAME.key    Ed25519 key files (mode 0600, ledger/store/key_file.h)
//
// Thread-compatible free functions (file I/O only).
#ifndef SEGLEDGER_NODE_DATA_DIR_H_
#define SEGLEDGER_NODE_DATA_DIR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/note.h"
#include "segledger/v1/admin_service.pb.h"

namespace segledger::node {

std::string DbDir(const std::string& data_dir);
std::string KeyDir(const std::string& data_dir);
// The key file of `key_name` inside `key_dir`: the name escaped as a tlog
// log directory name (ledger/tiles.h LogDirName), so names such as
// "cmo-up.example/segledger" stay one file name.
std::string KeyFilePath(const std::string& key_dir,
                        const std::string& key_name);
std::string NodeFile(const std::string& data_dir);

// Creates DIR (may exist but must be empty of a store), the key and the
// store with its origin, and returns the verifier key. FAILED_PRECONDITION
// if DIR already holds a node.
absl::StatusOr<std::string> InitDataDir(const std::string& data_dir,
                                        const std::string& origin,
                                        const std::string& key_name);

// Every key file in KeyDir (sorted by file name).
absl::StatusOr<std::vector<std::shared_ptr<const NoteSigner>>> LoadSigners(
    const std::string& data_dir);

// Parses a NodeConfig text file. INVALID_ARGUMENT naming the path, line and
// column of a syntax or schema error; NOT_FOUND when missing.
absl::StatusOr<v1::NodeConfig> ReadConfigFile(const std::string& path);

// Reads a whole text file (PEM); INVALID_ARGUMENT "<field>: cannot read
// \"<path>\"" when it cannot.
absl::StatusOr<std::string> ReadTextFile(absl::string_view field,
                                         const std::string& path);

// Writes `text` to `path` atomically (temp file, fsync, rename).
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text);

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_DATA_DIR_H_
