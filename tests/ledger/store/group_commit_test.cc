// The pipelined group commit (group_commit.cc): a group is built while the
// previous one waits for its synced write, writes happen in group order,
// nothing is acknowledged before its own write, a refusal in the middle of
// a group built on an in-flight group renumbers the later requests, and a
// failed write fails every later group. The kv holds each write until the
// test allows it, so every interleaving here is forced, not timed.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/entry_codec.h"
#include "ledger/store/index_txn.h"
#include "ledger/store/log_store.h"
#include "ledger/store/memory_kv.h"
#include "tests/support/forwarding_kv.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::StatusIs;

constexpr char kOrigin[] = "cmo-up.example/segledger";

// A MemoryKv whose Writes wait until the test allows them, one by one.
class HeldKv final : public ::segledger::testing::ForwardingKv {
 public:
  HeldKv() : ForwardingKv(std::make_unique<MemoryKv>()) {}
  absl::Status Write(const KvBatch& batch, bool sync) override {
    {
      absl::MutexLock lock(&mu_);
      ++entered_;
      auto allowed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return allowed_ > 0;
      };
      mu_.Await(absl::Condition(&allowed));
      --allowed_;
    }
    return base().Write(batch, sync);
  }

  // From now on each Write waits for Allow; AwaitEntered counts from here.
  void Hold() {
    absl::MutexLock lock(&mu_);
    allowed_ = 0;
    entered_ = 0;
  }
  void Allow(int n) {
    absl::MutexLock lock(&mu_);
    allowed_ += n;
  }
  // Returns once `n` Writes have started (held or not).
  void AwaitEntered(int n) {
    absl::MutexLock lock(&mu_);
    auto entered = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return entered_ >= n;
    };
    mu_.Await(absl::Condition(&entered));
  }
  MemoryKv& inner() { return static_cast<MemoryKv&>(base()); }
  int entered() {
    absl::MutexLock lock(&mu_);
    return entered_;
  }

 private:
  absl::Mutex mu_;
  int allowed_ ABSL_GUARDED_BY(mu_) = 1 << 30;  // until Hold()
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
};

