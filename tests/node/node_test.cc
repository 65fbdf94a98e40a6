// segledgerd in-process: every RPC with a valid call and each malformed
// field, idempotent retries, the append stream, watch, 64 concurrent
// appenders, and the mTLS authorisation matrix (role x RPC, no
// certificate, a certificate from another CA).
#include "node/node.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "client/export_source.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/peers/delivery.h"
#include "ledger/peers/outbox.h"
#include "ledger/peers/peer_store.h"
#include "ledger/store/memory_kv.h"
#include "ledger/store/rocksdb_kv.h"
#include "node/authz.h"
#include "node/data_dir.h"
#include "node/json_log.h"
#include "node/peer_layer.h"
#include "node/peer_links.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/ledger/peers/peer_fixture.h"
#include "tests/node/node_test_util.h"
#include "tests/node/up_site_fixture.h"
#include "tests/support/forwarding_kv.h"
#include "tests/support/test_util.h"

namespace segledger::node {
namespace {

using client::Client;
using client::ClientOptions;
using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestRecord;
using ::testing::HasSubstr;

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetQuietLog(true);
    data_ = dir_.Sub("data");
    SEG_ASSERT_OK_AND_ASSIGN(vkey_,
                             InitDataDir(data_, segledger::testing::kTestOrigin,
                                         segledger::testing::kTestKeyName));
    SEG_ASSERT_OK_AND_ASSIGN(verifier_, NoteVerifier::FromVerifierKey(vkey_));
  }

  void StartInsecure(NodeOptions options = {}) {
    v1::NodeConfig config;
    config.set_data_dir(data_);
    config.set_listen("127.0.0.1:0");
    config.set_insecure(true);
    config.set_checkpoint_interval_ms(3600 * 1000);  // checkpoints on demand
    SEG_ASSERT_OK_AND_ASSIGN(node_, Node::Start(config, std::move(options)));
    ClientOptions o;
    o.target = node_->address();
    o.insecure = true;
    o.timeout = absl::Seconds(20);
    SEG_ASSERT_OK_AND_ASSIGN(client_, Client::Connect(o));
  }

  // Appends `n` records with request ids "<prefix>-i"; returns the acks.
  std::vector<v1::AppendAck> AppendN(const std::string& prefix, int n) {
    v1::AppendRequest req;
    for (int i = 0; i < n; ++i) {
      *req.add_records() = TestRecord(absl::StrCat(prefix, "-", i), i);
    }
    absl::StatusOr<v1::AppendResponse> resp = client_->Append(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok()) return {};
    return {resp->acks().begin(), resp->acks().end()};
  }

  // Opens the latest checkpoint with the log's key.
  Checkpoint LatestCheckpoint() {
    absl::StatusOr<v1::CheckpointResponse> cp = client_->GetCheckpoint();
    EXPECT_TRUE(cp.ok()) << cp.status();
    if (!cp.ok()) return {};
    absl::StatusOr<SignedCheckpoint> opened =
        OpenCheckpoint(cp->note(), std::vector<NoteVerifier>{*verifier_},
                       segledger::testing::kTestOrigin);
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? opened->checkpoint : Checkpoint{};
  }

  TempDir dir_;
  std::string data_;
  std::string vkey_;
  std::optional<NoteVerifier> verifier_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Client> client_;
};

// Fault injection under the node's store: once armed, the next Write fails
// with `error`, after applying the batch when `apply` is set (an fsync that
// failed after the batch reached RocksDB's WAL: kv.h says the state on disk
// is then unknown) or without it, and so does every later Write (kv.h's
// rule after a failed synced write).
struct WriteFault {
  absl::Mutex mu;
  bool armed ABSL_GUARDED_BY(mu) = false;
  bool apply ABSL_GUARDED_BY(mu) = false;
  absl::Status error ABSL_GUARDED_BY(mu);

  void Arm(bool apply_batch, absl::Status s) {
    absl::MutexLock lock(&mu);
    armed = true;
    apply = apply_batch;
    error = std::move(s);
  }
};

class FaultyKv final : public ::segledger::testing::ForwardingKv {
 public:
  FaultyKv(std::unique_ptr<store::KvStore> base,
           std::shared_ptr<WriteFault> fault)
      : ForwardingKv(std::move(base)), fault_(std::move(fault)) {}
  absl::Status Write(const store::KvBatch& batch, bool sync) override {
    absl::MutexLock lock(&fault_->mu);
    if (!fault_->armed) return base().Write(batch, sync);
    if (fault_->apply) {
      absl::Status applied = base().Write(batch, sync);
      if (!applied.ok()) return applied;
      fault_->apply = false;  // the first failed write only
    }
    return fault_->error;
  }

 private:
  std::shared_ptr<WriteFault> fault_;
};

NodeOptions WithFault(std::shared_ptr<WriteFault> fault) {
  NodeOptions o;
  o.wrap_kv = [fault](std::unique_ptr<store::KvStore> kv) {
    return std::make_unique<FaultyKv>(std::move(kv), fault);
  };
  return o;
}

Hash ToHash(const std::string& bytes) {
  absl::StatusOr<Hash> h = HashFromBytes(bytes);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : Hash{};
}

std::vector<Hash> ToHashes(
    const google::protobuf::RepeatedPtrField<std::string>& p) {
  std::vector<Hash> out;
  for (const std::string& s : p) out.push_back(ToHash(s));
  return out;
}

TEST_F(NodeTest, EveryRpcValidCall) {
  StartInsecure();
  std::vector<v1::AppendAck> acks = AppendN("a", 5);
  ASSERT_EQ(acks.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(acks[i].index(), uint64_t(i));

  SEG_ASSERT_OK_AND_ASSIGN(v1::CheckpointNowResponse now,
                           client_->CheckpointNow());
  EXPECT_EQ(now.size(), 5u);
  Checkpoint cp = LatestCheckpoint();
  ASSERT_EQ(cp.size, 5u);
  SEG_ASSERT_OK_AND_ASSIGN(v1::CheckpointResponse at5,
                           client_->GetCheckpoint(5));
  EXPECT_EQ(at5.note(), now.note());

  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryResponse e2, client_->GetEntry(2));
  EXPECT_EQ(e2.leaf_hash(), acks[2].leaf_hash());
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody body,
                           ParseEntryBody(e2.entry().body()));
  EXPECT_EQ(body.request_id(), "a-2");
  EXPECT_EQ(body.prev_hash(), acks[1].leaf_hash());

  std::vector<uint64_t> seen;
  SEG_ASSERT_OK(client_->GetEntries(1, 4, [&](v1::EntryResponse& e) {
    seen.push_back(e.index());
    EXPECT_EQ(e.leaf_hash(), acks[e.index()].leaf_hash());
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3}));

  for (uint64_t i = 0; i < 5; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(v1::InclusionProofResponse p,
                             client_->InclusionProof(i, 0));
    EXPECT_EQ(p.tree_size(), 5u);
    SEG_EXPECT_OK(VerifyInclusion(i, 5, ToHash(p.leaf_hash()),
                                  ToHashes(p.proof()), cp.root));
  }
  Checkpoint cp3;
  {
    AppendN("b", 3);
    SEG_ASSERT_OK(client_->CheckpointNow().status());
    cp3 = LatestCheckpoint();
    ASSERT_EQ(cp3.size, 8u);
    SEG_ASSERT_OK_AND_ASSIGN(v1::ConsistencyProofResponse c,
                             client_->ConsistencyProof(5, 8));
    SEG_EXPECT_OK(
        VerifyConsistency(5, 8, ToHashes(c.proof()), cp.root, cp3.root));
  }

  SEG_ASSERT_OK_AND_ASSIGN(v1::StatusResponse st, client_->GetStatus());
  EXPECT_EQ(st.origin(), segledger::testing::kTestOrigin);
  EXPECT_EQ(st.size(), 8u);
  EXPECT_EQ(st.caller_role(), "operator");
  EXPECT_EQ(st.verifier_keys_size(), 1);

  // Watch from 6: entries 6, 7 and the checkpoint, then a new append.
  std::vector<uint64_t> watched;
  bool got_checkpoint = false;
  std::thread appender;
  v1::WatchRequest wr;
  wr.set_from_index(6);
  wr.set_entries(true);
  wr.set_checkpoints(true);
  SEG_ASSERT_OK(client_->Watch(wr, [&](const v1::WatchEvent& ev) {
    if (ev.has_checkpoint()) got_checkpoint = true;
    if (ev.has_entry()) watched.push_back(ev.entry().index());
    if (watched.size() == 2 && !appender.joinable()) {
      appender = std::thread([this] { AppendN("c", 1); });
    }
    return watched.size() < 3;
  }));
  appender.join();
  EXPECT_EQ(watched, (std::vector<uint64_t>{6, 7, 8}));
  EXPECT_TRUE(got_checkpoint);

  // Queries over a lot this log never saw: empty answers.
  SEG_ASSERT_OK_AND_ASSIGN(v1::TimelineResponse tl, client_->Timeline("L-1"));
  EXPECT_EQ(tl.events_size(), 0);
  SEG_ASSERT_OK_AND_ASSIGN(v1::TraceResponse tr, client_->Trace("L-1", false));
  EXPECT_EQ(tr.records_size(), 0);
  SEG_ASSERT_OK_AND_ASSIGN(v1::MassBalanceResponse mb,
                           client_->MassBalance("L-1"));
  EXPECT_EQ(mb.lot_id(), "L-1");

  SEG_ASSERT_OK_AND_ASSIGN(v1::BackupResponse b,
                           client_->Backup(dir_.Sub("backup")));
  EXPECT_GE(b.size(), 9u);

  v1::RotateKeyRequest rk;
  rk.set_new_key_name("test.example-key-2");
  rk.set_reason("scheduled");
  *rk.mutable_actor() = TestRecord("x").actor();
  SEG_ASSERT_OK_AND_ASSIGN(v1::RotateKeyResponse rot, client_->RotateKey(rk));
  EXPECT_EQ(rot.index(), 9u);
  SEG_ASSERT_OK_AND_ASSIGN(st, client_->GetStatus());
  EXPECT_EQ(st.current_key_name(), "test.example-key-2");
  EXPECT_EQ(st.verifier_keys_size(), 2);
  std::vector<v1::AppendAck> after = AppendN("d", 1);
  ASSERT_EQ(after.size(), 1u);
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryResponse e10, client_->GetEntry(10));
  SEG_ASSERT_OK_AND_ASSIGN(body, ParseEntryBody(e10.entry().body()));
  EXPECT_EQ(body.key_name(), "test.example-key-2");
}

