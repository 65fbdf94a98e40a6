// libFuzzer target: LogVerifier fed a fuzz-driven mix of the fixture log's
// valid entries and checkpoints, mutated ones (byte flips, fuzz bytes as
// body or signature, skipped or repeated indexes) and raw checkpoint notes.
// Invariant: when every operation was a valid one in order, Finish()
// reports nothing; otherwise it must simply not crash.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ledger/verifier.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

using segledger::fuzz::FuzzEntry;

struct State {
  segledger::LogVerifier verifier;
  uint64_t next = 0;
  bool clean = true;  // only valid operations so far
};

void Flip(FuzzedDataProvider& in, std::string& s) {
  if (s.empty()) return;
  const size_t at = in.ConsumeIntegralInRange<size_t>(0, s.size() - 1);
  s[at] = static_cast<char>(s[at] ^ in.ConsumeIntegralInRange<int>(1, 255));
}

void FeedEntry(FuzzedDataProvider& in, State& st, int op) {
  const auto& log = segledger::fuzz::ValidLog();
  const FuzzEntry& e = log[st.next % log.size()];
  std::string body = e.body, sig = e.signature;
  uint64_t index = st.next;
  switch (op) {
    case 0:  // valid, in order (valid only while inside the fixture log)
      if (st.next >= log.size()) st.clean = false;
      break;
    case 1:
      Flip(in, body);
      st.clean = false;
      break;
    case 2:
      Flip(in, sig);
      st.clean = false;
      break;
    case 3:
      body = in.ConsumeRandomLengthString(512);
      st.clean = false;
      break;
    default:  // a fuzzed index: a gap or a repeat
      index = in.ConsumeIntegralInRange<uint64_t>(0, 2 * log.size());
      st.clean = st.clean && index == st.next;
      break;
  }
  st.verifier.AddEntry(index, body, sig);
  if (index >= st.next) st.next = index + 1;
}

void FeedCheckpoint(FuzzedDataProvider& in, State& st, bool valid) {
  const auto& cps = segledger::fuzz::ValidCheckpoints();
  if (valid) {
    // Only checkpoints ahead of the entries fed count as checked.
    const size_t k = in.ConsumeIntegralInRange<size_t>(0, cps.size() - 1);
    if (k + 1 <= st.next) st.clean = false;
    st.verifier.AddCheckpoint(cps[k]);
    return;
  }
  std::string note = cps[in.ConsumeIntegralInRange<size_t>(0, cps.size() - 1)];
  if (in.ConsumeBool()) {
    Flip(in, note);
  } else {
    note = in.ConsumeRandomLengthString(600);
  }
  st.clean = false;
  st.verifier.AddCheckpoint(std::move(note));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  segledger::LogVerifierOptions options;
  options.origin = std::string(segledger::fuzz::kFuzzOrigin);
  options.trusted_keys = {segledger::fuzz::SignerA().Verifier()};
  options.batch_size = in.ConsumeIntegralInRange<size_t>(1, 8);
  State st{segledger::LogVerifier(std::move(options))};
  for (int ops = 0; ops < 40 && in.remaining_bytes() > 0; ++ops) {
    const int op = in.ConsumeIntegralInRange<int>(0, 7);
    if (op <= 4) {
      FeedEntry(in, st, op);
    } else {
      FeedCheckpoint(in, st, op == 5);
    }
  }
  std::vector<segledger::Finding> findings = st.verifier.Finish();
  if (st.clean && st.next == segledger::fuzz::kFuzzLogSize &&
      !findings.empty()) {
    for (const segledger::Finding& f : findings) {
      std::fprintf(stderr, "finding at %lld: %s: %s\n",
                   static_cast<long long>(f.index),
                   std::string(segledger::FindingKindName(f.kind)).c_str(),
                   f.detail.c_str());
    }
    std::abort();
  }
  return 0;
}
