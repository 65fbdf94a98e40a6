// libFuzzer target: RFC 9162 proof verification.
//
// Part 1 feeds fuzzed (index, size, proof, roots) straight into
// VerifyInclusion / RootFromInclusionProof / VerifyConsistency (no crash,
// no hang: sizes up to 2^64-1). Part 2 is differential: a tree of 1..64
// leaves is built naively (RFC 9162 section 2.1.1 MTH); proofs from
// InclusionNodes / ConsistencyNodes + Rehash must verify against the naive
// roots, and a proof with one fuzz-chosen hash changed must not.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <vector>

#include "ledger/hash.h"
#include "ledger/merkle.h"

namespace {

using segledger::Hash;
using segledger::NodeId;

Hash TakeHash(FuzzedDataProvider& in) {
  Hash h{};
  std::vector<uint8_t> b = in.ConsumeBytes<uint8_t>(h.size());
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

// RFC 9162 MTH of leaves [begin, end).
Hash Mth(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (end - begin == 1) return leaves[begin];
  uint64_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return segledger::NodeHash(Mth(leaves, begin, begin + k),
                             Mth(leaves, begin + k, end));
}

std::vector<Hash> Fetch(const std::vector<Hash>& leaves,
                        const std::vector<NodeId>& ids) {
  std::vector<Hash> out;
  for (const NodeId& id : ids) {
    const uint64_t b = id.index << id.level;
    out.push_back(Mth(leaves, b, b + (uint64_t{1} << id.level)));
  }
  return out;
}

void Raw(FuzzedDataProvider& in) {
  const uint64_t index = in.ConsumeIntegral<uint64_t>();
  const uint64_t size = in.ConsumeIntegral<uint64_t>();
  const Hash leaf = TakeHash(in), root = TakeHash(in), root2 = TakeHash(in);
  std::vector<Hash> proof(in.ConsumeIntegralInRange<size_t>(0, 70));
  for (Hash& h : proof) h = TakeHash(in);
  (void)segledger::VerifyInclusion(index, size, leaf, proof, root);
  (void)segledger::RootFromInclusionProof(index, size, leaf, proof);
  (void)segledger::VerifyConsistency(index, size, proof, root, root2);
  (void)segledger::InclusionNodes(index, size);
  (void)segledger::ConsistencyNodes(index, size);
}

void Differential(FuzzedDataProvider& in) {
  const uint64_t n = in.ConsumeIntegralInRange<uint64_t>(1, 64);
  std::vector<Hash> leaves(n);
  for (uint64_t i = 0; i < n; ++i) {
    leaves[i] = segledger::LeafHash(std::string(1, static_cast<char>(i)));
  }
  const uint64_t size = in.ConsumeIntegralInRange<uint64_t>(1, n);
  const uint64_t index = in.ConsumeIntegralInRange<uint64_t>(0, size - 1);
  const uint64_t old_size = in.ConsumeIntegralInRange<uint64_t>(1, size);
  const Hash root = Mth(leaves, 0, size), old_root = Mth(leaves, 0, old_size);
  absl::StatusOr<segledger::ProofNodes> inc =
      segledger::InclusionNodes(index, size);
  absl::StatusOr<segledger::ProofNodes> con =
      segledger::ConsistencyNodes(old_size, size);
  if (!inc.ok() || !con.ok()) std::abort();
  auto inc_proof = inc->Rehash(Fetch(leaves, inc->ids));
  auto con_proof = con->Rehash(Fetch(leaves, con->ids));
  if (!inc_proof.ok() || !con_proof.ok()) std::abort();
  if (!segledger::VerifyInclusion(index, size, leaves[index], *inc_proof, root)
           .ok()) {
    std::abort();
  }
  if (!segledger::VerifyConsistency(old_size, size, *con_proof, old_root, root)
           .ok()) {
    std::abort();
  }
  // One changed hash must break the proof.
  const Hash bad = TakeHash(in);
  if (!inc_proof->empty()) {
    size_t at = in.ConsumeIntegralInRange<size_t>(0, inc_proof->size() - 1);
    if ((*inc_proof)[at] != bad) {
      (*inc_proof)[at] = bad;
      if (segledger::VerifyInclusion(index, size, leaves[index], *inc_proof,
                                     root)
              .ok()) {
        std::abort();
      }
    }
  }
  if (!con_proof->empty()) {
    size_t at = in.ConsumeIntegralInRange<size_t>(0, con_proof->size() - 1);
    if ((*con_proof)[at] != bad) {
      (*con_proof)[at] = bad;
      if (segledger::VerifyConsistency(old_size, size, *con_proof, old_root,
                                       root)
              .ok()) {
        std::abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    Raw(in);
  } else {
    Differential(in);
  }
  return 0;
}
