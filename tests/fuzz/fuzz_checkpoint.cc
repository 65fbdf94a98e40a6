// libFuzzer target: C2SP tlog-checkpoint text and OpenCheckpoint. The input
// is a signed checkpoint note (seeds: ValidCheckpoints()). A text that
// parses must format back to exactly the same bytes (the parser is strict:
// one encoding per checkpoint).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

void CheckText(absl::string_view text) {
  absl::StatusOr<segledger::Checkpoint> cp =
      segledger::ParseCheckpointText(text);
  if (cp.ok() && cp->Text() != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  CheckText(input);
  absl::StatusOr<Note> note = ParseNote(input);
  if (note.ok()) CheckText(note->text);
  absl::StatusOr<SignedCheckpoint> opened =
      OpenCheckpoint(input, fuzz::KnownVerifiers(), fuzz::kFuzzOrigin);
  if (opened.ok()) {
    if (opened->checkpoint.origin != fuzz::kFuzzOrigin) std::abort();
    if (opened->verified.empty()) std::abort();
  }
  (void)OpenCheckpoint(input, fuzz::KnownVerifiers(), "");
  return 0;
}