// GetProofs answers what GetCheckpoint, GetInclusionProof and
// GetConsistencyProof answer for the same tree, in one call, and the
// client can check all of it against the signed note it carries.
TEST_F(NodeTest, ProofsInOneCallMatchTheSeparateCalls) {
  StartInsecure();
  AppendN("a", 5);
  // tree_size 0 is the latest checkpoint's tree (the empty one the node
  // signed at start), not the log's size.
  EXPECT_THAT(client_->Proofs(0, 0, 0),
              StatusIs(absl::StatusCode::kOutOfRange,
                       "index: 0 not below tree_size 0"));
  SEG_ASSERT_OK(client_->CheckpointNow().status());
  const Checkpoint cp5 = LatestCheckpoint();
  AppendN("b", 6);
  SEG_ASSERT_OK_AND_ASSIGN(v1::CheckpointNowResponse now11,
                           client_->CheckpointNow());
  ASSERT_EQ(now11.size(), 11u);
  AppendN("c", 2);  // past the latest checkpoint: size 13

  // tree_size 0: the latest checkpoint's tree, its note included.
  SEG_ASSERT_OK_AND_ASSIGN(v1::ProofsResponse p, client_->Proofs(3, 5, 0));
  EXPECT_EQ(p.tree_size(), 11u);
  ASSERT_TRUE(p.has_checkpoint());
  EXPECT_EQ(p.checkpoint().size(), 11u);
  EXPECT_EQ(p.checkpoint().note(), now11.note());
  SEG_ASSERT_OK_AND_ASSIGN(SignedCheckpoint opened,
                           OpenCheckpoint(p.checkpoint().note(),
                                          std::vector<NoteVerifier>{*verifier_},
                                          segledger::testing::kTestOrigin));
  SEG_EXPECT_OK(VerifyInclusion(3, 11, ToHash(p.inclusion().leaf_hash()),
                                ToHashes(p.inclusion().proof()),
                                opened.checkpoint.root));
  ASSERT_TRUE(p.has_consistency());
  SEG_EXPECT_OK(VerifyConsistency(5, 11, ToHashes(p.consistency().proof()),
                                  cp5.root, opened.checkpoint.root));
  SEG_ASSERT_OK_AND_ASSIGN(v1::InclusionProofResponse inc,
                           client_->InclusionProof(3, 11));
  SEG_ASSERT_OK_AND_ASSIGN(v1::ConsistencyProofResponse con,
                           client_->ConsistencyProof(5, 11));
  EXPECT_EQ(p.inclusion().SerializeAsString(), inc.SerializeAsString());
  EXPECT_EQ(p.consistency().SerializeAsString(), con.SerializeAsString());

  // An explicit size with a checkpoint signed there, one without, and no
  // consistency proof asked.
  SEG_ASSERT_OK_AND_ASSIGN(v1::CheckpointResponse at5,
                           client_->GetCheckpoint(5));
  SEG_ASSERT_OK_AND_ASSIGN(p, client_->Proofs(4, 0, 5));
  EXPECT_EQ(p.tree_size(), 5u);
  ASSERT_TRUE(p.has_checkpoint());
  EXPECT_EQ(p.checkpoint().size(), 5u);
  EXPECT_EQ(p.checkpoint().note(), at5.note());
  EXPECT_FALSE(p.has_consistency());
  SEG_EXPECT_OK(VerifyInclusion(4, 5, ToHash(p.inclusion().leaf_hash()),
                                ToHashes(p.inclusion().proof()), cp5.root));
  SEG_ASSERT_OK_AND_ASSIGN(p, client_->Proofs(10, 5, 11));  // the latest's
  EXPECT_EQ(p.checkpoint().note(), now11.note());
  SEG_ASSERT_OK_AND_ASSIGN(inc, client_->InclusionProof(10, 11));
  EXPECT_EQ(p.inclusion().SerializeAsString(), inc.SerializeAsString());
  SEG_ASSERT_OK_AND_ASSIGN(p, client_->Proofs(12, 11, 13));
  EXPECT_EQ(p.tree_size(), 13u);
  EXPECT_FALSE(p.has_checkpoint());
  SEG_ASSERT_OK_AND_ASSIGN(inc, client_->InclusionProof(12, 13));
  SEG_ASSERT_OK_AND_ASSIGN(con, client_->ConsistencyProof(11, 13));
  EXPECT_EQ(p.inclusion().SerializeAsString(), inc.SerializeAsString());
  EXPECT_EQ(p.consistency().SerializeAsString(), con.SerializeAsString());
}

TEST_F(NodeTest, IdempotentRetryReturnsTheOriginalResult) {
  StartInsecure();
  std::vector<v1::AppendAck> first = AppendN("same", 3);
  std::vector<v1::AppendAck> again = AppendN("same", 3);
  ASSERT_EQ(again.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(again[i].index(), first[i].index());
    EXPECT_EQ(again[i].leaf_hash(), first[i].leaf_hash());
    EXPECT_TRUE(again[i].replayed());
  }
  EXPECT_EQ(node_->store().Size(), 3u);
}

