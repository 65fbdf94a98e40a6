// libFuzzer target: note verifier keys "<name>+<hash hex>+<base64 key>".
// A key that parses must print back to exactly the input (one encoding per
// key), and its hash must match its name and public key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ledger/note.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<NoteVerifier> v = NoteVerifier::FromVerifierKey(input);
  if (!v.ok()) return 0;
  if (v->VerifierKey() != input) std::abort();
  if (v->key_hash() != NoteKeyHash(v->name(), v->public_key())) std::abort();
  return 0;
}
