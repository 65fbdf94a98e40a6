// The RPCs fuzz_rpc calls, numbered by the first byte of its input (byte %
// kCount); shared with make_seeds, which writes one seed file per request.
// Append new methods at the end: the committed seeds carry these numbers.
#ifndef SEGLEDGER_TESTS_FUZZ_FUZZ_RPC_METHODS_H_
#define SEGLEDGER_TESTS_FUZZ_FUZZ_RPC_METHODS_H_

#include <cstdint>

namespace segledger::fuzz {

enum class RpcMethod : uint8_t {
  kAppend,
  kAppendStream,
  kGetEntry,
  kGetEntries,
  kGetCheckpoint,
  kListCheckpoints,
  kGetInclusionProof,
  kGetConsistencyProof,
  kWatch,
  kGetStatus,
  kCheckpointNow,
  kRotateKey,
  kBackup,
  kGetHeldSize,
  kDeliverEvidence,
  kCosign,
  kGetPeerData,
  kFindings,
  kTimeline,
  kTrace,
  kMassBalance,
  kGetProofs,
  kCount,  // not a method
};

inline const char* RpcMethodName(RpcMethod m) {
  static const char* const kNames[] = {"Append",
                                       "AppendStream",
                                       "GetEntry",
                                       "GetEntries",
                                       "GetCheckpoint",
                                       "ListCheckpoints",
                                       "GetInclusionProof",
                                       "GetConsistencyProof",
                                       "Watch",
                                       "GetStatus",
                                       "CheckpointNow",
                                       "RotateKey",
                                       "Backup",
                                       "GetHeldSize",
                                       "DeliverEvidence",
                                       "Cosign",
                                       "GetPeerData",
                                       "Findings",
                                       "Timeline",
                                       "Trace",
                                       "MassBalance",
                                       "GetProofs"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) ==
                static_cast<int>(RpcMethod::kCount));
  return m < RpcMethod::kCount ? kNames[static_cast<int>(m)] : "?";
}

}  // namespace segledger::fuzz

#endif  // SEGLEDGER_TESTS_FUZZ_FUZZ_RPC_METHODS_H_