// One mutation per case; the error names the field and nothing changes.
TEST_F(NodeTest, MalformedFieldsAreNamedAndChangeNothing) {
  StartInsecure();
  AppendN("base", 4);
  SEG_ASSERT_OK_AND_ASSIGN(v1::CheckpointNowResponse before,
                           client_->CheckpointNow());
  struct Case {
    const char* name;
    std::function<void(v1::AppendRecordRequest&)> mutate;
    const char* field;
  };
  std::vector<Case> cases = {
      {"no-actor", [](auto& r) { r.clear_actor(); }, "records[1].actor"},
      {"empty-person", [](auto& r) { r.mutable_actor()->clear_person_id(); },
       "records[1].actor.person_id"},
      {"empty-name", [](auto& r) { r.mutable_actor()->clear_printed_name(); },
       "records[1].actor.printed_name"},
      {"no-meaning", [](auto& r) { r.mutable_actor()->clear_meaning(); },
       "records[1].actor.meaning"},
      {"no-record", [](auto& r) { r.clear_record(); }, "records[1].record"},
      {"long-request-id",
       [](auto& r) { r.set_request_id(std::string(300, 'x')); },
       "records[1].request_id"},
      {"control-request-id", [](auto& r) { r.set_request_id("a\nb"); },
       "records[1].request_id"},
      {"short-public-key",
       [](auto& r) {
         r.mutable_record()->mutable_key_registration()->set_public_key("ab");
       },
       "records[1].record.key_registration.public_key"},
      {"small-order-public-key",  // the identity point: forgeable
       [](auto& r) {
         std::string identity(32, '\0');
         identity[0] = 1;
         r.mutable_record()->mutable_key_registration()->set_public_key(
             identity);
       },
       "records[1].record.key_registration.public_key: Ed25519 public key "
       "rejected: a point of small order"},
      {"empty-key-name",
       [](auto& r) {
         r.mutable_record()->mutable_key_registration()->clear_key_name();
       },
       "records[1].record.key_registration.key_name"},
      {"key-rotation",
       [](auto& r) {
         r.mutable_record()->mutable_key_rotation()->set_new_key_name("k");
       },
       "records[1].record.key_rotation"},
  };
  // Key names a signed note cannot carry (C2SP signed-note: no Unicode
  // space, no '+'): every peer and verifier would refuse the log's key
  // records from then on.
  for (const char* name : {"a b", "a+b", "a\u00a0b", "a\u3000b", "a\x01"}) {
    cases.push_back(
        {"bad-key-name",
         [name](auto& r) {
           r.mutable_record()->mutable_key_registration()->set_key_name(name);
         },
         "records[1].record.key_registration.key_name: key name"});
    cases.push_back(
        {"bad-revoked-key-name",
         [name](auto& r) {
           r.mutable_record()->mutable_key_revocation()->set_key_name(name);
         },
         "records[1].record.key_revocation.key_name: key name"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::AppendRequest req;
    *req.add_records() = TestRecord(absl::StrCat(c.name, "-0"), 0);
    *req.add_records() = TestRecord(absl::StrCat(c.name, "-1"), 1);
    c.mutate(*req.mutable_records(1));
    EXPECT_THAT(client_->Append(req),
                StatusIs(absl::StatusCode::kInvalidArgument, c.field));
  }
  EXPECT_THAT(client_->Append(v1::AppendRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument, "records"));
  EXPECT_THAT(client_->GetEntry(4),
              StatusIs(absl::StatusCode::kOutOfRange, "index"));
  EXPECT_THAT(client_->GetEntries(0, 9, [](auto&) { return true; }),
              StatusIs(absl::StatusCode::kOutOfRange, "to"));
  EXPECT_THAT(client_->GetEntries(3, 2, [](auto&) { return true; }),
              StatusIs(absl::StatusCode::kInvalidArgument, "from"));
  EXPECT_THAT(client_->GetCheckpoint(3),
              StatusIs(absl::StatusCode::kNotFound, "size"));
  EXPECT_THAT(client_->InclusionProof(4, 4),
              StatusIs(absl::StatusCode::kOutOfRange, "index"));
  EXPECT_THAT(client_->InclusionProof(0, 9),
              StatusIs(absl::StatusCode::kOutOfRange, "tree_size"));
  EXPECT_THAT(client_->ConsistencyProof(0, 4),
              StatusIs(absl::StatusCode::kInvalidArgument, "old_size"));
  EXPECT_THAT(client_->ConsistencyProof(5, 4),
              StatusIs(absl::StatusCode::kInvalidArgument, "old_size"));
  EXPECT_THAT(client_->ConsistencyProof(1, 9),
              StatusIs(absl::StatusCode::kOutOfRange, "tree_size"));
  EXPECT_THAT(client_->Proofs(4, 0, 4),
              StatusIs(absl::StatusCode::kOutOfRange, "index"));
  EXPECT_THAT(client_->Proofs(0, 0, 9),
              StatusIs(absl::StatusCode::kOutOfRange, "tree_size"));
  EXPECT_THAT(client_->Proofs(0, 5, 4),
              StatusIs(absl::StatusCode::kInvalidArgument, "old_size"));
  v1::RotateKeyRequest rk;
  *rk.mutable_actor() = TestRecord("x").actor();
  EXPECT_THAT(client_->RotateKey(rk),
              StatusIs(absl::StatusCode::kInvalidArgument, "new_key_name"));
  // '+' and spaces, Unicode ones too (a pasted no-break space, an IME's
  // ideographic space): the rotation would be written and the log could
  // then sign no checkpoint.
  for (const char* name :
       {"bad+name", "bad name", "bad\u00a0name", "bad\u3000name"}) {
    rk.set_new_key_name(name);
    EXPECT_THAT(client_->RotateKey(rk),
                StatusIs(absl::StatusCode::kInvalidArgument, "new_key_name"))
        << name;
  }
  rk.set_new_key_name(segledger::testing::kTestKeyName);  // exists
  EXPECT_THAT(client_->RotateKey(rk),
              StatusIs(absl::StatusCode::kAlreadyExists, "new_key_name"));
  rk.set_new_key_name("fresh");
  rk.mutable_actor()->clear_person_id();
  EXPECT_THAT(client_->RotateKey(rk),
              StatusIs(absl::StatusCode::kInvalidArgument, "actor.person_id"));
  EXPECT_THAT(client_->Timeline(""),
              StatusIs(absl::StatusCode::kInvalidArgument, "lot_id"));
  EXPECT_THAT(client_->Trace("", true),
              StatusIs(absl::StatusCode::kInvalidArgument, "lot_id"));
  EXPECT_THAT(client_->MassBalance(""),
              StatusIs(absl::StatusCode::kInvalidArgument, "lot_id"));
  EXPECT_THAT(client_->Backup("relative/dir"),
              StatusIs(absl::StatusCode::kInvalidArgument, "dir"));
  EXPECT_THAT(client_->Backup(dir_.path()),
              StatusIs(absl::StatusCode::kAlreadyExists, "dir"));
  // A missing parent is the caller's to fix, not a node outage to retry.
  EXPECT_THAT(
      client_->Backup(dir_.Sub("no-such-dir/backup")),
      StatusIs(absl::StatusCode::kFailedPrecondition, "dir: the parent"));
  // Inside the data directory: keys/x.key would stop the next start.
  EXPECT_THAT(client_->Backup(data_ + "/keys/x.key"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "inside the node's data directory"));
  EXPECT_THAT(client_->Backup(data_ + "/x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "inside the node's data directory"));

  EXPECT_EQ(node_->store().Size(), 4u);
  SEG_ASSERT_OK_AND_ASSIGN(v1::CheckpointResponse after,
                           client_->GetCheckpoint());
  EXPECT_EQ(after.note(), before.note());  // byte-identical
}

TEST_F(NodeTest, AppendStreamAcksEveryRecordExactlyOnce) {
  StartInsecure();
  constexpr int kRecords = 3000;
  absl::Mutex mu;
  std::map<uint64_t, v1::StreamAck> acks;
  int duplicates = 0;
  SEG_ASSERT_OK_AND_ASSIGN(
      auto stream, client_->OpenAppendStream([&](const v1::StreamAck& a) {
        absl::MutexLock lock(&mu);
        if (!acks.emplace(a.sequence(), a).second) {
          ++duplicates;
        }
      }));
  for (int i = 0; i < kRecords; i += 50) {
    v1::AppendStreamRequest req;
    for (int j = i; j < i + 50; ++j) {
      v1::StreamRecord* r = req.add_records();
      r->set_sequence(j);
      *r->mutable_record() = TestRecord(absl::StrCat("s-", j), j);
      if (j == 777) r->mutable_record()->clear_actor();  // refused alone
    }
    ASSERT_TRUE(stream->Write(req));
  }
  SEG_ASSERT_OK(stream->Finish());
  absl::MutexLock lock(&mu);
  EXPECT_EQ(duplicates, 0);
  ASSERT_EQ(acks.size(), size_t(kRecords));
  EXPECT_EQ(acks[777].error_code(), int(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(acks[777].error_message(), HasSubstr("record.actor"));
  std::set<uint64_t> indexes;
  for (auto& [seq, a] : acks) {
    if (seq != 777) indexes.insert(a.ack().index());
  }
  EXPECT_EQ(indexes.size(), size_t(kRecords - 1));
  EXPECT_EQ(*indexes.rbegin(), uint64_t(kRecords - 2));
  EXPECT_EQ(node_->store().Size(), uint64_t(kRecords - 1));
}

// Regression: ListCheckpoints stopped after 100,000 checkpoints and ended
// OK although limit 0 means every one, so `segctl export` (which lists them
// all) silently left the rest out of the bundle. With the store read 3 at
// a time, every stored checkpoint comes back, limits hold across chunk
// boundaries, and the export holds every non-empty one.
TEST_F(NodeTest, ListCheckpointsReturnsEveryStoredOne) {
  NodeOptions options;
  options.checkpoints_per_read = 3;
  StartInsecure(options);
  for (int round = 0; round < 10; ++round) {
    AppendN(absl::StrCat("cp", round), 1);
    SEG_ASSERT_OK(client_->CheckpointNow().status());  // at 1, 2, ..., 10
  }
  std::vector<uint64_t> stored;
  SEG_ASSERT_OK(
      node_->store().ScanCheckpoints([&](uint64_t size, absl::string_view) {
        stored.push_back(size);
        return true;
      }));
  ASSERT_EQ(stored.size(), 11u);  // and the empty tree's
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<v1::CheckpointResponse> listed,
                           client_->ListCheckpoints());
  std::vector<uint64_t> sizes;
  for (const v1::CheckpointResponse& c : listed) sizes.push_back(c.size());
  EXPECT_EQ(sizes, stored);

  // from_size and limit, across chunks: sizes 2..6.
  auto stub = v1::ReadService::NewStub(client_->channel());
  grpc::ClientContext ctx;
  v1::ListCheckpointsRequest req;
  req.set_from_size(2);
  req.set_limit(5);
  auto reader = stub->ListCheckpoints(&ctx, req);
  sizes.clear();
  for (v1::CheckpointResponse c; reader->Read(&c);) sizes.push_back(c.size());
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(sizes, (std::vector<uint64_t>{2, 3, 4, 5, 6}));

  SEG_ASSERT_OK_AND_ASSIGN(auto source,
                           client::GrpcExportSource::Fetch(*client_));
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<std::string> exported,
                           source->Checkpoints());
  EXPECT_EQ(exported.size(), stored.size() - 1);  // all but the empty tree's
}

TEST_F(NodeTest, SixtyFourConcurrentAppendersChainAndProofsValid) {
  StartInsecure();
  constexpr int kThreads = 64;
  const int per_thread = std::getenv("SEG_NODE_LONG") != nullptr ? 200 : 20;
  absl::Mutex mu;
  std::map<uint64_t, std::string> acked;  // index -> leaf hash
  int duplicates = 0;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        v1::AppendRequest req;
        *req.add_records() = TestRecord(absl::StrCat("t", t, "-", i), i);
        absl::StatusOr<v1::AppendResponse> r = client_->Append(req);
        if (!r.ok() || r->acks_size() != 1) {
          failures.fetch_add(1);
          continue;
        }
        absl::MutexLock lock(&mu);
        if (!acked.emplace(r->acks(0).index(), r->acks(0).leaf_hash()).second) {
          ++duplicates;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const uint64_t total = uint64_t(kThreads) * per_thread;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(duplicates, 0);
  ASSERT_EQ(acked.size(), total);
  EXPECT_EQ(acked.rbegin()->first, total - 1);

  // Chain: every prev_hash is the previous leaf hash; leaf hashes match.
  std::string prev(32, '\0');
  SEG_ASSERT_OK(client_->GetEntries(0, total, [&](v1::EntryResponse& e) {
    absl::StatusOr<v1::EntryBody> b = ParseEntryBody(e.entry().body());
    EXPECT_TRUE(b.ok());
    EXPECT_EQ(b->prev_hash(), prev) << "index " << e.index();
    EXPECT_EQ(e.leaf_hash(), acked[e.index()]);
    EXPECT_EQ(e.leaf_hash(),
              std::string(HashBytes(LeafHash(e.entry().body()))));
    prev = e.leaf_hash();
    return true;
  }));
  SEG_ASSERT_OK(client_->CheckpointNow().status());
  Checkpoint cp = LatestCheckpoint();
  ASSERT_EQ(cp.size, total);
  for (uint64_t i = 0; i < total; i += 97) {
    SEG_ASSERT_OK_AND_ASSIGN(v1::InclusionProofResponse p,
                             client_->InclusionProof(i, total));
    SEG_EXPECT_OK(VerifyInclusion(i, total, ToHash(acked[i]),
                                  ToHashes(p.proof()), cp.root));
  }
}

// ---- mTLS and the authorisation matrix ----

std::string ScriptPath() {
  return std::string(SEGLEDGER_TESTDATA_DIR) +
         "/../../scripts/make-dev-certs.sh";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void MakeCerts(const std::string& dir, const std::string& clients) {
  std::string cmd = ScriptPath() + " " + dir + " " + clients + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

class AuthzTest : public NodeTest {
 protected:
  // `tweak` edits the configuration before the node starts.
  void StartTls(const std::function<void(v1::NodeConfig&)>& tweak = {}) {
    MakeCerts(dir_.Sub("certs"),
              "operator qa inspector peer foreign-op stranger");
    MakeCerts(dir_.Sub("evil"), "operator");
    v1::NodeConfig config;
    config.set_data_dir(data_);
    config.set_listen("127.0.0.1:0");
    config.set_party("party-a");
    config.set_tls_ca(dir_.Sub("certs/ca.pem"));
    config.set_tls_cert(dir_.Sub("certs/node.pem"));
    config.set_tls_key(dir_.Sub("certs/node.key"));
    config.set_checkpoint_interval_ms(3600 * 1000);
    for (const char* role : {"operator", "qa", "inspector", "peer"}) {
      v1::Principal* p = config.add_principals();
      p->set_match(role);
      p->set_party("party-a");
      p->set_role(role);
    }
    v1::Principal* f = config.add_principals();
    f->set_match("foreign-op");
    f->set_party("party-b");
    f->set_role("operator");
    if (tweak) tweak(config);
    SEG_ASSERT_OK_AND_ASSIGN(node_, Node::Start(config));
  }

  std::unique_ptr<Client> As(const std::string& certs, const std::string& cn) {
    ClientOptions o;
    o.target = node_->address();
    o.ca_file = dir_.Sub("certs/ca.pem");  // always trust the real node
    o.cert_file = dir_.Sub(certs + "/" + cn + ".pem");
    o.key_file = dir_.Sub(certs + "/" + cn + ".key");
    o.server_name_override = "localhost";
    o.max_attempts = 1;
    o.timeout = absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  absl::Status Call(Client& c, Rpc rpc) {
    static std::atomic<int> unique{0};
    int u = unique.fetch_add(1);
    switch (rpc) {
      case Rpc::kAppend: {
        v1::AppendRequest req;
        *req.add_records() = TestRecord(absl::StrCat("authz-", u), u);
        return c.Append(req).status();
      }
      case Rpc::kAppendStream: {
        // A refused record is refused in its ack (the stream itself ends
        // OK): the ack's status is the call's.
        absl::Status refused;
        auto stream = c.OpenAppendStream([&refused](const v1::StreamAck& a) {
          if (a.error_code() != 0 && refused.ok()) {
            refused =
                absl::Status(static_cast<absl::StatusCode>(a.error_code()),
                             a.error_message());
          }
        });
        if (!stream.ok()) return stream.status();
        v1::AppendStreamRequest req;
        v1::StreamRecord* r = req.add_records();
        *r->mutable_record() = TestRecord(absl::StrCat("authz-", u), u);
        (*stream)->Write(req);
        absl::Status finished = (*stream)->Finish();
        return finished.ok() ? refused : finished;
      }
      case Rpc::kGetEntry:
        return c.GetEntry(0).status();
      case Rpc::kGetEntries:
        return c.GetEntries(0, 1, [](auto&) { return true; });
      case Rpc::kGetCheckpoint:
        return c.GetCheckpoint().status();
      case Rpc::kInclusionProof:
        return c.InclusionProof(0, 1).status();
      case Rpc::kConsistencyProof:
        return c.ConsistencyProof(1, 1).status();
      case Rpc::kProofs:
        return c.Proofs(0, 1, 1).status();
      case Rpc::kWatch: {
        v1::WatchRequest w;
        w.set_checkpoints(true);
        return c.Watch(w, [](const v1::WatchEvent&) { return false; });
      }
      case Rpc::kQuery:
        return c.Timeline("no-such-lot").status();
      case Rpc::kStatus:
        return c.GetStatus().status();
      case Rpc::kCheckpointNow:
        return c.CheckpointNow().status();
      case Rpc::kRotateKey: {
        v1::RotateKeyRequest rk;
        rk.set_new_key_name(absl::StrCat("authz-key-", u));
        *rk.mutable_actor() = TestRecord("x").actor();
        return c.RotateKey(rk).status();
      }
      case Rpc::kBackup:
        return c.Backup(dir_.Sub(absl::StrCat("backup-", u))).status();
      // The peer RPCs with requests the node refuses on content
      // (no peers configured): admitted callers get NOT_FOUND or
      // INVALID_ARGUMENT, never PERMISSION_DENIED.
      case Rpc::kPeerHeldSize:
        return c.GetHeldSize("no-such-peer").status();
      case Rpc::kDeliverEvidence:
        return c.DeliverEvidence(v1::HandoffEvidence()).status();
      case Rpc::kCosign:
        return c.Cosign(v1::CosignRequest()).status();
      case Rpc::kPeerData:
        return c.GetPeerData("").status();
    }
    return absl::InternalError("unreachable");
  }
};

// With a tls_ca bundle of two parties' CAs, either CA can issue a
// certificate named "operator": by name alone, the other party's CA makes
// its holder this party's operator. issuer_ca binds the principal to its
// own CA; a bad issuer_ca starts no node.
TEST_F(AuthzTest, IssuerCaBindsAPrincipalToItsCa) {
  const std::string bundle = dir_.Sub("bundle.pem");
  auto trust_both = [&](v1::NodeConfig& c) {
    std::ofstream(bundle) << ReadFile(dir_.Sub("certs/ca.pem"))
                          << ReadFile(dir_.Sub("evil/ca.pem"));
    c.set_tls_ca(bundle);
  };
  StartTls(trust_both);
  SEG_EXPECT_OK(As("evil", "operator")->CheckpointNow().status());  // the gap
  node_->Shutdown().IgnoreError();
  node_.reset();

  StartTls([&](v1::NodeConfig& c) {
    trust_both(c);
    for (v1::Principal& p : *c.mutable_principals()) {
      p.set_issuer_ca(dir_.Sub("certs/ca.pem"));
    }
  });
  SEG_EXPECT_OK(As("certs", "operator")->CheckpointNow().status());
  SEG_EXPECT_OK(As("certs", "operator")->GetStatus().status());  // cached
  EXPECT_THAT(As("evil", "operator")->CheckpointNow(),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "is not issued by the CA of principals[0].issuer_ca"));
  EXPECT_THAT(As("evil", "operator")->GetStatus(),
              StatusIs(absl::StatusCode::kPermissionDenied, "issuer_ca"));
  node_->Shutdown().IgnoreError();
  node_.reset();

  // Every certificate of an issuer_ca file counts, not only the first.
  const std::string two = dir_.Sub("two-cas.pem");
  StartTls([&](v1::NodeConfig& c) {
    trust_both(c);
    std::ofstream(two) << ReadFile(dir_.Sub("evil/ca.pem"))
                       << ReadFile(dir_.Sub("certs/ca.pem"));
    for (v1::Principal& p : *c.mutable_principals()) p.set_issuer_ca(two);
  });
  SEG_EXPECT_OK(As("certs", "operator")->CheckpointNow().status());
  node_->Shutdown().IgnoreError();
  node_.reset();

  v1::NodeConfig bad;
  bad.set_data_dir(data_);
  bad.set_listen("127.0.0.1:0");
  bad.set_tls_ca(dir_.Sub("certs/ca.pem"));
  bad.set_tls_cert(dir_.Sub("certs/node.pem"));
  bad.set_tls_key(dir_.Sub("certs/node.key"));
  v1::Principal* p = bad.add_principals();
  p->set_match("operator");
  p->set_role("operator");
  p->set_issuer_ca(dir_.Sub("certs/no-such-ca.pem"));
  EXPECT_THAT(Node::Start(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                         "principals[0].issuer_ca: cannot "
                                         "read"));
  p->set_issuer_ca(dir_.Sub("certs/operator.key"));
  EXPECT_THAT(Node::Start(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                         "holds no PEM certificate"));
}

TEST_F(AuthzTest, RoleByRpcMatrix) {
  StartTls();
  {
    std::unique_ptr<Client> op = As("certs", "operator");
    ASSERT_NE(op, nullptr);
    v1::AppendRequest req;
    *req.add_records() = TestRecord("seed", 0);
    SEG_ASSERT_OK(op->Append(req).status());
    SEG_ASSERT_OK(op->CheckpointNow().status());
  }
  struct Who {
    const char* cn;
    Role role;
    bool local;
  };
  const Who who[] = {{"operator", Role::kOperator, true},
                     {"qa", Role::kQa, true},
                     {"inspector", Role::kInspector, true},
                     {"peer", Role::kPeer, true},
                     {"foreign-op", Role::kOperator, false}};
  for (const Who& w : who) {
    std::unique_ptr<Client> c = As("certs", w.cn);
    ASSERT_NE(c, nullptr);
    for (int r = 0; r <= static_cast<int>(kLastRpc); ++r) {
      Rpc rpc = static_cast<Rpc>(r);
      bool allowed = RoleMayCall(w.role, rpc) && (w.local || !IsWriteRpc(rpc));
      absl::Status s = Call(*c, rpc);
      SCOPED_TRACE(absl::StrCat(w.cn, " x ", RpcName(rpc), ": ", s.ToString()));
      const bool content_refused = rpc == Rpc::kPeerHeldSize ||
                                   rpc == Rpc::kDeliverEvidence ||
                                   rpc == Rpc::kCosign;
      // The Append calls send TestRecord, a key registration: admitted
      // for every writer, whose record then needs the operator role.
      const bool key_record =
          (rpc == Rpc::kAppend || rpc == Rpc::kAppendStream) &&
          w.role != Role::kOperator;
      if (allowed && content_refused) {
        EXPECT_TRUE(absl::IsNotFound(s) || absl::IsInvalidArgument(s));
      } else if (allowed && key_record) {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                                "key records need the operator role"));
      } else if (allowed) {
        EXPECT_TRUE(s.ok());
      } else {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
      }
    }
  }
  // A valid certificate no principal matches: refused everywhere.
  std::unique_ptr<Client> stranger = As("certs", "stranger");
  EXPECT_THAT(stranger->GetStatus(),
              StatusIs(absl::StatusCode::kPermissionDenied, "stranger"));
  EXPECT_THAT(Call(*stranger, Rpc::kAppend),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // A certificate from another CA: the handshake fails.
  std::unique_ptr<Client> evil = As("evil", "operator");
  EXPECT_THAT(evil->GetStatus(), StatusIs(absl::StatusCode::kUnavailable));
  // No client certificate at all: the handshake fails.
  grpc::SslCredentialsOptions ssl;
  std::ifstream ca(dir_.Sub("certs/ca.pem"));
  ssl.pem_root_certs.assign(std::istreambuf_iterator<char>(ca), {});
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(node_->address(),
                                           grpc::SslCredentials(ssl), args);
  auto stub = v1::AdminService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::StatusResponse resp;
  grpc::Status s = stub->GetStatus(&ctx, v1::StatusRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // An insecure client against the TLS port gets nothing either.
  ClientOptions plain;
  plain.target = node_->address();
  plain.insecure = true;
  plain.max_attempts = 1;
  plain.timeout = absl::Seconds(10);
  SEG_ASSERT_OK_AND_ASSIGN(auto pc, Client::Connect(plain));
  EXPECT_THAT(pc->GetStatus(), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(AuthzTable, EveryRpcHasARowAndInspectorsNeverWrite) {
  for (int r = 0; r <= static_cast<int>(kLastRpc); ++r) {
    Rpc rpc = static_cast<Rpc>(r);
    EXPECT_NE(RpcName(rpc), "") << r;
    if (IsWriteRpc(rpc)) {
      EXPECT_FALSE(RoleMayCall(Role::kInspector, rpc)) << RpcName(rpc);
      EXPECT_FALSE(RoleMayCall(Role::kPeer, rpc)) << RpcName(rpc);
    }
  }
  EXPECT_EQ(RpcName(Rpc::kBackup), "Backup");
  EXPECT_EQ(RpcName(Rpc::kAppend), "Append");
}

// The follower's view of a node over gRPC (GrpcFollowSource): the step
// checkpoint in a range, entry ranges exactly as asked, and FollowOnce
// catching up in steps no longer than asked.
TEST_F(NodeTest, FollowSourceStepsThroughSignedCheckpoints) {
  StartInsecure();
  for (int round = 0; round < 5; ++round) {
    AppendN(absl::StrCat("step", round), 3);
    SEG_ASSERT_OK(client_->CheckpointNow().status());  // at 3, 6, ..., 15
  }
  v1::NodeConfig config;
  config.set_insecure(true);
  v1::PeerNode* peer = config.add_peers();
  peer->set_origin(segledger::testing::kTestOrigin);
  peer->set_address(node_->address());
  peer->add_verifier_keys(vkey_);
  SEG_ASSERT_OK_AND_ASSIGN(auto links, PeerLinks::Create(config));
  GrpcFollowSource source(links->links()[0].get(), absl::Seconds(20));

  auto size_of = [](const std::optional<std::string>& note) -> uint64_t {
    if (!note.has_value()) return 0;
    return CheckpointNoteSize(*note).value_or(0);
  };
  SEG_ASSERT_OK_AND_ASSIGN(auto in, source.CheckpointIn(4, 10));
  EXPECT_EQ(size_of(in), 9u);
  SEG_ASSERT_OK_AND_ASSIGN(in, source.CheckpointIn(9, 11));
  EXPECT_FALSE(in.has_value());
  SEG_ASSERT_OK_AND_ASSIGN(in, source.CheckpointIn(0, 1000));
  EXPECT_EQ(size_of(in), 15u);
  std::vector<uint64_t> indexes;
  auto take = [&](v1::SignedEntry& e) {
    absl::StatusOr<v1::EntryBody> body = ParseEntryBody(e.body());
    indexes.push_back(body.ok() ? body->index() : UINT64_MAX);
    return true;
  };
  SEG_ASSERT_OK(source.Entries(2, 7, take));
  EXPECT_EQ(indexes, (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  // A follower that takes no more stops the stream: OK, nothing after.
  indexes.clear();
  SEG_ASSERT_OK(source.Entries(0, 15, [&](v1::SignedEntry& e) {
    take(e);
    return indexes.size() < 2;
  }));
  EXPECT_EQ(indexes, (std::vector<uint64_t>{0, 1}));

  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("mah")));
  peers::PeerStore follower(*kv);
  peers::PeerConfig trusted;
  trusted.origin = segledger::testing::kTestOrigin;
  trusted.keys.push_back(*verifier_);
  SEG_ASSERT_OK(follower.AddPeer(std::move(trusted)));
  std::vector<uint64_t> steps;
  uint64_t size = 0;
  for (int i = 0; i < 20 && size < 15; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(
        size, peers::FollowOnce(follower, segledger::testing::kTestOrigin,
                                source, peers::FollowLimits{4, 4}));
    steps.push_back(size);
  }
  EXPECT_EQ(steps, (std::vector<uint64_t>{3, 6, 9, 12, 15}));
}

// The follower's held checkpoint ahead of its position (here from hand-off
// evidence): each step below it carries a consistency proof to it, which
// GrpcFollowSource reads from the source's ProofService. A copy of the
// store started under the same key and grown another way (a fork) is an
// equivocation at its first step, whose entries are still the genuine
// ones; the genuine node is followed to the held size.
TEST_F(NodeTest, FollowerProvesStepsBelowTheHeldCheckpoint) {
  StartInsecure();
  AppendN("a", 3);
  SEG_ASSERT_OK(client_->CheckpointNow().status());  // at 3
  const std::string fork_dir = dir_.Sub("fork");
  std::filesystem::create_directories(fork_dir);
  SEG_ASSERT_OK(node_->store().kv().Backup(DbDir(fork_dir)));
  std::filesystem::copy(KeyDir(data_), KeyDir(fork_dir),
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy_file(NodeFile(data_), NodeFile(fork_dir));
  AppendN("b", 5);
  SEG_ASSERT_OK(client_->CheckpointNow().status());  // at 8

  SEG_ASSERT_OK_AND_ASSIGN(auto kv, store::RocksDbKv::Open(dir_.Sub("mah")));
  peers::PeerStore follower(*kv);
  peers::PeerConfig trusted;
  trusted.origin = segledger::testing::kTestOrigin;
  trusted.keys.push_back(*verifier_);
  SEG_ASSERT_OK(follower.AddPeer(std::move(trusted)));
  peers::Outbox outbox(node_->store());
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev, outbox.BuildEvidence(7, 0));
  SEG_ASSERT_OK(follower.AcceptEvidence(ev).status());
  SEG_ASSERT_OK_AND_ASSIGN(auto held,
                           follower.Latest(segledger::testing::kTestOrigin));
  ASSERT_EQ(held->size, 8u);

  v1::NodeConfig fork_config;
  fork_config.set_data_dir(fork_dir);
  fork_config.set_listen("127.0.0.1:0");
  fork_config.set_insecure(true);
  fork_config.set_checkpoint_interval_ms(3600 * 1000);
  SEG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Node> fork,
                           Node::Start(fork_config));
  ClientOptions o;
  o.target = fork->address();
  o.insecure = true;
  o.timeout = absl::Seconds(20);
  SEG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> fork_client,
                           Client::Connect(o));
  v1::AppendRequest req;
  for (int i = 0; i < 5; ++i) {
    *req.add_records() = TestRecord(absl::StrCat("fork-", i), i);
  }
  SEG_ASSERT_OK(fork_client->Append(req).status());
  SEG_ASSERT_OK(fork_client->CheckpointNow().status());  // at 8, other root

  auto source_for = [&](const std::string& address)
      -> absl::StatusOr<std::unique_ptr<PeerLinks>> {
    v1::NodeConfig config;
    config.set_insecure(true);
    v1::PeerNode* peer = config.add_peers();
    peer->set_origin(segledger::testing::kTestOrigin);
    peer->set_address(address);
    peer->add_verifier_keys(vkey_);
    return PeerLinks::Create(config);
  };
  SEG_ASSERT_OK_AND_ASSIGN(auto genuine_links, source_for(node_->address()));
  SEG_ASSERT_OK_AND_ASSIGN(auto fork_links, source_for(fork->address()));
  GrpcFollowSource genuine(genuine_links->links()[0].get(), absl::Seconds(20));
  GrpcFollowSource forked(fork_links->links()[0].get(), absl::Seconds(20));
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           genuine.ConsistencyProof(3, 8));
  EXPECT_EQ(proof, *node_->store().ConsistencyProof(3, 8));
  EXPECT_THAT(genuine.ConsistencyProof(3, 9),
              StatusIs(absl::StatusCode::kOutOfRange, "tree_size"));

  const peers::FollowLimits limits{/*max_step=*/4, /*max_gap=*/8};
  EXPECT_THAT(peers::FollowOnce(follower, segledger::testing::kTestOrigin,
                                forked, limits),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(
      auto eq, follower.Equivocations(segledger::testing::kTestOrigin));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].source(), "follower");
  EXPECT_EQ(eq[0].held_note(), held->note);
  EXPECT_EQ(follower.FollowStateOf(segledger::testing::kTestOrigin)->size(),
            0u);

  std::vector<uint64_t> steps;
  for (int i = 0; i < 10 && (steps.empty() || steps.back() < 8); ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(
        uint64_t size,
        peers::FollowOnce(follower, segledger::testing::kTestOrigin, genuine,
                          limits));
    steps.push_back(size);
  }
  EXPECT_EQ(steps, (std::vector<uint64_t>{3, 8}));
}

// A peer's ReadService that serves `note` as its latest checkpoint and
// `entries` as they are, whatever their size. A handler may still run
// after the client stopped reading: entries change under `mu_`.
class AnyEntriesService final : public v1::ReadService::Service {
 public:
  std::string note;  // set before serving

  void Set(std::vector<v1::SignedEntry> e) {
    absl::MutexLock l(&mu_);
    entries_ = std::move(e);
  }
  void SetBody(size_t i, std::string body) {
    absl::MutexLock l(&mu_);
    entries_[i].set_body(std::move(body));
  }

  grpc::Status GetCheckpoint(grpc::ServerContext*,
                             const v1::GetCheckpointRequest*,
                             v1::CheckpointResponse* r) override {
    r->set_note(note);
    r->set_size(CheckpointNoteSize(note).value_or(0));
    return grpc::Status::OK;
  }
  grpc::Status GetEntries(grpc::ServerContext* ctx,
                          const v1::GetEntriesRequest* req,
                          grpc::ServerWriter<v1::EntryResponse>* w) override {
    for (uint64_t i = req->from(); i < req->to(); ++i) {
      v1::EntryResponse e;
      {
        absl::MutexLock l(&mu_);
        if (i >= entries_.size()) break;
        *e.mutable_entry() = entries_[i];
      }
      e.set_index(i);
      if (ctx->IsCancelled() || !w->Write(e)) break;
    }
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::SignedEntry> entries_ ABSL_GUARDED_BY(mu_);
};

// Entries no log can hold, from a peer: a body over 65,535 bytes is
// refused as it arrives (INVALID_ARGUMENT naming it), and a message over
// the peer links' limit is refused by gRPC before it is held
// (RESOURCE_EXHAUSTED). Nothing is stored.
TEST_F(NodeTest, FollowerRefusesOversizedEntriesFromAPeer) {
  StartInsecure();
  AppendN("a", 4);
  SEG_ASSERT_OK_AND_ASSIGN(v1::CheckpointNowResponse cp,
                           client_->CheckpointNow());
  AnyEntriesService fake;
  fake.note = cp.note();
  std::vector<v1::SignedEntry> entries;
  SEG_ASSERT_OK(
      node_->store().ScanEntries(0, 4, [&](uint64_t, const v1::SignedEntry& e) {
        entries.push_back(e);
        return true;
      }));
  entries[1].set_body(std::string(70000, 'x'));
  fake.Set(std::move(entries));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&fake);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  v1::NodeConfig config;
  config.set_insecure(true);
  v1::PeerNode* peer = config.add_peers();
  peer->set_origin(segledger::testing::kTestOrigin);
  peer->set_address(absl::StrCat("127.0.0.1:", port));
  peer->add_verifier_keys(vkey_);
  SEG_ASSERT_OK_AND_ASSIGN(auto links, PeerLinks::Create(config));
  GrpcFollowSource source(links->links()[0].get(), absl::Seconds(20));
  store::MemoryKv kv;
  peers::PeerStore follower(kv);
  peers::PeerConfig trusted;
  trusted.origin = segledger::testing::kTestOrigin;
  trusted.keys.push_back(*verifier_);
  SEG_ASSERT_OK(follower.AddPeer(std::move(trusted)));

  EXPECT_THAT(
      peers::FollowOnce(follower, segledger::testing::kTestOrigin, source),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "entry 1 from the source has a 70000-byte body"));
  fake.SetBody(1, std::string(kMaxPeerMessageBytes, 'x'));
  EXPECT_THAT(
      peers::FollowOnce(follower, segledger::testing::kTestOrigin, source),
      StatusIs(absl::StatusCode::kResourceExhausted, "entries"));
  EXPECT_EQ(follower.FollowStateOf(segledger::testing::kTestOrigin)->size(),
            0u);
  server->Shutdown();
}

// A witness node that holds a peer's checkpoint from hand-off evidence
// but never cosigned it (PeerService over gRPC): GetHeldSize reports the
// held size as the base a Cosign request's proof must start from; a
// request from another base is stale, a log forked after the held
// checkpoint is an equivocation and gets no cosignature, and the genuine
// log is cosigned from the held size.
TEST_F(NodeTest, CosignIsProvenFromTheHeldCheckpoint) {
  constexpr char kUp[] = "cmo-up.example/segledger";
  std::shared_ptr<const NoteSigner> up_key = peers::testing::NewKey("up-k1");
  SEG_ASSERT_OK_AND_ASSIGN(peers::testing::Site up,
                           peers::testing::OpenSite(kUp, up_key));
  SEG_ASSERT_OK_AND_ASSIGN(peers::testing::Site fork,
                           peers::testing::OpenSite(kUp, up_key));
  for (int i = 0; i < 10; ++i) {
    if (i < 8) {
      SEG_ASSERT_OK(
          peers::testing::AppendOne(*up.log, peers::testing::NoteRecord("a"))
              .status());
    }
    SEG_ASSERT_OK(
        peers::testing::AppendOne(*fork.log, peers::testing::NoteRecord("fork"))
            .status());
  }
  peers::Outbox outbox(*up.log);
  SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev, outbox.BuildEvidence(7, 0));

  v1::NodeConfig config;
  config.set_data_dir(data_);
  config.set_listen("127.0.0.1:0");
  config.set_insecure(true);
  config.set_checkpoint_interval_ms(3600 * 1000);
  v1::PeerNode* peer = config.add_peers();
  peer->set_origin(kUp);
  peer->set_party("up-party");
  peer->set_address("127.0.0.1:1");  // never reached: calls come to us
  peer->add_verifier_keys(up_key->Verifier().VerifierKey());
  SEG_ASSERT_OK_AND_ASSIGN(node_, Node::Start(config));
  ClientOptions o;
  o.target = node_->address();
  o.insecure = true;
  o.timeout = absl::Seconds(20);
  SEG_ASSERT_OK_AND_ASSIGN(client_, Client::Connect(o));

  SEG_ASSERT_OK(client_->DeliverEvidence(ev).status());
  SEG_ASSERT_OK_AND_ASSIGN(v1::HeldSizeResponse held,
                           client_->GetHeldSize(kUp));
  EXPECT_EQ(held.size(), 8u);
  EXPECT_EQ(held.cosigned_size(), 8u);

  auto request = [](const std::string& note, uint64_t base,
                    const std::vector<Hash>& proof) {
    v1::CosignRequest r;
    r.set_checkpoint(note);
    r.set_base_size(base);
    for (const Hash& h : proof) r.add_proof(std::string(HashBytes(h)));
    return r;
  };
  SEG_ASSERT_OK_AND_ASSIGN(std::string fork_note, fork.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> fork_proof,
                           fork.log->ConsistencyProof(8, 10));
  EXPECT_THAT(client_->Cosign(request(fork_note, 0, {})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "consistency proof is from size 0"));
  EXPECT_THAT(client_->Cosign(request(fork_note, 8, fork_proof)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "equivocation"));
  SEG_ASSERT_OK_AND_ASSIGN(v1::PeerDataResponse data,
                           client_->GetPeerData(kUp));
  ASSERT_EQ(data.equivocations_size(), 1);
  EXPECT_EQ(data.equivocations(0).source(), "cosign");
  EXPECT_EQ(data.equivocations(0).offered_note(), fork_note);
  EXPECT_EQ(data.cosigned_by_us_size(), 0);

  for (int i = 0; i < 2; ++i) {
    SEG_ASSERT_OK(
        peers::testing::AppendOne(*up.log, peers::testing::NoteRecord("b"))
            .status());
  }
  SEG_ASSERT_OK_AND_ASSIGN(std::string n10, up.log->CheckpointNow());
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof,
                           up.log->ConsistencyProof(8, 10));
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::CosignResponse cosigned,
      client_->Cosign(request(n10, held.cosigned_size(), proof)));
  SEG_ASSERT_OK_AND_ASSIGN(
      VerifiedNote opened,
      OpenNote(cosigned.cosigned(),
               std::vector<NoteVerifier>{up_key->Verifier(), *verifier_}));
  EXPECT_EQ(opened.verified.size(), 2u);
  SEG_ASSERT_OK_AND_ASSIGN(held, client_->GetHeldSize(kUp));
  EXPECT_EQ(held.size(), 10u);
  EXPECT_EQ(held.cosigned_size(), 10u);
}

// ---- pilot_rules (NodeConfig): R-CMO-EXPERIENCE refuses by default,
// records a finding or is off when configured, and its threshold is
// configuration; a bad value names the field and starts nothing.

class PilotRulesTest : public ::testing::Test {
 protected:
  // A node for the upstream CMO of the ADC chain, which registers itself
  // with a first commercial production in June 2023: under 3 years, over
  // 1, at the cell bank's production in March 2025. The product's plan is
  // the MAH's, from the chain's evidence (only the MAH registers it,
  // R-PRODUCT-OWNER), so the site also needs 2 MAH staff (R-MAH-STAFF).
  absl::Status Start(const v1::PilotRules& pilot) {
    if (chain_.mah().entries().empty()) SEG_RETURN_IF_ERROR(chain_.Build());
    const domain::testing::Party& up = chain_.up().party();
    const std::string data = dir_.Sub(absl::StrCat("n", ++nodes_));
    SEG_RETURN_IF_ERROR(InitDataDir(data, up.origin, up.origin).status());
    v1::NodeConfig config = InsecureSiteConfig(data, up);
    *config.mutable_pilot_rules() = pilot;
    NodeOptions options;
    options.evidence = &chain_.evidence();
    SEG_ASSIGN_OR_RETURN(node_, Node::Start(config, options));
    ClientOptions o;
    o.target = node_->address();
    o.insecure = true;
    o.timeout = absl::Seconds(20);
    SEG_ASSIGN_OR_RETURN(client_, Client::Connect(o));
    for (v1::Record r :
         {chain_.PartyReg(up, v1::PARTY_ROLE_CMO,
                          domain::testing::Date(2023, 6, 1)),
          chain_.SiteReg(up, {"cell-bank"},
                         domain::testing::Date(2027, 12, 31)),
          chain_.Staff(up, "mah-qa-1"), chain_.Staff(up, "mah-qa-2")}) {
      SEG_RETURN_IF_ERROR(Append(std::move(r)).status());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::AppendResponse> Append(v1::Record r) {
    v1::AppendRequest req;
    auto* a = req.add_records();
    a->set_request_id(absl::StrCat("r-", ++requests_));
    *a->mutable_actor() = domain::testing::Sig(
        "Operator", v1::SIGNATURE_MEANING_AUTHORED, domain::testing::T(300));
    *a->mutable_record() = std::move(r);
    return client_->Append(req);
  }

  absl::StatusOr<v1::AppendResponse> AppendCellBank() {
    return Append(chain_.Produced(
        chain_.up().party(), domain::testing::Lot("MCB001"), "cell-bank",
        domain::testing::Material("mcb"), domain::testing::Q("10", "H87"),
        domain::testing::T(10)));
  }

  int CmoExperienceFindings() {
    absl::StatusOr<v1::FindingsResponse> f = client_->Findings("");
    EXPECT_TRUE(f.ok()) << f.status();
    if (!f.ok()) return -1;
    int n = 0;
    for (const auto& x : f->findings()) n += x.kind() == "cmo_experience";
    return n;
  }

  segledger::testing::TempDir dir_;
  domain::testing::AdcChain chain_;
  int nodes_ = 0, requests_ = 0;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Client> client_;
};

TEST_F(PilotRulesTest, RefusesByDefault) {
  SEG_ASSERT_OK(Start(v1::PilotRules()));
  EXPECT_THAT(AppendCellBank(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         "rule R-CMO-EXPERIENCE: "));
}

// A refusal of one record of a multi-record Append names the record and
// appends none of them.
TEST_F(PilotRulesTest, MultiRecordRefusalNamesTheRecord) {
  SEG_ASSERT_OK(Start(v1::PilotRules()));
  v1::AppendRequest req;
  auto* staff = req.add_records();
  staff->set_request_id("multi-staff");
  *staff->mutable_actor() = domain::testing::Sig(
      "Operator", v1::SIGNATURE_MEANING_AUTHORED, domain::testing::T(300));
  *staff->mutable_record() = chain_.Staff(chain_.up().party(), "mah-qa-3");
  auto* made = req.add_records();
  *made = *staff;
  made->set_request_id("multi-made");
  *made->mutable_record() =
      chain_.Produced(chain_.up().party(), domain::testing::Lot("MCB001"),
                      "cell-bank", domain::testing::Material("mcb"),
                      domain::testing::Q("10", "H87"), domain::testing::T(10));
  EXPECT_THAT(client_->Append(req),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "records[1]: rule R-CMO-EXPERIENCE: "));
  req.mutable_records()->RemoveLast();
  SEG_ASSERT_OK_AND_ASSIGN(v1::AppendResponse again, client_->Append(req));
  EXPECT_FALSE(again.acks(0).replayed());  // the refused request wrote nothing
}

TEST_F(PilotRulesTest, FindingModeAppendsAndReports) {
  v1::PilotRules pilot;
  pilot.set_cmo_experience(v1::PILOT_RULE_MODE_FINDING);
  SEG_ASSERT_OK(Start(pilot));
  SEG_ASSERT_OK(AppendCellBank());
  EXPECT_EQ(CmoExperienceFindings(), 1);
}

TEST_F(PilotRulesTest, OffAppendsAndThresholdAppliesToFindings) {
  v1::PilotRules pilot;
  pilot.set_cmo_experience(v1::PILOT_RULE_MODE_OFF);
  SEG_ASSERT_OK(Start(pilot));
  SEG_ASSERT_OK(AppendCellBank());
  EXPECT_EQ(CmoExperienceFindings(), 1);  // OFF acts at append only

  pilot = v1::PilotRules();
  pilot.set_cmo_min_experience_years(1);
  SEG_ASSERT_OK(Start(pilot));
  SEG_ASSERT_OK(AppendCellBank());
  EXPECT_EQ(CmoExperienceFindings(), 0);
}

TEST(ConfigExampleTest, ParsesWithEveryDocumentedSection) {
  SEG_ASSERT_OK_AND_ASSIGN(
      v1::NodeConfig c,
      ReadConfigFile(absl::StrCat(SEGLEDGER_TESTDATA_DIR,
                                  "/../../node/segledgerd.example.textproto")));
  EXPECT_FALSE(c.principals().empty());
  // The README's records are those of this party and site.
  EXPECT_EQ(c.party(), "https://cmo-up.example/party");
  EXPECT_EQ(c.site_id(), "https://cmo-up.example/site/1");
  for (const auto& p : c.principals()) {
    if (p.role() == "operator" || p.role() == "qa") {
      EXPECT_EQ(p.party(), c.party()) << p.match();
    }
  }
  EXPECT_EQ(c.pilot_rules().cmo_min_experience_years(), 3u);
  EXPECT_EQ(c.pilot_rules().mah_staff(), v1::PILOT_RULE_MODE_REFUSE);
}

TEST_F(PilotRulesTest, BadValueNamesTheField) {
  v1::PilotRules pilot;
  pilot.set_cmo_experience(static_cast<v1::PilotRuleMode>(9));
  EXPECT_THAT(Start(pilot), StatusIs(absl::StatusCode::kInvalidArgument,
                                     "pilot_rules.cmo_experience: "));
  pilot = v1::PilotRules();
  pilot.set_min_mah_staff_on_site(101);
  EXPECT_THAT(Start(pilot), StatusIs(absl::StatusCode::kInvalidArgument,
                                     "pilot_rules.min_mah_staff_on_site: "));
}

// ---- A sending site that follows no log: QueryService loads the lot's
// own entries only, plus the hand-off evidence the node holds of the lot's
// transfers, so the receiver's receipt, delivered to it as verified
// evidence, shows the shipment received (not in transit) in the timeline,
// the forward trace and the mass balance.

class SendingSiteTest : public UpSiteNodeTest {
 protected:
  void SetUp() override {
    // The receiver is a peer the node does not follow.
    ASSERT_NO_FATAL_FAILURE(StartUpSite(/*follow=*/false));
  }

  // MCB001 made and released here (McbSetupRecords), and T1 dispatching
  // `shipped` of it to the downstream site.
  void ShipMcb(const v1::Quantity& shipped) {
    ASSERT_NO_FATAL_FAILURE(ProduceMcb());
    ASSERT_NO_FATAL_FAILURE(DispatchT1(shipped));
  }

  // The receiver's log (its own store, signed with its key) receives T1
  // and hands the receipt to this node as verified evidence, as its
  // outbox would.
  void DeliverReceipt(const v1::Quantity& received) {
    SEG_ASSERT_OK_AND_ASSIGN(
        peers::testing::Site down,
        peers::testing::OpenSite(chain_.down().party().origin, down_key_));
    SEG_ASSERT_OK_AND_ASSIGN(
        uint64_t r,
        peers::testing::AppendOne(
            *down.log,
            chain_.Receive(chain_.down().party(), t1_, "T1", "C1", Mcb(),
                           received, "SEAL-C1", domain::testing::T(30))));
    peers::Outbox outbox(*down.log);
    SEG_ASSERT_OK_AND_ASSIGN(v1::HandoffEvidence ev,
                             outbox.BuildEvidence(r, 0));
    SEG_ASSERT_OK(node_->peers().peer_store()->AcceptEvidence(ev).status());
  }
};

TEST_F(SendingSiteTest, ReceiptHeldAsEvidenceEndsTransitWithoutFollowing) {
  ASSERT_NO_FATAL_FAILURE(ShipMcb(domain::testing::Q("4", "H87")));
  ASSERT_FALSE(node_->peers().follows_any());
  // Before the receipt arrives: in transit.
  SEG_ASSERT_OK_AND_ASSIGN(v1::MassBalanceResponse mb,
                           client_->MassBalance(Mcb()));
  EXPECT_EQ(mb.in_transit(), "4");
  ASSERT_EQ(mb.shipments_size(), 1);
  EXPECT_FALSE(mb.shipments(0).received());

  ASSERT_NO_FATAL_FAILURE(DeliverReceipt(domain::testing::Q("4", "H87")));
  SEG_ASSERT_OK_AND_ASSIGN(mb, client_->MassBalance(Mcb()));
  EXPECT_EQ(mb.in_transit(), "0");
  ASSERT_EQ(mb.shipments_size(), 1);
  EXPECT_EQ(mb.shipments(0).transfer_id(), "T1");
  EXPECT_TRUE(mb.shipments(0).received());
  EXPECT_EQ(mb.shipments(0).dispatched(), "4");
  EXPECT_EQ(mb.shipments(0).received_quantity(), "4");
  std::map<std::string, std::string> received;
  for (const auto& s : mb.sites()) received[s.site_id()] = s.received();
  EXPECT_EQ(received[chain_.down().party().site], "4");

  SEG_ASSERT_OK_AND_ASSIGN(v1::TraceResponse fwd, client_->Trace(Mcb(), true));
  EXPECT_EQ(fwd.in_transit_size(), 0);
  EXPECT_THAT(fwd.transfers(), ::testing::ElementsAre("T1"));
  EXPECT_THAT(fwd.sites(), ::testing::Contains(chain_.down().party().site));

  SEG_ASSERT_OK_AND_ASSIGN(v1::TimelineResponse tl, client_->Timeline(Mcb()));
  std::vector<std::string> kinds;
  for (const auto& e : tl.events()) kinds.push_back(e.kind());
  EXPECT_THAT(kinds, ::testing::Contains("receipt"));
  EXPECT_EQ(kinds.back(), "receipt");
  EXPECT_EQ(tl.events(tl.events_size() - 1).ref().origin(),
            chain_.down().party().origin);
}

// A receipt counted in another dimension than the dispatch (kilograms
// for vials) cannot be compared with it: the shipment's unit_note names
// the record and both units instead of the old "units differ", and the
// quantity received is not shown as counted.
TEST_F(SendingSiteTest, ShipmentNoteNamesTheQuantityItCannotCount) {
  ASSERT_NO_FATAL_FAILURE(ShipMcb(domain::testing::Q("4", "H87")));
  ASSERT_NO_FATAL_FAILURE(DeliverReceipt(domain::testing::Q("0.4", "KGM")));
  SEG_ASSERT_OK_AND_ASSIGN(v1::MassBalanceResponse mb,
                           client_->MassBalance(Mcb()));
  ASSERT_EQ(mb.shipments_size(), 1);
  const v1::MassBalanceResponse::Shipment& t1 = mb.shipments(0);
  EXPECT_TRUE(t1.received());
  EXPECT_EQ(t1.unit(), "H87");
  EXPECT_EQ(t1.received_quantity(), "0");
  for (const char* part :
       {"receipt", "0.4 KGM", "H87", "cmo-down.example/segledger"}) {
    EXPECT_THAT(t1.unit_note(), HasSubstr(part));
  }
  // Findings call the shipment incomparable, not a quantity mismatch.
  SEG_ASSERT_OK_AND_ASSIGN(v1::FindingsResponse f, client_->Findings(""));
  std::vector<std::string> kinds;
  for (const auto& x : f.findings()) {
    kinds.push_back(x.kind());
    if (x.kind() == "uncounted_quantity") {
      EXPECT_THAT(x.message(), HasSubstr("transfer T1"));
      EXPECT_THAT(x.message(), HasSubstr("received 0.4 KGM not counted"));
    }
  }
  EXPECT_THAT(kinds, ::testing::Contains("uncounted_quantity"));
  EXPECT_THAT(kinds, ::testing::Not(::testing::Contains("quantity_mismatch")));
}

// A rotation whose synced write fails after the batch reached the disk is
// durable once RocksDB replays its WAL: the log then needs the new key.
// The node used to delete the key file on any RotateKey error, so the
// restarted log named a current key it did not have and could not open.
// Now the file stays and the restarted node signs with the new key.
TEST_F(NodeTest, RotationWhoseWriteFailedKeepsItsKeyFile) {
  auto fault = std::make_shared<WriteFault>();
  ASSERT_NO_FATAL_FAILURE(StartInsecure(WithFault(fault)));
  AppendN("a", 2);
  fault->Arm(/*apply_batch=*/true,
             absl::UnavailableError("injected: fsync failed"));
  v1::RotateKeyRequest rk;
  rk.set_new_key_name("test.example-key-2");
  rk.set_reason("scheduled");
  *rk.mutable_actor() = TestRecord("x").actor();
  EXPECT_THAT(client_->RotateKey(rk),
              StatusIs(absl::StatusCode::kUnavailable, "fsync failed"));
  const std::string path = KeyFilePath(KeyDir(data_), "test.example-key-2");
  EXPECT_TRUE(std::filesystem::exists(path));
  client_.reset();
  node_->Shutdown().IgnoreError();  // its final checkpoint fails too
  node_.reset();

  // RocksDB replays the rotation.
  ASSERT_NO_FATAL_FAILURE(StartInsecure());
  SEG_ASSERT_OK_AND_ASSIGN(v1::StatusResponse st, client_->GetStatus());
  EXPECT_EQ(st.current_key_name(), "test.example-key-2");
  EXPECT_EQ(st.size(), 3u);
  ASSERT_EQ(AppendN("b", 1).size(), 1u);
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryResponse e, client_->GetEntry(3));
  SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody body,
                           ParseEntryBody(e.entry().body()));
  EXPECT_EQ(body.key_name(), "test.example-key-2");
}

