// libFuzzer target: the entry codec. The input is a serialized SignedEntry
// (seeds: ValidLog() entries). Exercises ParseEntryBody, signature
// verification with the fixture keys and the leaf hash, and checks that a
// body that parses re-serializes to a body that parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ledger/entry_codec.h"
#include "segledger/v1/entry.pb.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  v1::SignedEntry entry;
  if (!entry.ParseFromArray(data, static_cast<int>(size))) {
    // Not a SignedEntry: the bytes themselves as a body.
    entry.set_body(std::string(input));
  }
  absl::StatusOr<v1::EntryBody> body = ParseEntryBody(entry.body());
  (void)EntryLeafHash(entry.body());
  if (!body.ok()) return 0;
  if (body->prev_hash().size() != kHashSize) std::abort();
  absl::StatusOr<std::string> again = SerializeEntryBody(*body);
  if (again.ok() && !ParseEntryBody(*again).ok()) std::abort();
  for (const NoteVerifier& v : fuzz::KnownVerifiers()) {
    if (v.name() != body->key_name()) continue;
    std::unique_ptr<Ed25519Verifier> ev =
        *Ed25519Verifier::New(absl::string_view(
            reinterpret_cast<const char*>(v.public_key().data()), 32));
    (void)VerifyEntrySignature(entry, *ev);
  }
  return 0;
}
