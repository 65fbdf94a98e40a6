// Random tampering (issue 10 item 2): single-byte edits, deletions and
// reorders (two keys' values swapped) of stored entries, tree nodes,
// checkpoints (edits and swaps: see the known gap below) and request-id
// index rows, made directly in RocksDB. Each
// must be detected - LogStore::Open(kFull) fails with DATA_LOSS naming the
// damaged index, or VerifyLogStore reports a finding at that index - and
// both detectors are counted.
//
// SEGLEDGER_TAMPER_MUTATIONS sets the number of mutations per family
// (default 25, so 100 in all); SEGLEDGER_TAMPER_SEED the random seed.
#include <cstdlib>
#include <random>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "ledger/store/store_verify.h"
#include "tests/support/forwarding_kv.h"
#include "tests/support/test_util.h"

namespace segledger::store {
namespace {

using ::segledger::testing::IsOk;
using ::segledger::testing::TempDir;

constexpr char kOrigin[] = "tamper-random.example/segledger";
constexpr uint64_t kEntries = 40;  // checkpoints every 8 and at 40

uint64_t EnvCount(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v == nullptr ? dflt : std::strtoull(v, nullptr, 10);
}

std::shared_ptr<const NoteSigner> Key() {
  auto key = Ed25519Signer::New(std::string(32, 9));
  return std::make_shared<const NoteSigner>(
      "tamper-random-key",
      std::shared_ptr<const Ed25519Signer>(std::move(*key)));
}

// Forwards to a RocksDbKv the test keeps open across mutations, so one
// RocksDB instance serves every mutation (it is reverted after each).
using BorrowedKv = ::segledger::testing::ForwardingKv;

absl::StatusOr<std::unique_ptr<LogStore>> OpenLog(
    std::unique_ptr<KvStore> kv, LogStoreOptions::OpenCheck check) {
  LogStoreOptions o;
  o.origin = kOrigin;
  o.checkpoint_every = 8;
  o.checkpoint_interval = absl::ZeroDuration();
  o.open_check = check;
  o.tail_entries = 4;
  return LogStore::Open(std::move(kv), {Key()}, o);
}

// One stored row of a tampered family.
struct Row {
  std::string key, value;
};

// The entry indexes a damaged row belongs to, as DATA_LOSS messages and
// findings name them.
std::vector<uint64_t> IndexesOf(Family f, const Row& row) {
  switch (f) {
    case Family::kEntries:
    case Family::kCheckpoints:
      return {*ParseBe64(row.key, "key")};
    case Family::kTree: {
      const NodeId id = *ParseTreeKey(row.key);
      return {id.index << id.level};
    }
    default:  // "r/req-<i>" -> be64(i)
      return {*ParseBe64(row.value, "row")};
  }
}

// A message names index `i` of family `f`.
bool Names(Family f, absl::string_view msg, const Row& row, uint64_t i) {
  std::string pattern;
  if (f == Family::kCheckpoints) {
    pattern = absl::StrCat("checkpoint at size ", i, "\\b");
  } else if (f == Family::kTree) {
    const NodeId id = *ParseTreeKey(row.key);
    pattern = absl::StrCat("(level ", int{id.level}, " index ", id.index,
                           "\\b|entry ", i, "\\b)");
  } else {
    pattern = absl::StrCat("entry ", i, "\\b");
  }
  return std::regex_search(std::string(msg), std::regex(pattern));
}

struct Mutation {
  enum Kind { kEdit, kDelete, kSwap } kind;
  Family family;
  Row a, b;  // b: the other row of a swap
  size_t offset = 0;
  uint8_t xor_mask = 0;

  std::string Describe() const {
    static constexpr const char* kKinds[] = {"edit", "delete", "swap"};
    std::string s = absl::StrCat(kKinds[kind], " family ", int(family), " key ",
                                 absl::BytesToHexString(a.key));
    if (kind == kEdit) absl::StrAppend(&s, " byte ", offset, " ^ ", xor_mask);
    if (kind == kSwap) {
      absl::StrAppend(&s, " with key ", absl::BytesToHexString(b.key));
    }
    return s;
  }