// The same failure before the batch reached the disk: the rotation never
// happened and the kept key file is one the log never used. It must not
// stop the node from opening or signing with its current key, nor a
// rotation to another name. A rotation refused before any write (here a
// reason too long for an entry) still removes its key file.
TEST_F(NodeTest, UnusedKeyFileOfAFailedRotationIsHarmless) {
  auto fault = std::make_shared<WriteFault>();
  ASSERT_NO_FATAL_FAILURE(StartInsecure(WithFault(fault)));
  AppendN("a", 2);
  v1::RotateKeyRequest rk;
  rk.set_new_key_name("too-long");
  rk.set_reason(std::string(70000, 'r'));
  *rk.mutable_actor() = TestRecord("x").actor();
  EXPECT_THAT(client_->RotateKey(rk),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(std::filesystem::exists(KeyFilePath(KeyDir(data_), "too-long")));

  fault->Arm(/*apply_batch=*/false,
             absl::UnavailableError("injected: fsync failed"));
  rk.set_new_key_name("test.example-key-2");
  rk.set_reason("scheduled");
  EXPECT_THAT(client_->RotateKey(rk),
              StatusIs(absl::StatusCode::kUnavailable, "fsync failed"));
  EXPECT_TRUE(std::filesystem::exists(
      KeyFilePath(KeyDir(data_), "test.example-key-2")));
  client_.reset();
  node_->Shutdown().IgnoreError();
  node_.reset();

  ASSERT_NO_FATAL_FAILURE(StartInsecure());
  SEG_ASSERT_OK_AND_ASSIGN(v1::StatusResponse st, client_->GetStatus());
  EXPECT_EQ(st.current_key_name(), segledger::testing::kTestKeyName);
  EXPECT_EQ(st.size(), 2u);
  EXPECT_EQ(st.verifier_keys_size(), 1);
  ASSERT_EQ(AppendN("b", 1).size(), 1u);
  SEG_ASSERT_OK(client_->CheckpointNow().status());
  EXPECT_EQ(LatestCheckpoint().size, 3u);  // opened with the log's key
  rk.set_new_key_name("test.example-key-3");
  SEG_ASSERT_OK_AND_ASSIGN(v1::RotateKeyResponse rot, client_->RotateKey(rk));
  EXPECT_EQ(rot.index(), 3u);
}

}  // namespace
}  // namespace segledger::node