// Refuses actor "mallory", and actor "once" when a record of "once" is
// already counted; counts each person's records in the index family
// (reading the rows of earlier, possibly in-flight, groups); remembers the
// request ids it saw and the leaf hash the txn gives for each earlier entry.
// A request id passed to Block waits in the hook until Unblock.
class CountingHook : public AppendHook {
 public:
  absl::Status OnAppend(const v1::EntryBody& body, IndexTxn& txn) override {
    {
      absl::MutexLock lock(&mu_);
      seen_.insert(body.request_id());
      const std::string& id = body.request_id();
      auto open = [this, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return blocked_.count(id) == 0;
      };
      mu_.Await(absl::Condition(&open));
      for (uint64_t i = 0; i <= body.index(); ++i) {
        absl::StatusOr<Hash> h = txn.LeafHash(i);
        leaves_[i].push_back(h.ok() ? std::string(HashBytes(*h))
                                    : std::string(h.status().ToString()));
      }
    }
    if (body.actor().person_id() == "flood") {
      // More distinct rows than the build leader's row cache keeps: it is
      // emptied while earlier groups are still in flight.
      for (size_t i = 0; i <= IndexRowCache::kMaxRows; ++i) {
        if (txn.Get(absl::StrCat("flood/", i)).ok()) {
          return absl::InternalError("flood rows are never written");
        }
      }
    }
    const std::string key = "count/" + body.actor().person_id();
    absl::StatusOr<std::string> c = txn.Get(key);
    if (body.actor().person_id() == "once" && c.ok()) {
      return absl::FailedPreconditionError("once appends only once");
    }
    txn.Put(key, std::to_string(c.ok() ? std::stoi(*c) + 1 : 1));
    if (body.actor().person_id() == "mallory") {
      return absl::PermissionDeniedError("mallory may not append");
    }
    return absl::OkStatus();
  }
  void Block(const std::string& request_id) {
    absl::MutexLock lock(&mu_);
    blocked_.insert(request_id);
  }
  void Unblock(const std::string& request_id) {
    absl::MutexLock lock(&mu_);
    blocked_.erase(request_id);
  }
  void AwaitSeen(const std::string& request_id) {
    absl::MutexLock lock(&mu_);
    auto seen = [this, &request_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return seen_.count(request_id) > 0;
    };
    mu_.Await(absl::Condition(&seen));
  }
  // What LeafHash(i) answered, each time it was asked.
  std::map<uint64_t, std::vector<std::string>> Leaves() {
    absl::MutexLock lock(&mu_);
    return leaves_;
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> blocked_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::vector<std::string>> leaves_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<const NoteSigner> Signer() {
  auto key = Ed25519Signer::New(std::string(32, 1));
  EXPECT_TRUE(key.ok());
  return std::make_shared<const NoteSigner>(
      "k1", std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

// A log over a HeldKv (set in *kv) with `hook` and no timed checkpoints.
absl::StatusOr<std::unique_ptr<LogStore>> OpenHeldLog(AppendHook* hook,
                                                      HeldKv** kv) {
  auto held = std::make_unique<HeldKv>();
  *kv = held.get();
  LogStoreOptions o;
  o.origin = kOrigin;
  o.checkpoint_interval = absl::ZeroDuration();
  o.hook = hook;
  return LogStore::Open(std::move(held), {Signer()}, o);
}

std::vector<AppendRecord> One(const std::string& request_id,
                              const std::string& person = "op-1") {
  AppendRecord r;
  r.actor.set_person_id(person);
  r.request_id = request_id;
  r.record.mutable_key_revocation()->set_reason(request_id);
  std::vector<AppendRecord> v;
  v.push_back(std::move(r));
  return v;
}

using Result = absl::StatusOr<std::vector<AppendResult>>;

// Callback results by request name, and whether each has run.
class Results {
 public:
  LogStore::AppendCallback For(const std::string& name) {
    return [this, name](Result r) {
      absl::MutexLock lock(&mu_);
      results_.emplace(name, std::move(r));
    };
  }
  bool Has(const std::string& name) {
    absl::MutexLock lock(&mu_);
    return results_.count(name) > 0;
  }
  Result Await(const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto has = [this, &name]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return results_.count(name) > 0;
    };
    mu_.Await(absl::Condition(&has));
    return results_.at(name);
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, Result> results_ ABSL_GUARDED_BY(mu_);
};

// A log over a HeldKv with the CountingHook, left with group 1 {a} held in
// its synced write.
class FirstWriteHeldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SEG_ASSERT_OK_AND_ASSIGN(log_, OpenHeldLog(&hook_, &kv_));
    kv_->Hold();
    log_->AppendAsync(One("a"), results_.For("a"));  // count/op-1 = 1
    kv_->AwaitEntered(1);                            // group 1 is in its write
  }
  void TearDown() override {
    hook_.Unblock("z");
    hook_.Unblock("A");
    if (kv_ != nullptr) kv_->Allow(1000);  // every write through first
    if (log_ != nullptr) log_->Close().IgnoreError();
  }

  std::string IndexRow(const std::string& key) {
    auto v = kv_->inner().Get(Family::kIndex, key);
    return v.ok() ? *v : "<absent>";
  }

  CountingHook hook_;
  HeldKv* kv_ = nullptr;
  std::unique_ptr<LogStore> log_;
  Results results_;
};

class GroupCommitTest : public FirstWriteHeldTest {
 protected:
  // Leaves group 1 {a} held in its write, group 2 {z} built and in flight
  // behind it, and {b, mallory, c, a again} queued: once write 1 is allowed
  // they form group 3, built while group 2 is still in flight.
  void SetUp() override {
    FirstWriteHeldTest::SetUp();
    if (HasFatalFailure()) return;
    log_->AppendAsync(One("z"), results_.For("z"));
    hook_.AwaitSeen("z");  // group 2 is being built: a third may not start
    log_->AppendAsync(One("b"), results_.For("b"));
    log_->AppendAsync(One("m", "mallory"), results_.For("m"));
    log_->AppendAsync(One("c"), results_.For("c"));
    log_->AppendAsync(One("a"), results_.For("a-again"));
  }
};

TEST_F(GroupCommitTest, GroupsCommitInOrderAndAckOnlyAfterTheirWrite) {
  EXPECT_FALSE(results_.Has("a"));  // its write is held
  EXPECT_EQ(log_->Size(), 0u);
  kv_->Allow(1);  // write 1: group 1
  ASSERT_THAT(results_.Await("a"), IsOk());
  EXPECT_EQ(log_->Size(), 1u);
  hook_.AwaitSeen("c");  // group 3 is built on in-flight group 2
  kv_->AwaitEntered(2);  // write 2 (group 2) is held
  EXPECT_FALSE(results_.Has("z"));
  EXPECT_FALSE(results_.Has("b"));
  EXPECT_FALSE(results_.Has("m"));  // refusals wait for earlier writes too
  EXPECT_FALSE(results_.Has("a-again"));
  // Every later write: on a loaded machine the leader may take b before m,
  // c and "a again" are queued, so they need more than writes 2 and 3.
  kv_->Allow(1000);
  Result a = results_.Await("a");
  Result z = results_.Await("z");
  Result b = results_.Await("b");
  Result m = results_.Await("m");
  Result c = results_.Await("c");
  Result again = results_.Await("a-again");
  ASSERT_THAT(z, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ((*a)[0].index, 0u);
  EXPECT_EQ((*z)[0].index, 1u);
  EXPECT_EQ((*b)[0].index, 2u);
  EXPECT_THAT(m, StatusIs(absl::StatusCode::kPermissionDenied, "mallory"));
  EXPECT_EQ((*c)[0].index, 3u);  // renumbered past the refusal
  EXPECT_TRUE((*again)[0].replayed);
  EXPECT_EQ((*again)[0].index, 0u);
  EXPECT_EQ((*again)[0].leaf_hash, (*a)[0].leaf_hash);
  EXPECT_EQ(log_->Size(), 4u);
  // b and c read z's row while group 2 was in flight.
  EXPECT_EQ(IndexRow("count/op-1"), "4");
  EXPECT_EQ(IndexRow("count/mallory"), "<absent>");
  Hash prev = kZeroHash;
  for (uint64_t i = 0; i < 4; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry e, log_->GetEntry(i));
    SEG_ASSERT_OK_AND_ASSIGN(v1::EntryBody body, ParseEntryBody(e.body()));
    EXPECT_EQ(body.index(), i);
    EXPECT_EQ(body.prev_hash(), HashBytes(prev)) << "chain broken at " << i;
    EXPECT_THAT(Signer()->Verifier().Verify(EntrySigningMessage(e.body()),
                                            e.signature()),
                IsOk());
    prev = LeafHash(e.body());
  }
}

// IndexTxn::LeafHash knows every entry before the record: committed (a),
// in the in-flight group (z), earlier in the group (b for m and c), earlier
// in the request (d1, d2 for d3); the record's own index is out of range.
TEST_F(GroupCommitTest, HooksGetTheLeafHashOfEveryEarlierEntry) {
  kv_->Allow(1000);
  std::vector<std::string> leaf(4);
  for (const char* name : {"a", "z", "b", "c"}) {
    Result r = results_.Await(name);
    ASSERT_THAT(r, IsOk());
    leaf[(*r)[0].index] = std::string(HashBytes((*r)[0].leaf_hash));
  }
  std::vector<AppendRecord> request;
  for (const char* id : {"d1", "d2", "d3"}) request.push_back(One(id)[0]);
  SEG_ASSERT_OK_AND_ASSIGN(std::vector<AppendResult> d,
                           log_->Append(std::move(request)));
  for (const AppendResult& r : d) {
    leaf.push_back(std::string(HashBytes(r.leaf_hash)));
  }
  const auto leaves = hook_.Leaves();
  ASSERT_EQ(leaves.size(), leaf.size());
  for (const auto& [index, answers] : leaves) {
    // Asked by the record at `index` itself, and by each later one.
    for (const std::string& answer : answers) {
      if (absl::StartsWith(answer, "OUT_OF_RANGE")) continue;
      EXPECT_EQ(answer, leaf[index]) << "entry " << index;
    }
    EXPECT_THAT(answers,
                ::testing::Contains(::testing::StartsWith("OUT_OF_RANGE")))
        << index;
  }
  EXPECT_THAT(leaves.at(1), ::testing::Contains(leaf[1]));  // z, for b
  EXPECT_THAT(leaves.at(2), ::testing::Contains(leaf[2]));  // b, for c
  EXPECT_THAT(leaves.at(5), ::testing::Contains(leaf[5]));  // d2, for d3
}

TEST_F(GroupCommitTest, AFailedWriteFailsEveryLaterGroup) {
  kv_->Allow(1);
  ASSERT_THAT(results_.Await("a"), IsOk());
  hook_.AwaitSeen("c");  // group 3 is built on group 2
  kv_->AwaitEntered(2);
  kv_->inner().FailNextWrite(absl::UnavailableError("fsync failed"));
  kv_->Allow(1);  // write 2 fails
  EXPECT_THAT(results_.Await("z"),
              StatusIs(absl::StatusCode::kUnavailable, "fsync failed"));
  // Group 3 was built on group 2: all of it fails with the write's status,
  // its refusal and its replay too.
  for (const char* name : {"b", "m", "c", "a-again"}) {
    EXPECT_THAT(results_.Await(name),
                StatusIs(absl::StatusCode::kUnavailable, "fsync failed"))
        << name;
  }
  EXPECT_THAT(log_->Append(One("d")), ::testing::Not(IsOk()));
  EXPECT_EQ(log_->Size(), 1u);
  EXPECT_THAT(log_->LookupRequest("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(IndexRow("count/op-1"), "1");
}

// A refusal can rest on an earlier request of its own group: B is refused
// because A, accepted just before it in the same group, counted "once".
// When that group's write fails, A is never written, so B's refusal was
// judged on a state that never existed: B must get the write's failure
// (retryable), not a final FAILED_PRECONDITION; m, refused before A, keeps
// its refusal. The group {m, A, B} is the first of its write (the case
// where refusals used to be kept): z's build is held so they queue into
// one group, and A's build is held until write 2 (z alone) has started.
TEST_F(FirstWriteHeldTest, AFailedWriteFailsRefusalsBuiltOnItsOwnGroup) {
  hook_.Block("z");
  hook_.Block("A");
  log_->AppendAsync(One("z"), results_.For("z"));
  hook_.AwaitSeen("z");  // group 2 {z} is being built
  log_->AppendAsync(One("m", "mallory"), results_.For("m"));
  log_->AppendAsync(One("A", "once"), results_.For("A"));
  log_->AppendAsync(One("B", "once"), results_.For("B"));
  kv_->Allow(1);  // write 1: group 1 {a}
  ASSERT_THAT(results_.Await("a"), IsOk());
  hook_.Unblock("z");
  hook_.AwaitSeen("A");  // group 3 {m, A, B} is being built
  kv_->AwaitEntered(2);  // write 2 holds group 2 {z} alone
  kv_->Allow(1);
  ASSERT_THAT(results_.Await("z"), IsOk());
  kv_->inner().FailNextWrite(absl::UnavailableError("fsync failed"));
  kv_->Allow(1);
  hook_.Unblock("A");  // A accepted, B refused on A's row; write 3 fails
  // m was refused before anything of its group: judged on durable state.
  EXPECT_THAT(results_.Await("m"),
              StatusIs(absl::StatusCode::kPermissionDenied, "mallory"));
  EXPECT_THAT(results_.Await("A"),
              StatusIs(absl::StatusCode::kUnavailable, "fsync failed"));
  EXPECT_THAT(results_.Await("B"),
              StatusIs(absl::StatusCode::kUnavailable, "fsync failed"));
  EXPECT_EQ(kv_->entered(), 3);  // group 3 had a write of its own
  EXPECT_EQ(log_->Size(), 2u);
  EXPECT_EQ(IndexRow("count/once"), "<absent>");
}

// A group built on in-flight groups reads their index rows even when the
// build leader's row cache (index_txn.h) is emptied during its build, here
// by a record reading more rows than the cache keeps: b must count on z's
// in-flight row, as nothing is durable yet. A read that trusted the emptied
// cache and went to the kv would count from zero.
TEST_F(FirstWriteHeldTest, InFlightRowsSurviveTheRowCacheEmptying) {
  log_->AppendAsync(One("z"), results_.For("z"));  // count/op-1 = 2
  hook_.AwaitSeen("z");
  log_->AppendAsync(One("f", "flood"), results_.For("f"));
  log_->AppendAsync(One("b"), results_.For("b"));  // count/op-1 = 3
  hook_.AwaitSeen("b");
  EXPECT_FALSE(results_.Has("a"));  // nothing was durable when b was built
  kv_->Allow(1000);
  for (const char* name : {"a", "z", "f", "b"}) {
    EXPECT_THAT(results_.Await(name), IsOk()) << name;
  }
  SEG_ASSERT_OK(log_->Close());
  EXPECT_EQ(IndexRow("count/op-1"), "3");
  EXPECT_EQ(IndexRow("count/flood"), "1");
}

// Groups built while a write waits for its fsync are signed meanwhile and
// share the next synced write: four groups here need at most three writes.
// b and c are built (the hook saw them) while write 1 is held, so they are
// in flight when it returns; only d's group may still be on its way.
TEST_F(FirstWriteHeldTest, GroupsBuiltDuringAWriteShareTheNextOne) {
  for (const char* name : {"b", "c", "d"}) {
    log_->AppendAsync(One(name), results_.For(name));
    hook_.AwaitSeen(name);  // a group of its own, built during write 1
  }
  EXPECT_EQ(kv_->entered(), 1);
  kv_->Allow(1000);
  uint64_t expected = 0;
  for (const char* name : {"a", "b", "c", "d"}) {
    Result r = results_.Await(name);
    ASSERT_THAT(r, IsOk()) << name;
    EXPECT_EQ((*r)[0].index, expected++) << name;
  }
  EXPECT_LE(kv_->entered(), 3);
  ASSERT_THAT(log_->Close(), IsOk());
  Hash prev = kZeroHash;
  for (uint64_t i = 0; i < 4; ++i) {
    SEG_ASSERT_OK_AND_ASSIGN(v1::SignedEntry e, log_->GetEntry(i));
    EXPECT_EQ(ParseEntryBody(e.body())->prev_hash(), HashBytes(prev));
    EXPECT_THAT(Signer()->Verifier().Verify(EntrySigningMessage(e.body()),
                                            e.signature()),
                IsOk());
    prev = LeafHash(e.body());
  }
}

}  // namespace
}  // namespace segledger::store
