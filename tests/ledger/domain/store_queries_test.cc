// The DomainHook inside a real RocksDB LogStore: rules refuse without
// writing, state lives in the index family across a restart (no replay),
// a rebuild from the stored entries equals it, and lot queries load only
// indexed entries.
#include "ledger/domain/store_queries.h"

#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "ledger/note.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/support/test_util.h"

namespace segledger::domain {
namespace {

using ::segledger::testing::StatusIs;
using ::segledger::testing::TempDir;
using testing::AdcChain;
using testing::Lot;

std::map<std::string, std::string> DomainRows(store::KvStore& kv) {
  std::map<std::string, std::string> rows;
  auto st = kv.Scan(store::Family::kIndex, "d/", "",
                    [&](absl::string_view k, absl::string_view v) {
                      if (!absl::StartsWith(k, "d/")) return false;
                      rows.emplace(std::string(k), std::string(v));
                      return true;
                    });
  EXPECT_TRUE(st.ok()) << st;
  return rows;
}

class StoreQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(chain_.Build().ok());
    signer_ = std::make_shared<NoteSigner>(
        chain_.up().party().origin,
        std::shared_ptr<const Ed25519Signer>(*Ed25519Signer::Generate()));
    hook_ = std::make_unique<DomainHook>(
        chain_.up().WithSite(DomainConfig(), &chain_.evidence()));
  }

  absl::StatusOr<std::unique_ptr<store::LogStore>> Open() {
    SEG_ASSIGN_OR_RETURN(auto kv, store::RocksDbKv::Open(dir_.Sub("db")));
    store::LogStoreOptions o;
    o.origin = chain_.up().party().origin;
    o.hook = hook_.get();
    o.checkpoint_interval = absl::ZeroDuration();
    return store::LogStore::Open(std::move(kv), {signer_}, o);
  }

  absl::StatusOr<store::AppendResult> Append(store::LogStore& s,
                                             const v1::Record& r) {
    store::AppendRecord a;
    a.actor =
        testing::Sig("Operator", v1::SIGNATURE_MEANING_AUTHORED, testing::T(0));
    a.record = r;
    SEG_ASSIGN_OR_RETURN(auto res, s.Append({a}));
    return res[0];
  }

  AdcChain chain_;
  TempDir dir_;
  std::shared_ptr<NoteSigner> signer_;
  std::unique_ptr<DomainHook> hook_;
};

// R-CORRECTION-REF in the store: the corrected entry's leaf hash comes from
// the store's tree (IndexTxn::LeafHash), not from an index row.
TEST_F(StoreQueriesTest, CorrectionsNameEntriesByTheirStoredLeafHash) {
  SEG_ASSERT_OK_AND_ASSIGN(auto s, Open());
  std::vector<store::AppendResult> appended;
  for (const auto& e : chain_.up().entries()) {
    SEG_ASSERT_OK_AND_ASSIGN(auto r, Append(*s, e.parsed.record()));
    appended.push_back(r);
  }
  auto correction = [&](uint64_t index, const Hash& leaf) {
    v1::Record r;
    auto* x = r.mutable_correction();
    *x->mutable_header() =
        testing::Header(chain_.up().party(), testing::T(150));
    x->mutable_corrects()->set_origin(chain_.up().party().origin);
    x->mutable_corrects()->set_index(index);
    x->mutable_corrects()->set_leaf_hash(std::string(HashBytes(leaf)));
    x->set_reason(v1::CORRECTION_REASON_DID_NOT_OCCUR);
    x->set_explanation("entered twice");
    return r;
  };
  ASSERT_GE(appended.size(), 3u);
  SEG_EXPECT_OK(Append(*s, correction(1, appended[1].leaf_hash)).status());
  EXPECT_THAT(
      Append(*s, correction(2, appended[1].leaf_hash)),
      StatusIs(absl::StatusCode::kFailedPrecondition, "rule R-CORRECTION-REF"));
  // The entry just before: its leaf is the body's prev_hash. (Data of a
  // correction corrected: saying it did not occur is R-CORRECTION-UNDO.)
  SEG_ASSERT_OK_AND_ASSIGN(auto r,
                           Append(*s, correction(0, appended[0].leaf_hash)));
  v1::Record data = correction(r.index, r.leaf_hash);
  data.mutable_correction()->set_reason(v1::CORRECTION_REASON_INCORRECT_DATA);
  SEG_EXPECT_OK(Append(*s, data).status());
  EXPECT_THAT(Append(*s, correction(r.index, r.leaf_hash)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "rule R-CORRECTION-UNDO"));
}

