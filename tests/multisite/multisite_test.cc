// The cross-site hand-off between four real segledgerd processes with
// mutual TLS (DESIGN.md "Cross-site hand-off", docs/protocol.md): the ADC
// chain with every hand-off's evidence verified in both logs and the MAH's
// view of the whole product; delivery across restarts with exactly-once
// effect; a forked log detected as equivocation at the MAH and at the
// cosigning peers; forged evidence refused with nothing stored.
#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "ledger/checkpoint.h"
#include "ledger/entry_codec.h"
#include "ledger/note.h"
#include "node/data_dir.h"
#include "tests/multisite/adc_records.h"

namespace segledger::multisite {
namespace {

using domain::testing::Lot;
using domain::testing::Q;
using domain::testing::Range;
using segledger::testing::StatusIs;

class MultisiteTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(cluster_.Init()); }

  // Registrations and the upstream lot, then T1 up -> down.
  v1::EntryRef ShipT1(const std::string& id = "T1",
                      const std::string& qty = "199.8") {
    auto r = cluster_.Append(
        "up", adc_.Ship(cluster_, "up", "down", id, Lot("HV001"), Q(qty, "LTR"),
                        Range(200, 800), 24));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::EntryRef();
  }

  testing::TempDir tmp_;
  Cluster cluster_{tmp_};
  AdcRecords adc_;
};

TEST_F(MultisiteTest, AdcChainEveryHandoffVerifiedInBothLogs) {
  Cluster& c = cluster_;
  ASSERT_NO_FATAL_FAILURE(adc_.Register(c));
  ASSERT_NO_FATAL_FAILURE(adc_.Upstream(c));

  // A dispatch to a site that is not the product's authorised next stage
  // is refused, and nothing is queued for it.
  auto wrong = c.Append("up", adc_.Ship(c, "up", "fill", "TX", Lot("HV001"),
                                        Q("1", "LTR"), Range(200, 800), 23));
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kFailedPrecondition));

  v1::EntryRef t1 = ShipT1();
  auto r1 =
      adc_.Receive(c, "down", t1, "T1", Lot("HV001"), Q("199.8", "LTR"), 36);
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_NO_FATAL_FAILURE(adc_.Downstream(c));
  auto t3 = c.Append("down", adc_.Ship(c, "down", "fill", "T3", Lot("DS001"),
                                       Q("4", "KGM"), Range(-8000, -6000), 64));
  ASSERT_TRUE(t3.ok()) << t3.status();
  auto r3 = adc_.Receive(c, "fill", *t3, "T3", Lot("DS001"), Q("4", "KGM"), 75);
  ASSERT_TRUE(r3.ok()) << r3.status();
  ASSERT_NO_FATAL_FAILURE(adc_.FillFinish(c));
  ASSERT_NO_FATAL_FAILURE(adc_.MarketRelease(c));

  // Both logs hold each other's signed evidence of every hand-off.
  EXPECT_TRUE(c.HoldsEvidence("down", t1));
  EXPECT_TRUE(WaitFor([&] { return c.HoldsEvidence("up", *r1); }));
  EXPECT_TRUE(c.HoldsEvidence("fill", *t3));
  EXPECT_TRUE(WaitFor([&] { return c.HoldsEvidence("down", *r3); }));

  // The MAH follows every site and sees the whole product.
  for (const char* s : {"up", "down", "fill"}) {
    EXPECT_TRUE(WaitFor([&] { return c.MahCaughtUp(s); })) << s;
  }
  auto trace = c.Op("mah", /*inspector=*/true).Trace(Lot("DP001"), false);
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::set<std::string> lots, sites;
  for (const auto& l : trace->lots()) lots.insert(l.lot_id());
  for (const auto& s : trace->sites()) sites.insert(s);
  for (const char* l :
       {"MCB001", "HV001", "MAB001", "DL001", "DS001", "DP001"}) {
    EXPECT_TRUE(lots.count(Lot(l))) << l;
  }
  for (const char* s : {"up", "down", "fill"}) {
    EXPECT_TRUE(sites.count(c.site(s).party.site)) << s;
  }
  std::set<std::string> transfers(trace->transfers().begin(),
                                  trace->transfers().end());
  EXPECT_TRUE(transfers.count("T1") && transfers.count("T3"));

  // Cross-log findings: the clean chain has none at warning or above.
  auto findings = c.Op("mah", true).Findings("warning");
  ASSERT_TRUE(findings.ok()) << findings.status();
  for (const auto& f : findings->findings()) {
    ADD_FAILURE() << f.kind() << ": " << f.message();
  }
  EXPECT_EQ(findings->logs_size(), 4);

  // Peers cosign each other's checkpoints.
  EXPECT_TRUE(WaitFor([&] {
    auto d = c.Op("up").GetPeerData("");
    return d.ok() && d->our_cosigned_size() >= 3;
  }));

  // One bundle from the MAH holds the whole product and verifies offline.
  std::string bundle = tmp_.Sub("bundle");
  CmdResult ex = c.Ctl("mah", "--format json export --out " + bundle, true);
  ASSERT_EQ(ex.code, 0) << c.CtlErr();
  EXPECT_THAT(ex.out, ::testing::HasSubstr("cmo-up.example"));
  CmdResult v = Sh(kSegaudit + " verify " + bundle, tmp_.Sub("verify.err"));
  EXPECT_EQ(v.code, 0) << v.out << ReadAll(tmp_.Sub("verify.err"));
  // A site's bundle carries the peer evidence it holds, checkable too.
  std::string site_bundle = tmp_.Sub("bundle-down");
  ASSERT_EQ(c.Ctl("down", "export --out " + site_bundle).code, 0) << c.CtlErr();
  CmdResult sv =
      Sh(kSegaudit + " verify " + site_bundle, tmp_.Sub("verify2.err"));
  EXPECT_EQ(sv.code, 0) << sv.out << ReadAll(tmp_.Sub("verify2.err"));
  EXPECT_NE(ReadAll(site_bundle + "/MANIFEST").find("evidence "),
            std::string::npos);
}