  std::vector<std::pair<uint64_t, const Row*>> Expected() const {
    std::vector<std::pair<uint64_t, const Row*>> out;
    for (uint64_t i : IndexesOf(family, a)) out.emplace_back(i, &a);
    if (kind == kSwap) {
      for (uint64_t i : IndexesOf(family, b)) out.emplace_back(i, &b);
    }
    return out;
  }

  void Apply(KvStore& kv) const {
    KvBatch batch;
    if (kind == kEdit) {
      std::string v = a.value;
      v[offset] = static_cast<char>(v[offset] ^ xor_mask);
      batch.Put(family, a.key, v);
    } else if (kind == kDelete) {
      batch.Delete(family, a.key);
    } else {
      batch.Put(family, a.key, b.value);
      batch.Put(family, b.key, a.value);
    }
    ASSERT_THAT(kv.Write(batch, true), IsOk());
  }
};

struct Outcome {
  bool by_open = false;    // Open(kFull) DATA_LOSS naming the index
  bool by_verify = false;  // Open(kTail) refused naming it, or a finding
  std::string open_message, verify_summary;
};

// Every row of every family, for checking that a reverted mutation left the
// store exactly as it was.
using Snapshot = std::vector<std::vector<Row>>;

std::vector<Row> ScanRows(KvStore& kv, Family f, absl::string_view begin = "",
                          absl::string_view end = "") {
  std::vector<Row> rows;
  EXPECT_THAT(kv.Scan(f, begin, end,
                      [&rows](absl::string_view k, absl::string_view v) {
                        rows.push_back(Row{std::string(k), std::string(v)});
                        return true;
                      }),
              IsOk());
  return rows;
}

Snapshot Snap(KvStore& kv) {
  Snapshot s;
  for (int f = 0; f < kNumFamilies; ++f) {
    s.push_back(ScanRows(kv, static_cast<Family>(f)));
  }
  return s;
}

bool operator==(const Row& a, const Row& b) {
  return a.key == b.key && a.value == b.value;
}

class TamperRandomTest : public ::testing::TestWithParam<Family> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto kv = RocksDbKv::Open(dir_->Sub("db"));
    ASSERT_TRUE(kv.ok()) << kv.status();
    kv_ = kv->release();
    auto log = OpenLog(std::make_unique<BorrowedKv>(kv_),
                       LogStoreOptions::OpenCheck::kTail);
    ASSERT_TRUE(log.ok()) << log.status();
    for (uint64_t i = 0; i < kEntries; ++i) {
      AppendRecord r;
      if (i % 5 != 3) r.request_id = absl::StrCat("req-", i);
      r.record.mutable_deviation()->set_deviation_id(absl::StrCat("dev-", i));
      std::vector<AppendRecord> one;
      one.push_back(std::move(r));
      ASSERT_THAT((*log)->Append(std::move(one)), IsOk());
    }
    ASSERT_THAT((*log)->Close(), IsOk());
    // The untouched store passes both detectors.
    auto findings = VerifyLogStore(**log, StoreVerifyOptions{});
    ASSERT_TRUE(findings.ok()) << findings.status();
    ASSERT_TRUE(findings->empty()) << findings->front().detail;
    log->reset();
    ASSERT_THAT(OpenLog(std::make_unique<BorrowedKv>(kv_),
                        LogStoreOptions::OpenCheck::kFull),
                IsOk());
  }
  static void TearDownTestSuite() {
    delete kv_;
    kv_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  std::vector<Row> Rows(Family f) {
    if (f != Family::kIndex) return ScanRows(*kv_, f);
    return ScanRows(*kv_, f, kRequestPrefix, PrefixEnd(kRequestPrefix));
  }

  Outcome Check(const Mutation& m) {
    Outcome out;
    const auto expected = m.Expected();
    auto names = [&](absl::string_view msg) {
      for (const auto& [i, row] : expected) {
        if (Names(m.family, msg, *row, i)) return true;
      }
      return false;
    };
    auto full = OpenLog(std::make_unique<BorrowedKv>(kv_),
                        LogStoreOptions::OpenCheck::kFull);
    out.open_message = full.ok() ? "opened" : full.status().ToString();
    out.by_open = !full.ok() &&
                  full.status().code() == absl::StatusCode::kDataLoss &&
                  names(full.status().message());
    full = absl::UnknownError("closed");
    auto tail = OpenLog(std::make_unique<BorrowedKv>(kv_),
                        LogStoreOptions::OpenCheck::kTail);
    if (!tail.ok()) {
      out.verify_summary = tail.status().ToString();
      out.by_verify = names(tail.status().message());
      return out;
    }
    auto findings = VerifyLogStore(**tail, StoreVerifyOptions{});
    if (!findings.ok()) {
      out.verify_summary = findings.status().ToString();
      return out;
    }
    for (const Finding& f : *findings) {
      absl::StrAppend(&out.verify_summary, "[", f.index, " ",
                      FindingKindName(f.kind), ": ", f.detail, "] ");
      for (const auto& [i, row] : expected) {
        out.by_verify |= f.index == static_cast<int64_t>(i);
      }
    }
    return out;
  }

  // Puts the mutated rows back as they were.
  static void Revert(const Mutation& m) {
    KvBatch batch;
    batch.Put(m.family, m.a.key, m.a.value);
    if (m.kind == Mutation::kSwap) batch.Put(m.family, m.b.key, m.b.value);
    ASSERT_THAT(kv_->Write(batch, true), IsOk());
  }

  static TempDir* dir_;
  static KvStore* kv_;
};
TempDir* TamperRandomTest::dir_ = nullptr;
KvStore* TamperRandomTest::kv_ = nullptr;

TEST_P(TamperRandomTest, EveryMutationIsDetectedWithItsIndex) {
  const Family family = GetParam();
  const uint64_t count = EnvCount("SEGLEDGER_TAMPER_MUTATIONS", 25);
  const uint64_t seed = EnvCount("SEGLEDGER_TAMPER_SEED", 1) * 7 + int(family);
  std::mt19937_64 rng(seed);
  const Snapshot before = Snap(*kv_);
  const std::vector<Row> rows = Rows(family);
  ASSERT_GE(rows.size(), 2u);
  int by_open = 0, by_verify = 0, detected = 0;
  for (uint64_t n = 0; n < count; ++n) {
    Mutation m;
    m.kind = static_cast<Mutation::Kind>(rng() % 3);
    m.family = family;
    const size_t ia = rng() % rows.size();
    m.a = rows[ia];
    m.b = rows[(ia + 1 + rng() % (rows.size() - 1)) % rows.size()];
    m.offset = rng() % m.a.value.size();
    m.xor_mask = static_cast<uint8_t>(1 + rng() % 255);
    m.Apply(*kv_);
    const Outcome o = Check(m);
    Revert(m);
    by_open += o.by_open;
    by_verify += o.by_verify;
    detected += o.by_open || o.by_verify;
    EXPECT_TRUE(o.by_open || o.by_verify)
        << "undetected (seed " << seed << ", mutation " << n
        << "): " << m.Describe() << "\n  Open(kFull): " << o.open_message
        << "\n  verify: " << o.verify_summary;
  }
  // Nothing but the mutations changed the store (opening writes nothing).
  ASSERT_TRUE(Snap(*kv_) == before);
  std::printf(
      "family %d: %llu mutations, %d detected (%d by Open(kFull), "
      "%d by Open(kTail)+VerifyLogStore)\n",
      int(family), static_cast<unsigned long long>(count), detected, by_open,
      by_verify);
}

std::string FamilyTestName(const ::testing::TestParamInfo<Family>& info) {
  switch (info.param) {
    case Family::kEntries:
      return "Entries";
    case Family::kTree:
      return "TreeNodes";
    case Family::kCheckpoints:
      return "Checkpoints";
    default:
      return "RequestRows";
  }
}

INSTANTIATE_TEST_SUITE_P(Families, TamperRandomTest,
                         ::testing::Values(Family::kEntries, Family::kTree,
                                           Family::kCheckpoints,
                                           Family::kIndex),
                         FamilyTestName);

}  // namespace
}  // namespace segledger::store