TEST_F(StoreQueriesTest, RulesStateRestartRebuildAndQueries) {
  SEG_ASSERT_OK_AND_ASSIGN(auto s, Open());
  for (const auto& e : chain_.up().entries()) {
    SEG_ASSERT_OK(Append(*s, e.parsed.record()).status());
  }
  const uint64_t size = s->Size();
  EXPECT_EQ(size, chain_.up().entries().size());
  auto rows = DomainRows(s->kv());
  // Refused: HV001 was all dispatched. Nothing is written.
  v1::Record bad =
      chain_.Ship(chain_.up().party(), chain_.down().party(), "T9", "C9",
                  Lot("HV001"), testing::Q("1", "LTR"),
                  testing::Range(200, 800), testing::T(40), testing::T(50));
  EXPECT_THAT(Append(*s, bad), StatusIs(absl::StatusCode::kFailedPrecondition,
                                        "rule R-LOT-HELD"));
  EXPECT_EQ(s->Size(), size);
  EXPECT_EQ(DomainRows(s->kv()), rows);
  SEG_ASSERT_OK(s->Close());
  s.reset();

  // Restart: the state is read back, not replayed.
  SEG_ASSERT_OK_AND_ASSIGN(s, Open());
  EXPECT_EQ(DomainRows(s->kv()), rows);
  EXPECT_THAT(Append(*s, bad), StatusIs(absl::StatusCode::kFailedPrecondition,
                                        "rule R-LOT-HELD"));

  // Rebuild from the stored entries equals the incremental state.
  MemoryIndex rebuilt;
  MemoryIndex::Txn txn(&rebuilt);
  SEG_ASSERT_OK(RebuildState(
      [&](const BodyVisitor& visit) -> absl::Status {
        absl::Status inner;
        SEG_RETURN_IF_ERROR(s->ScanEntries(
            0, s->Size(), [&](uint64_t, const v1::SignedEntry& se) {
              v1::EntryBody b;
              if (!b.ParseFromString(se.body())) {
                inner = absl::DataLossError("body");
                return false;
              }
              inner = visit(b);
              return inner.ok();
            }));
        return inner;
      },
      *hook_, txn));
  txn.Commit();
  EXPECT_EQ(rebuilt.rows(), rows);

  // Indexed lot queries load only what they need.
  DomainGraph g;
  SEG_ASSERT_OK(LoadLotEntries(s->kv(), s->origin(), Lot("HV001"),
                               LoadScope::kBackward, &g));
  TraceResult t = g.Backward(Lot("HV001"));
  EXPECT_EQ(t.lots.size(), 2u);  // HV001 and MCB001
  EXPECT_TRUE(t.lots.count(Lot("MCB001")));
  EXPECT_EQ(t.transfers, std::set<std::string>{"T1"});
  EXPECT_LT(g.size(), s->Size());
  auto timeline = g.Timeline(Lot("HV001"));
  EXPECT_EQ(timeline.size(), 4u);  // made, sampled, released, dispatched
  // The timeline's own scope also loads the records of the lot's transfer
  // T1 that do not name it: the transport condition report.
  DomainGraph lot_graph;
  SEG_ASSERT_OK(LoadLotEntries(s->kv(), s->origin(), Lot("HV001"),
                               LoadScope::kLot, &lot_graph));
  std::vector<std::string> kinds, vias;
  for (const TimelineItem& item : lot_graph.Timeline(Lot("HV001"))) {
    kinds.push_back(item.kind);
    vias.push_back(item.via_transfer);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"transformation", "qc_result",
                                             "qa_release", "dispatch",
                                             "transport_condition_report"}));
  EXPECT_EQ(vias, (std::vector<std::string>{"", "", "", "", "T1"}));
  DomainGraph fwd;
  SEG_ASSERT_OK(LoadLotEntries(s->kv(), s->origin(), Lot("MCB001"),
                               LoadScope::kForward, &fwd));
  EXPECT_TRUE(fwd.Forward(Lot("MCB001")).lots.count(Lot("HV001")));
  SEG_ASSERT_OK(s->Close());
}

}  // namespace
}  // namespace segledger::domain