TEST_F(MultisiteTest, DeliveryAcrossRestartsIsExactlyOnce) {
  Cluster& c = cluster_;
  ASSERT_NO_FATAL_FAILURE(adc_.Register(c));
  ASSERT_NO_FATAL_FAILURE(adc_.Upstream(c));

  // Receiver down during the dispatch: queued, delivered once it is back.
  c.Kill("down", SIGTERM);
  v1::EntryRef a = ShipT1("T1A", "50");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GE(c.PeerState("up", "down").outbox_pending(), 1u);
  ASSERT_NO_FATAL_FAILURE(c.Start("down"));
  EXPECT_TRUE(WaitFor([&] { return c.HoldsEvidence("down", a); }));

  // Sender restarted (killed) with undelivered evidence.
  c.Kill("down", SIGKILL);
  v1::EntryRef b = ShipT1("T1B", "50");
  c.Kill("up", SIGKILL);
  ASSERT_NO_FATAL_FAILURE(c.Start("up"));
  ASSERT_NO_FATAL_FAILURE(c.Start("down"));
  EXPECT_TRUE(WaitFor([&] { return c.HoldsEvidence("down", b); }));

  // Both restarted with a dispatch queued.
  c.Kill("down", SIGKILL);
  v1::EntryRef d = ShipT1("T1C", "50");
  c.Kill("up", SIGTERM);
  ASSERT_NO_FATAL_FAILURE(c.Start("down"));
  ASSERT_NO_FATAL_FAILURE(c.Start("up"));
  EXPECT_TRUE(WaitFor([&] { return c.HoldsEvidence("down", d); }));
  EXPECT_TRUE(
      WaitFor([&] { return c.PeerState("up", "down").outbox_pending() == 0; }));

  // Exactly once: one stored evidence per dispatch, and each can be
  // received exactly once.
  auto data = c.Op("down").GetPeerData(c.site("up").party.origin);
  ASSERT_TRUE(data.ok());
  std::map<uint64_t, int> per_index;
  for (const auto& e : data->evidence())
    ++per_index[e.evidence().entry().index()];
  EXPECT_EQ(per_index.size(), 3u);
  for (const auto& [i, n] : per_index) EXPECT_EQ(n, 1) << i;
  int h = 30;
  for (const auto& [ref, id] : {std::pair{a, "T1A"}, {b, "T1B"}, {d, "T1C"}}) {
    auto r =
        adc_.Receive(c, "down", ref, id, Lot("HV001"), Q("50", "LTR"), h++);
    EXPECT_TRUE(r.ok()) << id << ": " << r.status();
  }
  // A second receipt of the same dispatch is refused.
  auto again =
      adc_.Receive(c, "down", a, "T1A", Lot("HV001"), Q("50", "LTR"), h);
  EXPECT_FALSE(again.ok());
  EXPECT_TRUE(WaitFor([&] {
    return c.PeerState("down", "up").outbox_pending() == 0 &&
           c.PeerState("up", "down").evidence_count() == 3;
  })) << c.PeerState("up", "down").DebugString();
}

