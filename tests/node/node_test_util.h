// Helpers for node and client tests: a data directory with an initialised
// store, valid append records, and a node started in-process on
// 127.0.0.1 port 0. Header-only; used by tests/node and tests/client.
#ifndef SEGLEDGER_TESTS_NODE_NODE_TEST_UTIL_H_
#define SEGLEDGER_TESTS_NODE_NODE_TEST_UTIL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "segledger/v1/ledger_service.pb.h"

namespace segledger::testing {

inline constexpr char kTestOrigin[] = "test.example/segledger";
// A slash, as C2SP key names usually carry (the origin): regression for
// key files named after it, which must be escaped to stay one file name.
inline constexpr char kTestKeyName[] = "test.example/segledger-key-1";

// A valid record: a key registration (a core record every rule set
// accepts) named after `n`, with request id `request_id`.
inline v1::AppendRecordRequest TestRecord(const std::string& request_id,
                                          int n = 0) {
  v1::AppendRecordRequest r;
  r.set_request_id(request_id);
  r.mutable_actor()->set_person_id(absl::StrCat("op-", n % 7));
  r.mutable_actor()->set_printed_name("Test Operator");
  r.mutable_actor()->set_role("operator");
  r.mutable_actor()->set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
  v1::KeyRegistration* k = r.mutable_record()->mutable_key_registration();
  k->set_key_name(absl::StrCat("device-", n));
  k->set_public_key(std::string(32, static_cast<char>('A' + n % 26)));
  k->set_purpose("test");
  return r;
}

}  // namespace segledger::testing

#endif  // SEGLEDGER_TESTS_NODE_NODE_TEST_UTIL_H_
