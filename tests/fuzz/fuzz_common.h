// Shared fixtures of the libFuzzer targets and of the seed generator: fixed
// keys (so seeds carry valid signatures that mutations then break), a small
// valid log with key records and checkpoints, and a length-prefixed file
// archive used to fuzz whole bundles.
//
// Everything here is built once per process and then read-only:
// thread-safe after the first call.
#ifndef SEGLEDGER_TESTS_FUZZ_FUZZ_COMMON_H_
#define SEGLEDGER_TESTS_FUZZ_FUZZ_COMMON_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "ledger/note.h"

namespace segledger::fuzz {

inline constexpr absl::string_view kFuzzOrigin = "fuzz.example/segledger";

// Two fixed note signers: "fuzz-a" (seed bytes 0x0a) and "fuzz-b" (0x0b).
const NoteSigner& SignerA();
const NoteSigner& SignerB();
// Their verifiers, A first.
const std::vector<NoteVerifier>& KnownVerifiers();

struct FuzzEntry {
  std::string body;       // serialized EntryBody
  std::string signature;  // 64 bytes
};

// A valid log of kFuzzLogSize entries of kFuzzOrigin: entry 0 registers
// key "fuzz-b", entries 1..3 (deviations) are signed by "fuzz-a", entry 4
// rotates to "fuzz-b" (with the possession proof), entries 5.. are signed by
// "fuzz-b"; every entry carries request id "req-<index>".
inline constexpr uint64_t kFuzzLogSize = 8;
const std::vector<FuzzEntry>& ValidLog();
// Checkpoints of ValidLog() at sizes 1..kFuzzLogSize, signed by "fuzz-a";
// element k is the note at size k + 1.
const std::vector<std::string>& ValidCheckpoints();

// Archive of files: repeated [u16 BE path length][path][u32 BE content
// length][content]. ParseArchive stops at the first truncated record.
std::string FormatArchive(const std::map<std::string, std::string>& files);
std::map<std::string, std::string> ParseArchive(absl::string_view data);

}  // namespace segledger::fuzz

#endif  // SEGLEDGER_TESTS_FUZZ_FUZZ_COMMON_H_
