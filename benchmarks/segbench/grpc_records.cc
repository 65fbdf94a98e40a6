#include "benchmarks/segbench/grpc_records.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace segledger::bench {

std::string RunPrefix() {
  return absl::StrCat("sb-", getpid(), "-", absl::ToUnixMicros(absl::Now()));
}

v1::AppendRecordRequest MakeRecord(const std::string& request_id, uint64_t n,
                                   size_t payload_bytes) {
  v1::AppendRecordRequest r;
  r.set_request_id(request_id);
  r.mutable_actor()->set_person_id(absl::StrCat("op-", n % 7));
  r.mutable_actor()->set_printed_name("Bench Operator");
  r.mutable_actor()->set_role("operator");
  r.mutable_actor()->set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
  v1::KeyRegistration* k = r.mutable_record()->mutable_key_registration();
  k->set_key_name(absl::StrCat("device-", n));
  k->set_public_key(std::string(32, static_cast<char>('A' + n % 26)));
  k->set_purpose(std::string(payload_bytes / 2, 'p'));
  return r;
}

}  // namespace segledger::bench