// A TCP stand-in at a peer's address: `garbage` answers every connection
// with bytes that are not HTTP/2 and closes; otherwise it accepts and
// never answers (a hung peer). Bounded: stops when destroyed.
class FakePeer {
 public:
  FakePeer(const std::string& address, bool garbage) : garbage_(garbage) {
    const int port = std::stoi(address.substr(address.rfind(':') + 1));
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
             listen(fd_, 16) == 0;
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakePeer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (int c : held_) close(c);
  }
  bool bound() const { return bound_; }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      if (garbage_) {
        const char junk[] = "HTTP/1.0 500 not a peer\r\n\r\n\x00\xff\x13";
        (void)!write(c, junk, sizeof junk);
        close(c);
      } else {
        held_.push_back(c);  // never answered
      }
    }
  }
  const bool garbage_;
  int fd_ = -1;
  bool bound_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::vector<int> held_;
  std::thread thread_;
};

// A peer that answers garbage, then one that hangs: appends (dispatches to
// it included) go on, and every hand-off is delivered once the real peer
// is back.
TEST_F(MultisiteTest, GarbageOrHungPeerBlocksNoAppendAndLosesNoHandoff) {
  Cluster& c = cluster_;
  ASSERT_NO_FATAL_FAILURE(adc_.Register(c));
  ASSERT_NO_FATAL_FAILURE(adc_.Upstream(c));
  std::vector<v1::EntryRef> sent;
  ASSERT_EQ(c.Kill("down", SIGTERM), 0);
  for (bool garbage : {true, false}) {
    FakePeer fake(c.site("down").address, garbage);
    ASSERT_TRUE(fake.bound());
    for (int i = 0; i < 3; ++i) {
      const std::string id = absl::StrCat(garbage ? "TG" : "TH", i);
      sent.push_back(ShipT1(id, "5"));
      ASSERT_FALSE(sent.back().leaf_hash().empty()) << id;
    }
    // Other appends are not held up either.
    v1::Quantity sample = Q("0.1", "LTR");
    ASSERT_TRUE(
        c.Append("up", adc_.builders().Qc(c.site("up").party, Lot("HV001"),
                                          adc_.At(30), &sample))
            .ok());
    EXPECT_TRUE(WaitFor([&] { return fake.connections() > 0; }));
    EXPECT_GE(c.PeerState("up", "down").outbox_pending(), 3u);
  }
  ASSERT_NO_FATAL_FAILURE(c.Start("down"));
  for (const v1::EntryRef& ref : sent) {
    EXPECT_TRUE(WaitFor([&] { return c.HoldsEvidence("down", ref); }))
        << ref.index();
  }
  EXPECT_TRUE(
      WaitFor([&] { return c.PeerState("up", "down").outbox_pending() == 0; }));
}

