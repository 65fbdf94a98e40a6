// Proto rows of the `peers` family (peer_rows.h): absent rows, rows in key
// order, and a corrupt row reported as DATA_LOSS naming what was read, the
// row's key and the type expected, by the helpers and by every PeerStore
// and Outbox reader built on them.
#include "ledger/peers/peer_rows.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/peers/outbox.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_store.h"
#include "ledger/store/memory_kv.h"
#include "tests/ledger/peers/peer_fixture.h"
#include "tests/support/test_util.h"

namespace segledger::peers {
namespace {

using ::segledger::testing::StatusIs;
using store::Family;

constexpr char kUp[] = "cmo-up.example/segledger";
constexpr char kCorrupt[] = "\xff";  // a truncated varint tag

void PutRow(store::KvStore& kv, absl::string_view key,
            absl::string_view value) {
  store::KvBatch b;
  b.Put(Family::kPeers, key, value);
  SEG_ASSERT_OK(kv.Write(b, /*sync=*/true));
}

// DATA_LOSS whose message holds every one of `parts`.
template <typename T>
void ExpectDataLoss(const absl::StatusOr<T>& got,
                    std::vector<std::string> parts) {
  ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  for (const std::string& part : parts) {
    EXPECT_THAT(got.status(), StatusIs(absl::StatusCode::kDataLoss, part));
  }
}

v1::FollowState FollowStateOfSize(uint64_t size) {
  v1::FollowState s;
  s.set_size(size);
  return s;
}

TEST(PeerRowsTest, AbsentRowIsNulloptAndPresentRowParses) {
  store::MemoryKv kv;
  SEG_ASSERT_OK_AND_ASSIGN(
      auto none, ReadPeerRow<v1::FollowState>(kv, OriginKey('f', kUp), "f"));
  EXPECT_FALSE(none.has_value());
  PutRow(kv, OriginKey('f', kUp), FollowStateOfSize(7).SerializeAsString());
  SEG_ASSERT_OK_AND_ASSIGN(
      auto row, ReadPeerRow<v1::FollowState>(kv, OriginKey('f', kUp), "f"));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->size(), 7u);
}

TEST(PeerRowsTest, CorruptRowIsDataLossNamingWhatKeyAndType) {
  store::MemoryKv kv;
  const std::string key = PositionKey('v', kUp, 3);
  PutRow(kv, key, kCorrupt);
  ExpectDataLoss(ReadPeerRow<v1::SignedEntry>(kv, key, "followed entry 3"),
                 {"followed entry 3: peers row \"", absl::CHexEscape(key),
                  "\" does not parse as SignedEntry"});
}

TEST(PeerRowsTest, ScanReturnsThePrefixInKeyOrderOnly) {
  store::MemoryKv kv;
  for (uint64_t i : {2, 0, 1}) {
    PutRow(kv, PositionKey('o', kUp, i),
           FollowStateOfSize(10 + i).SerializeAsString());
  }
  PutRow(kv, PositionKey('o', "other", 0), kCorrupt);  // outside the prefix
  SEG_ASSERT_OK_AND_ASSIGN(
      std::vector<v1::FollowState> rows,
      ScanPeerRows<v1::FollowState>(kv, OriginPrefix('o', kUp), "rows"));
  ASSERT_EQ(rows.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) EXPECT_EQ(rows[i].size(), 10 + i);
}

TEST(PeerRowsTest, ScanStopsAtACorruptRowWithItsKey) {
  store::MemoryKv kv;
  PutRow(kv, PositionKey('e', kUp, 0),
         v1::StoredEvidence().SerializeAsString());
  PutRow(kv, PositionKey('e', kUp, 1), kCorrupt);
  ExpectDataLoss(
      ScanPeerRows<v1::StoredEvidence>(kv, OriginPrefix('e', kUp), "evidence"),
      {"evidence: ", absl::CHexEscape(PositionKey('e', kUp, 1)),
       "StoredEvidence"});
}

// Every reader of the peer store on a corrupt row of its kind.
TEST(PeerRowsTest, PeerStoreReadersReportCorruptRows) {
  store::MemoryKv kv;
  PeerStore peers(kv);
  PutRow(kv, OriginKey('f', kUp), kCorrupt);
  PutRow(kv, OriginKey('c', kUp), kCorrupt);
  PutRow(kv, OriginKey('t', kUp), kCorrupt);
  PutRow(kv, PositionKey('e', kUp, 4), kCorrupt);
  PutRow(kv, PositionKey('v', kUp, 5), kCorrupt);
  PutRow(kv, absl::StrCat(OriginPrefix('q', kUp), "x"), kCorrupt);
  ExpectDataLoss(peers.FollowStateOf(kUp),
                 {"follow state of cmo-up", "FollowState"});
  ExpectDataLoss(peers.Latest(kUp),
                 {"latest checkpoint of cmo-up", "PeerCheckpoint"});
  ExpectDataLoss(peers.LastCosigned(kUp),
                 {"last cosigned checkpoint of cmo-up", "PeerCheckpoint"});
  ExpectDataLoss(peers.ListEvidence(kUp),
                 {"evidence of cmo-up", "StoredEvidence"});
  ExpectDataLoss(peers.GetEvidence(kUp, 4),
                 {"evidence of cmo-up", "StoredEvidence"});
  ExpectDataLoss(peers.EvidenceOfTransfer("T1"),
                 {"evidence index", "StoredEvidence"});
  ExpectDataLoss(
      peers.FollowedEntry(kUp, 5),
      {"followed entry cmo-up.example/segledger index 5", "SignedEntry"});
  ExpectDataLoss(peers.Equivocations(kUp),
                 {"equivocation records", "EquivocationRecord"});
  ExpectDataLoss(peers.Equivocations(""),
                 {"equivocation records", "EquivocationRecord"});
}

TEST(PeerRowsTest, AbsentRowsReadAsEmptyOrNotFound) {
  store::MemoryKv kv;
  PeerStore peers(kv);
  SEG_ASSERT_OK_AND_ASSIGN(v1::FollowState state, peers.FollowStateOf(kUp));
  EXPECT_EQ(state.size(), 0u);
  SEG_ASSERT_OK_AND_ASSIGN(auto latest, peers.Latest(kUp));
  EXPECT_FALSE(latest.has_value());
  SEG_ASSERT_OK_AND_ASSIGN(auto evidence, peers.ListEvidence(kUp));
  EXPECT_TRUE(evidence.empty());
  EXPECT_THAT(peers.FollowedEntry(kUp, 0),
              StatusIs(absl::StatusCode::kNotFound,
                       "no followed entry of cmo-up.example/segledger at "
                       "index 0"));
}

TEST(PeerRowsTest, OutboxStateReportsACorruptRow) {
  SEG_ASSERT_OK_AND_ASSIGN(testing::Site up,
                           testing::OpenSite(kUp, testing::NewKey("up-k1")));
  Outbox outbox(*up.log);
  SEG_ASSERT_OK_AND_ASSIGN(v1::OutboxState none,
                           outbox.State("fill.example/segledger", 2));
  EXPECT_EQ(none.attempts(), 0u);
  PutRow(*up.kv, PositionKey('o', "fill.example/segledger", 2), kCorrupt);
  ExpectDataLoss(
      outbox.State("fill.example/segledger", 2),
      {"outbox state of fill.example/segledger index 2", "OutboxState"});
}

}  // namespace
}  // namespace segledger::peers
