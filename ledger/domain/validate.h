// Field validation of domain records (issue 4 item 2). Every error is
// INVALID_ARGUMENT and starts with the field path, e.g.
// "dispatch.containers[2].seal_ids[0]: empty".
//
// The generic part walks the message by reflection and applies the field
// options of records.proto ((required), (id)) and the rules of the common
// types (Quantity, DocumentRef, EntryRef, Actor, Period, ...); record-specific
// cross-field checks follow. Pure and thread-safe.
#ifndef SEGLEDGER_LEDGER_DOMAIN_VALIDATE_H_
#define SEGLEDGER_LEDGER_DOMAIN_VALIDATE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::domain {

// Validates a domain record. Key lifecycle records (oneof arms 1-3) belong to
// the core and pass unchecked; an empty record is refused.
absl::Status ValidateRecord(const v1::Record& record);

// The generic walk alone, for one message rooted at `path`.
absl::Status ValidateMessage(const google::protobuf::Message& m,
                             absl::string_view path);

// The header of a domain record (nullptr for key records / empty).
const v1::RecordHeader* HeaderOf(const v1::Record& record);
// The oneof arm's name, e.g. "dispatch"; "empty" when unset.
absl::string_view RecordKindName(const v1::Record& record);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_VALIDATE_H_
