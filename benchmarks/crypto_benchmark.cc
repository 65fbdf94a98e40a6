// Micro-benchmarks of the signature layer: Ed25519 sign and verify of a
// 300-byte message (one thread and two, sharing one key: Sign/Verify are
// const and thread-safe), the RFC 9162 leaf hash of 332 bytes, signing a
// checkpoint note, and opening one. items_per_second is the figure to
// compare with BUILD-NOTES.md's ceilings.
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "ledger/checkpoint.h"
#include "ledger/ed25519.h"
#include "ledger/hash.h"
#include "ledger/note.h"

namespace segledger {
namespace {

std::string Message(size_t n) {
  std::string m(n, '\0');
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<char>(i * 31 + 7);
  return m;
}

// One key for every benchmark and thread (function-static: built once).
const Ed25519Signer& Signer() {
  static const Ed25519Signer* signer =
      Ed25519Signer::Generate().value().release();
  return *signer;
}

const Ed25519Verifier& Verifier() {
  static const Ed25519Verifier* verifier =
      Ed25519Verifier::New(absl::string_view(reinterpret_cast<const char*>(
                                                 Signer().public_key().data()),
                                             kEd25519PublicKeySize))
          .value()
          .release();
  return *verifier;
}

void BM_Ed25519Sign300(benchmark::State& state) {
  const std::string msg = Message(300);
  for (auto _ : state) {
    absl::StatusOr<std::string> sig = Signer().Sign(msg);
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign300)->Threads(1)->Threads(2)->UseRealTime();

void BM_Ed25519Verify300(benchmark::State& state) {
  const std::string msg = Message(300);
  const std::string sig = Signer().Sign(msg).value();
  for (auto _ : state) {
    absl::Status ok = Verifier().Verify(sig, msg);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Verify300)->Threads(1)->Threads(2)->UseRealTime();

void BM_LeafHash332(benchmark::State& state) {
  const std::string leaf = Message(332);
  for (auto _ : state) {
    Hash h = LeafHash(leaf);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 332);
}
BENCHMARK(BM_LeafHash332);

// The same with a reused TreeHasher (the audit and commit-group loops).
void BM_TreeHasherLeafHash332(benchmark::State& state) {
  const std::string leaf = Message(332);
  TreeHasher hasher;
  for (auto _ : state) {
    Hash h = hasher.LeafHash(leaf);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 332);
}
BENCHMARK(BM_TreeHasherLeafHash332);

NoteSigner LogSigner() {
  return NoteSigner(
      "cmo-up.example/segledger",
      std::shared_ptr<const Ed25519Signer>(Ed25519Signer::Generate().value()));
}

Checkpoint SampleCheckpoint() {
  Checkpoint cp;
  cp.origin = "cmo-up.example/segledger";
  cp.size = 1234567;
  cp.root = Sha256("root");
  return cp;
}

void BM_SignCheckpointNote(benchmark::State& state) {
  const NoteSigner signer = LogSigner();
  const std::string text = SampleCheckpoint().Text();
  const NoteSigner* signers[] = {&signer};
  for (auto _ : state) {
    absl::StatusOr<std::string> note = SignNote(text, signers);
    benchmark::DoNotOptimize(note);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignCheckpointNote);

void BM_OpenCheckpoint(benchmark::State& state) {
  const NoteSigner signer = LogSigner();
  const std::string note = SignCheckpoint(SampleCheckpoint(), signer).value();
  const NoteVerifier known[] = {signer.Verifier()};
  for (auto _ : state) {
    absl::StatusOr<SignedCheckpoint> cp =
        OpenCheckpoint(note, known, "cmo-up.example/segledger");
    if (!cp.ok()) state.SkipWithError("OpenCheckpoint failed");
    benchmark::DoNotOptimize(cp);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenCheckpoint);

}  // namespace
}  // namespace segledger
