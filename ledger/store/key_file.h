// Ed25519 key files of a log (DESIGN.md "Command-line contract": the key is
// created with file mode 0600).
//
// Format: one name line, then the private key as RFC 8410 PKCS#8 PEM, so
// `openssl pkey -in FILE` reads it (OpenSSL skips text before BEGIN):
//
//   segledger-key-name: <key name>\n
//   -----BEGIN PRIVATE KEY-----\n
//   <base64 of 30 2e 02 01 00 30 05 06 03 2b 65 70 04 22 04 20 || seed>\n
//   -----END PRIVATE KEY-----\n
//
// Files are created with O_EXCL and mode 0600 (never overwritten); reading
// refuses a file that group or others may access. Error messages name the
// path and never contain key bytes. Thread-safe (no shared state).
#ifndef SEGLEDGER_LEDGER_STORE_KEY_FILE_H_
#define SEGLEDGER_LEDGER_STORE_KEY_FILE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/note.h"

namespace segledger::store {

inline constexpr char kKeyNameHeader[] = "segledger-key-name: ";

// Writes `signer`'s name and seed to a new file at `path` (mode 0600,
// fsynced, and its directory fsynced). ALREADY_EXISTS if the path exists;
// INVALID_ARGUMENT for a key name that is not a valid note key name; on
// any other error (write, fsync, opening or fsync of the directory) the
// file is removed again.
absl::Status WriteKeyFile(const std::string& path, const NoteSigner& signer);

// Reads a key file. FAILED_PRECONDITION naming the path and mode when the
// file is accessible by group or others; NOT_FOUND when missing;
// INVALID_ARGUMENT when malformed.
absl::StatusOr<std::shared_ptr<const NoteSigner>> ReadKeyFile(
    const std::string& path);

// Generates a fresh key named `name` and writes it with WriteKeyFile.
absl::StatusOr<std::shared_ptr<const NoteSigner>> CreateKeyFile(
    const std::string& path, const std::string& name);

}  // namespace segledger::store

#endif  // SEGLEDGER_LEDGER_STORE_KEY_FILE_H_
