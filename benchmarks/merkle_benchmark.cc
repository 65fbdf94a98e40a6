// Micro-benchmarks of RFC 9162 proof generation and verification
// (ledger/merkle.h) at 1M and 10M leaves.
//
// Proof generation is measured as the store does it: InclusionNodes /
// ConsistencyNodes, one lookup per node in an in-memory map standing in for
// the `tree` column family, then ProofNodes::Rehash. Building a real 10M-leaf
// tree would take minutes, so the map holds synthetic node hashes
// (SHA-256 of level || index) for exactly the nodes the sampled proofs
// need; Rehash does the same hashing work whatever the values are.
// VerifyInclusion is measured against the root its proof yields.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "benchmark/benchmark.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"

namespace segledger {
namespace {

constexpr int kSamples = 1024;

uint64_t Key(const NodeId& id) {
  return (uint64_t{id.level} << 58) ^ id.index;  // index < 2^58 here
}

Hash SyntheticNode(const NodeId& id) {
  std::string buf(9, '\0');
  buf[0] = static_cast<char>(id.level);
  for (int i = 0; i < 8; ++i)
    buf[1 + i] = static_cast<char>(id.index >> (8 * i));
  return Sha256(buf);
}

// Sampled proof requests and the node map they need.
struct Fixture {
  std::vector<std::pair<uint64_t, uint64_t>> queries;
  absl::flat_hash_map<uint64_t, Hash> nodes;

  void Add(const ProofNodes& p) {
    for (const NodeId& id : p.ids) nodes.emplace(Key(id), SyntheticNode(id));
  }
};

Fixture MakeInclusionFixture(uint64_t size) {
  Fixture f;
  std::mt19937_64 rng(size);
  for (int i = 0; i < kSamples; ++i) {
    const uint64_t index = rng() % size;
    f.queries.emplace_back(index, size);
    f.Add(*InclusionNodes(index, size));
  }
  return f;
}

Fixture MakeConsistencyFixture(uint64_t size) {
  Fixture f;
  std::mt19937_64 rng(size + 1);
  for (int i = 0; i < kSamples; ++i) {
    const uint64_t old_size = 1 + rng() % size;
    f.queries.emplace_back(old_size, size);
    f.Add(*ConsistencyNodes(old_size, size));
  }
  return f;
}

std::vector<Hash> FetchAndRehash(const Fixture& f, const ProofNodes& p) {
  std::vector<Hash> hashes;
  hashes.reserve(p.ids.size());
  for (const NodeId& id : p.ids) hashes.push_back(f.nodes.at(Key(id)));
  return *p.Rehash(hashes);
}

void BM_InclusionNodesRehash(benchmark::State& state) {
  const Fixture f = MakeInclusionFixture(state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    const auto& [index, size] = f.queries[i++ % f.queries.size()];
    std::vector<Hash> proof = FetchAndRehash(f, *InclusionNodes(index, size));
    benchmark::DoNotOptimize(proof.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionNodesRehash)->Arg(1000000)->Arg(10000000);

void BM_ConsistencyNodesRehash(benchmark::State& state) {
  const Fixture f = MakeConsistencyFixture(state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    const auto& [old_size, size] = f.queries[i++ % f.queries.size()];
    std::vector<Hash> proof =
        FetchAndRehash(f, *ConsistencyNodes(old_size, size));
    benchmark::DoNotOptimize(proof.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsistencyNodesRehash)->Arg(1000000)->Arg(10000000);

void BM_VerifyInclusion(benchmark::State& state) {
  const Fixture f = MakeInclusionFixture(state.range(0));
  struct Case {
    uint64_t index, size;
    Hash leaf, root;
    std::vector<Hash> proof;
  };
  std::vector<Case> cases;
  for (const auto& [index, size] : f.queries) {
    Case c{index, size, SyntheticNode(NodeId{0, index}), {}, {}};
    c.proof = FetchAndRehash(f, *InclusionNodes(index, size));
    c.root = *RootFromInclusionProof(index, size, c.leaf, c.proof);
    cases.push_back(std::move(c));
  }
  size_t i = 0;
  for (auto _ : state) {
    const Case& c = cases[i++ % cases.size()];
    absl::Status s = VerifyInclusion(c.index, c.size, c.leaf, c.proof, c.root);
    if (!s.ok()) state.SkipWithError("proof did not verify");
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyInclusion)->Arg(1000000)->Arg(10000000);

// The ceiling for the ratios above: one RFC 9162 interior node hash.
void BM_NodeHash(benchmark::State& state) {
  Hash h = Sha256("a");
  for (auto _ : state) {
    h = NodeHash(h, h);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NodeHash);

// The same with a reused TreeHasher, as the proof and audit loops do.
void BM_TreeHasherNodeHash(benchmark::State& state) {
  TreeHasher hasher;
  Hash h = Sha256("a");
  for (auto _ : state) {
    h = hasher.NodeHash(h, h);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeHasherNodeHash);

}  // namespace
}  // namespace segledger

BENCHMARK_MAIN();
