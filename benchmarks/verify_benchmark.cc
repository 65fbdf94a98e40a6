// LogVerifier throughput, the hot path of `segaudit verify`: N pre-built
// entries of about 300 bytes (chained, signed, one checkpoint at N) through
// a LogVerifier whose pool has 1 worker + the calling thread = 2 threads.
// BM_RawVerifyCeiling is the same-run ceiling: bare Ed25519 verifies of the
// same N entries on the same pool. Compare items_per_second of the two.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "ledger/checkpoint.h"
#include "ledger/compact_range.h"
#include "ledger/entry_codec.h"
#include "ledger/note.h"
#include "ledger/thread_pool.h"
#include "ledger/verifier.h"

namespace segledger {
namespace {

constexpr char kOrigin[] = "bench.example/segledger";

struct Prebuilt {
  std::shared_ptr<const NoteSigner> key;
  std::vector<std::string> bodies;
  std::vector<std::string> signatures;
  std::string checkpoint;
};

ThreadPool& Pool() {
  static ThreadPool* pool = new ThreadPool(1);  // + caller: 2 threads
  return *pool;
}

// Built once per N; bodies chained in order, signed in parallel.
const Prebuilt& Entries(size_t n) {
  static auto* cache = new std::map<size_t, std::unique_ptr<Prebuilt>>();
  std::unique_ptr<Prebuilt>& built = (*cache)[n];
  if (built) return *built;
  built = std::make_unique<Prebuilt>();
  built->key = std::make_shared<NoteSigner>(
      "bench-key", std::shared_ptr<const Ed25519Signer>(
                       Ed25519Signer::New(std::string(32, 'k')).value()));
  CompactRange range;
  Hash prev = kZeroHash;
  for (size_t i = 0; i < n; ++i) {
    v1::EntryBody body;
    body.set_log_origin(kOrigin);
    body.set_index(i);
    body.set_prev_hash(std::string(HashBytes(prev)));
    body.mutable_recorded_at()->set_seconds(1767225600 + i);
    body.set_key_name("bench-key");
    body.mutable_actor()->set_person_id("op-7");
    body.mutable_actor()->set_printed_name(std::string(150, 'n'));
    body.set_request_id(absl::StrCat("req-", i, "-", std::string(40, 'r')));
    built->bodies.push_back(SerializeEntryBody(body).value());
    prev = LeafHash(built->bodies.back());
    range.Append(prev, {});
  }
  built->signatures.resize(n);
  Pool().ParallelFor(n, 64, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      built->signatures[i] = built->key->signer()
                                 .Sign(EntrySigningMessage(built->bodies[i]))
                                 .value();
    }
  });
  built->checkpoint =
      SignCheckpoint(Checkpoint{kOrigin, n, range.Root(), {}}, *built->key)
          .value();
  return *built;
}

void BM_LogVerifier(benchmark::State& state) {
  const Prebuilt& log = Entries(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    LogVerifierOptions options;
    options.origin = kOrigin;
    options.trusted_keys = {log.key->Verifier()};
    options.pool = &Pool();
    LogVerifier verifier(std::move(options));
    verifier.AddCheckpoint(log.checkpoint);
    for (size_t i = 0; i < log.bodies.size(); ++i) {
      verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
    }
    std::vector<Finding> findings = verifier.Finish();
    if (!findings.empty()) state.SkipWithError(findings[0].detail.c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LogVerifier)
    ->Arg(1 << 12)
    ->Arg(1 << 14)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_RawVerifyCeiling(benchmark::State& state) {
  const Prebuilt& log = Entries(static_cast<size_t>(state.range(0)));
  const Ed25519PublicKey& pk = log.key->signer().public_key();
  auto verifier = Ed25519Verifier::New(
                      absl::string_view(
                          reinterpret_cast<const char*>(pk.data()), pk.size()))
                      .value();
  for (auto _ : state) {
    Pool().ParallelFor(log.bodies.size(), 8, [&](size_t b, size_t e) {
      std::string message;
      for (size_t i = b; i < e; ++i) {
        WriteEntrySigningMessage(log.bodies[i], &message);
        benchmark::DoNotOptimize(verifier->Verify(log.signatures[i], message));
      }
    });
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RawVerifyCeiling)
    ->Arg(1 << 12)
    ->Arg(1 << 14)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace segledger
