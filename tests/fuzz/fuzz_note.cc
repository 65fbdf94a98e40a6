// libFuzzer target: C2SP signed notes. The input is a note (seeds:
// ValidCheckpoints()). Checks: ParseNote/FormatNote round trip; OpenNote
// against the fixture keys never crashes; after AddNoteSignature by a known
// key, OpenNote with only that key always succeeds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ledger/note.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Note> note = ParseNote(input);
  (void)OpenNote(input, fuzz::KnownVerifiers());
  if (!note.ok()) return 0;
  const std::string formatted = FormatNote(*note);
  absl::StatusOr<Note> again = ParseNote(formatted);
  if (!again.ok() || again->text != note->text ||
      again->signatures.size() != note->signatures.size()) {
    std::abort();
  }
  absl::StatusOr<std::string> cosigned =
      AddNoteSignature(input, fuzz::SignerB());
  if (cosigned.ok()) {
    const NoteVerifier only_b = fuzz::SignerB().Verifier();
    if (!OpenNote(*cosigned, {&only_b, 1}).ok()) std::abort();
  }
  return 0;
}
