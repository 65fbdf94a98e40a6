// seg_make_fault_bundle: writes the audit bundle scripts/tamper-loop.sh
// damages, holding every kind of file a bundle can carry.
//
//   seg_make_fault_bundle WORK_DIR     (writes WORK_DIR/bundle)
//
// Two logs in real RocksDB stores under WORK_DIR: "a.example/log" (300
// entries: a full and a partial tile at levels 0 and 1... of entries,
// checkpoints every 100, a key rotation at entry 150 so the keys file holds
// a retired key) and "b.example/log" (30 entries). A cosigns B's latest
// checkpoint and holds B's entry 7 as peer evidence, so the bundle has
// MANIFEST, keys, checkpoint, checkpoints/<size>, hash tiles, entry and
// signature bundles (full and partial), a cosignature and an evidence file.
// Exit 0 after printing the bundle path; 1 with one stderr line otherwise.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ledger/note.h"
#include "tests/tools/bundle_test_util.h"
#include "tools/bundle_writer.h"
#include "tools/proof_file.h"
#include "tools/store_source.h"

namespace segledger {
namespace {

using ::segledger::testing::MakeTestLog;
using ::segledger::testing::TestLog;
using ::segledger::testing::WithExtras;
using tools::LogExportSource;
using tools::StoreExportSource;

// Appends `n` records without content (core key-less entries).
absl::Status AppendN(store::LogStore& s, int n, int first) {
  for (int i = 0; i < n; ++i) {
    store::AppendRecord r;
    r.actor.set_person_id("op-1");
    r.actor.set_printed_name("Test Operator");
    r.request_id = "more-" + std::to_string(first + i);
    std::vector<store::AppendRecord> v;
    v.push_back(std::move(r));
    absl::Status st = s.Append(std::move(v)).status();
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status Make(const std::string& work) {
  absl::StatusOr<TestLog> a =
      MakeTestLog(work + "/a", "a.example/log", 150, 25, 100);
  if (!a.ok()) return a.status();
  absl::StatusOr<TestLog> b =
      MakeTestLog(work + "/b", "b.example/log", 30, 30, 100);
  if (!b.ok()) return b.status();
  // Rotate A's key halfway: the keys file then holds a retired key too.
  auto next = store::CreateKeyFile(work + "/a/keys/next.key", "a.example-2");
  if (!next.ok()) return next.status();
  v1::Actor actor;
  actor.set_person_id("op-1");
  actor.set_printed_name("Test Operator");
  absl::Status st =
      a->store->RotateKey(*next, actor, "tamper fixture").status();
  if (!st.ok()) return st;
  st = AppendN(*a->store, 149, 0);  // 300 entries in all
  if (!st.ok()) return st;
  st = a->store->CheckpointNow().status();
  if (!st.ok()) return st;
  absl::StatusOr<std::string> b_cp = b->store->CheckpointNow();
  if (!b_cp.ok()) return b_cp.status();
  absl::StatusOr<std::string> cosigned =
      AddNoteSignature(*b_cp, *a->store->CurrentSigner());
  if (!cosigned.ok()) return cosigned.status();
  absl::StatusOr<std::string> proof = tools::MakeStoreEntryProof(*b->store, 7);
  if (!proof.ok()) return proof.status();
  WithExtras sa(a->store.get(), {*cosigned}, {*proof});
  StoreExportSource sb(b->store.get());
  std::vector<LogExportSource*> logs = {&sa, &sb};
  return tools::WriteBundle(logs, work + "/bundle");
}

}  // namespace
}  // namespace segledger

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: seg_make_fault_bundle WORK_DIR\n";
    return 2;
  }
  absl::Status s = segledger::Make(argv[1]);
  if (!s.ok()) {
    std::cerr << "seg_make_fault_bundle: " << s << "\n";
    return 1;
  }
  std::cout << argv[1] << "/bundle\n";
  return 0;
}
