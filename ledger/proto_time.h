// absl::Time <-> google.protobuf.Timestamp. Every Timestamp the ledger
// writes or reads goes through these two (entry bodies' recorded_at,
// record times, peer and outbox rows, query answers).
#ifndef SEGLEDGER_LEDGER_PROTO_TIME_H_
#define SEGLEDGER_LEDGER_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace segledger {

// The instant `ts` names (seconds and nanos as stored; no range check).
absl::Time FromProtoTime(const google::protobuf::Timestamp& ts);

// `t` to the nanosecond, truncated toward the past (nanos in [0, 1e9)).
google::protobuf::Timestamp ToProtoTime(absl::Time t);

}  // namespace segledger

#endif  // SEGLEDGER_LEDGER_PROTO_TIME_H_
