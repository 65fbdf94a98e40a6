// libFuzzer target: C2SP tlog-proof files (tools/proof_file.h). Parsing,
// formatting back, and full verification against the fixture keys; a file
// that verifies must name the fixture origin and an entry of that log.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tests/fuzz/fuzz_common.h"
#include "tools/proof_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segledger;  // NOLINT: fuzz entry point
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<tools::ProofFile> parsed = tools::ParseProofFile(input);
  if (parsed.ok() && !tools::ParseProofFile(FormatProofFile(*parsed)).ok()) {
    std::abort();
  }
  absl::StatusOr<tools::VerifiedEntryProof> v = tools::VerifyEntryProofFile(
      input, fuzz::KnownVerifiers(), fuzz::kFuzzOrigin);
  if (v.ok()) {
    if (v->checkpoint.origin != fuzz::kFuzzOrigin) std::abort();
    if (v->index >= v->checkpoint.size) std::abort();
  }
  return 0;
}