// The upstream store is copied, the original grows and is cosigned and
// followed; then the copy is served under the same key with other entries
// up to the same size: a second root for one size.
TEST_F(MultisiteTest, ForkedLogIsEquivocationAtMahAndCosigners) {
  Cluster& c = cluster_;
  ASSERT_NO_FATAL_FAILURE(adc_.Register(c));
  ASSERT_NO_FATAL_FAILURE(adc_.Upstream(c));
  ASSERT_EQ(c.Kill("up", SIGTERM), 0);
  const std::string fork = tmp_.Sub("data-up-fork");
  ASSERT_EQ(std::system(("cp -a " + c.site("up").data + " " + fork).c_str()),
            0);
  ASSERT_NO_FATAL_FAILURE(c.Start("up"));
  v1::EntryRef t1 = ShipT1("T1", "20");
  ASSERT_TRUE(c.Op("up").CheckpointNow().ok());
  auto size = c.Op("up").GetStatus();
  ASSERT_TRUE(size.ok());
  for (const char* peer : {"mah", "down", "fill"}) {
    EXPECT_TRUE(WaitFor([&] {
      return c.PeerState(peer, "up").cosigned_size() == size->size();
    })) << peer;
  }
  EXPECT_TRUE(WaitFor([&] { return c.MahCaughtUp("up"); }));
  ASSERT_EQ(c.Kill("up", SIGTERM), 0);

  // The fork: the same key, another dispatch at the same position.
  c.WriteConfig("up", fork);
  ASSERT_NO_FATAL_FAILURE(c.Start("up"));
  auto other =
      c.Append("up", adc_.Ship(c, "up", "down", "T1-FORK", Lot("HV001"),
                               Q("30", "LTR"), Range(200, 800), 25));
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_EQ(other->index(), t1.index());
  ASSERT_NE(other->leaf_hash(), t1.leaf_hash());
  ASSERT_TRUE(c.Op("up").CheckpointNow().ok());

  for (const char* peer : {"mah", "down", "fill"}) {
    EXPECT_TRUE(WaitFor([&] {
      return c.PeerState(peer, "up").equivocations() > 0;
    })) << peer
        << " did not detect the fork";
    auto d = c.Op(peer, true).GetPeerData(c.site("up").party.origin);
    ASSERT_TRUE(d.ok());
    ASSERT_GT(d->equivocations_size(), 0) << peer;
    const auto& e = d->equivocations(0);
    // Both signed checkpoints, as proof, and they differ.
    EXPECT_FALSE(e.held_note().empty());
    EXPECT_FALSE(e.offered_note().empty());
    EXPECT_NE(e.held_note(), e.offered_note());
  }
  // The forked view is never accepted: the MAH's copy is the original.
  auto mine = c.Op("mah", true).GetStatus();
  ASSERT_TRUE(mine.ok());
  auto entry =
      c.Op("mah", true).GetCheckpoint(std::nullopt, c.site("up").party.origin);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->size(), size->size());
  EXPECT_EQ(entry->note().find("T1-FORK"), std::string::npos);
  auto f = c.Op("mah", true).Findings("critical");
  ASSERT_TRUE(f.ok());
  bool seen = false;
  for (const auto& x : f->findings()) seen |= x.kind() == "equivocation";
  EXPECT_TRUE(seen);
  EXPECT_NE(ReadAll(tmp_.Sub("log-mah")).find("equivocation detected"),
            std::string::npos);
}

// Evidence the sender's keys and tree do not support is refused and
// changes nothing at the receiver.
TEST_F(MultisiteTest, ForgedEvidenceIsRefusedAndNothingStored) {
  Cluster& c = cluster_;
  ASSERT_NO_FATAL_FAILURE(adc_.Register(c));
  ASSERT_NO_FATAL_FAILURE(adc_.Upstream(c));
  v1::EntryRef t1 = ShipT1("T1", "20");
  ASSERT_TRUE(WaitFor([&] { return c.HoldsEvidence("down", t1); }));
  auto held = c.Op("down").GetPeerData(c.site("up").party.origin);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->evidence_size(), 1);
  const v1::HandoffEvidence genuine = held->evidence(0).evidence();
  // The fill node never received anything from up: deliver there.
  auto count = [&] {
    auto d = c.Op("fill").GetPeerData(c.site("up").party.origin);
    return d.ok() ? d->evidence_size() : -1;
  };
  auto refuse = [&](const std::string& what, v1::HandoffEvidence ev) {
    // up's cosign pass moves fill's held checkpoint too (a checkpoint it
    // cosigns is held): let it reach up's latest first, so that only the
    // delivery below could move it.
    auto latest = c.Op("up").GetCheckpoint();
    ASSERT_TRUE(latest.ok()) << latest.status();
    EXPECT_TRUE(WaitFor([&] {
      auto held = c.Op("fill").GetHeldSize(c.site("up").party.origin);
      return held.ok() && held->size() >= latest->size();
    })) << what;
    const int count_before = count();
    auto before = c.Op("fill").GetHeldSize(c.site("up").party.origin);
    ASSERT_TRUE(before.ok());
    auto r = c.Op("fill").DeliverEvidence(ev);
    EXPECT_FALSE(r.ok()) << what;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()) ||
                absl::IsFailedPrecondition(r.status()))
        << what << ": " << r.status();
    EXPECT_EQ(count(), count_before) << what;
    auto now = c.Op("fill").GetHeldSize(c.site("up").party.origin);
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(now->size(), before->size()) << what;
  };

  {  // Bad entry signature.
    v1::HandoffEvidence ev = genuine;
    std::string* sig = ev.mutable_entry()->mutable_entry()->mutable_signature();
    (*sig)[5] ^= 1;
    refuse("bad signature", ev);
  }
  {  // An inclusion proof for another tree size than the checkpoint's.
    v1::HandoffEvidence ev = genuine;
    auto cp = PeekCheckpoint(ev.checkpoint());
    ASSERT_TRUE(cp.ok());
    ShipT1("T9", "1");  // the log grows past the evidence's checkpoint
    ASSERT_TRUE(c.Op("up").CheckpointNow().ok());
    auto p = c.Op("up").InclusionProof(t1.index(), cp->size + 1);
    if (p.ok() && p->tree_size() != cp->size) {
      ev.mutable_entry()->clear_inclusion_proof();
      for (const auto& h : p->proof())
        ev.mutable_entry()->add_inclusion_proof(h);
      refuse("proof for another size", ev);
    } else {
      ADD_FAILURE() << "no proof at another size: " << p.status();
    }
  }
  {  // Entry and checkpoint signed by an unknown key under the same name.
    v1::HandoffEvidence ev = genuine;
    auto gen = Ed25519Signer::Generate();
    ASSERT_TRUE(gen.ok());
    NoteSigner rogue(c.site("up").key_name,
                     std::shared_ptr<const Ed25519Signer>(std::move(*gen)));
    auto se = SignEntry(ev.entry().entry().body(), rogue.signer());
    ASSERT_TRUE(se.ok());
    *ev.mutable_entry()->mutable_entry() = *se;
    auto n = ParseNote(ev.checkpoint());
    ASSERT_TRUE(n.ok());
    const NoteSigner* signers[] = {&rogue};
    auto note = SignNote(n->text, signers);
    ASSERT_TRUE(note.ok());
    ev.set_checkpoint(*note);
    refuse("unknown key", ev);
  }
  {  // A key rotated out: an entry after the rotation signed by the old key.
    v1::RotateKeyRequest rk;
    rk.set_new_key_name(c.site("up").key_name + "-2");
    rk.set_reason("annual rotation");
    rk.mutable_actor()->set_person_id("op-up");
    rk.mutable_actor()->set_printed_name("Operator up");
    rk.mutable_actor()->set_meaning(v1::SIGNATURE_MEANING_APPROVED);
    auto rotated = c.Op("up").RotateKey(rk);
    ASSERT_TRUE(rotated.ok()) << rotated.status();
    // Every peer learns the new key from the signed rotation record (fill
    // receives no hand-off from up: it learns it as a key record) and goes
    // on cosigning across the change.
    for (const char* peer : {"mah", "down", "fill"}) {
      EXPECT_TRUE(WaitFor([&] {
        const v1::PeerLogStatus st = c.PeerState(peer, "up");
        for (const auto& k : st.verifier_keys()) {
          if (k == rotated->verifier_key()) return true;
        }
        return false;
      })) << peer
          << " never learned the rotated key";
    }
    ASSERT_TRUE(c.Op("up").CheckpointNow().ok());
    auto up_size = c.Op("up").GetStatus();
    ASSERT_TRUE(up_size.ok());
    EXPECT_TRUE(WaitFor([&] {
      return c.PeerState("fill", "up").cosigned_size() >= up_size->size();
    })) << c.PeerState("fill", "up").DebugString();
    v1::EntryRef t2 = ShipT1("T2", "20");
    ASSERT_TRUE(WaitFor([&] { return c.HoldsEvidence("down", t2); }));
    auto d = c.Op("down").GetPeerData(c.site("up").party.origin);
    ASSERT_TRUE(d.ok());
    v1::HandoffEvidence ev;
    for (const auto& e : d->evidence()) {
      if (e.evidence().entry().index() == t2.index()) ev = e.evidence();
    }
    ASSERT_EQ(ev.entry().index(), t2.index());
    auto signers = node::LoadSigners(c.site("up").data);
    ASSERT_TRUE(signers.ok());
    std::shared_ptr<const NoteSigner> old;
    for (const auto& s : *signers) {
      if (s->name() == c.site("up").key_name) old = s;
    }
    ASSERT_NE(old, nullptr);
    auto body = ParseEntryBody(ev.entry().entry().body());
    ASSERT_TRUE(body.ok());
    body->set_key_name(old->name());
    auto bytes = SerializeEntryBody(*body);
    ASSERT_TRUE(bytes.ok());
    auto se = SignEntry(*bytes, old->signer());
    ASSERT_TRUE(se.ok());
    *ev.mutable_entry()->mutable_entry() = *se;
    refuse("rotated-out key", ev);
  }
  // Genuine evidence relayed by another party's node (down's peer
  // certificate, to fill) is refused and nothing is stored: only the
  // origin's own node (or the receiver's operator) delivers it.
  {
    client::ClientOptions o;
    o.target = c.site("fill").address;
    o.ca_file = c.certs() + "/ca.pem";
    o.cert_file = c.certs() + "/down.pem";
    o.key_file = c.certs() + "/down.key";
    o.timeout = absl::Seconds(10);
    o.max_attempts = 1;
    auto relay = client::Client::Connect(o);
    ASSERT_TRUE(relay.ok()) << relay.status();
    const int before = count();
    auto r = (*relay)->DeliverEvidence(genuine);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied)
        << r.status();
    EXPECT_EQ(count(), before);
  }
  // Genuine evidence delivered again changes nothing (idempotent).
  auto dup = c.Op("down").DeliverEvidence(genuine);
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate());
  auto d = c.Op("down").GetPeerData(c.site("up").party.origin);
  ASSERT_TRUE(d.ok());
  int t1_copies = 0;
  for (const auto& e : d->evidence()) {
    t1_copies += e.evidence().entry().index() == t1.index();
  }
  EXPECT_EQ(t1_copies, 1);
}

}  // namespace
}  // namespace segledger::multisite
