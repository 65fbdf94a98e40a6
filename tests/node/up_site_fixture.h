// A node of the ADC chain's upstream party (tests/ledger/domain/
// adc_scenario.h) with the downstream party's node as its one peer, and
// the records of a small custody case: the cell bank lot MCB001 made,
// released and shipped downstream as T1. Header-only; for node tests.
#ifndef SEGLEDGER_TESTS_NODE_UP_SITE_FIXTURE_H_
#define SEGLEDGER_TESTS_NODE_UP_SITE_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "ledger/note.h"
#include "ledger/status_macros.h"
#include "node/data_dir.h"
#include "node/json_log.h"
#include "node/node.h"
#include "segledger/v1/records.pb.h"
#include "tests/ledger/domain/adc_scenario.h"
#include "tests/ledger/peers/peer_fixture.h"
#include "tests/support/test_util.h"

namespace segledger::testing {

// What the upstream party appends to hold a released cell bank lot
// MCB001 (10 H87) it may ship downstream: its party registration as the
// product's MAH (only a MAH registers a plan, R-PRODUCT-OWNER), the plan
// (cell bank at its site, harvest at the downstream site), its site
// registration, the production and the site release.
inline std::vector<v1::Record> McbSetupRecords(domain::testing::AdcChain& c) {
  namespace dt = domain::testing;
  const dt::Party& up = c.up().party();
  const dt::Party& down = c.down().party();
  v1::Record product;
  auto* p = product.mutable_product_registration();
  *p->mutable_header() =
      dt::Header(up, dt::T(1), v1::SIGNATURE_MEANING_APPROVED, false);
  p->set_product_id(dt::kProduct);
  p->set_name("ADC-1");
  p->set_pilot_class(v1::PILOT_CLASS_ADC);
  p->set_mass_balance_tolerance_percent("0.5");
  *p->add_approvals() = dt::Doc("approval", "NMPA-1");
  *p->add_stages() =
      dt::MakeStage("cell-bank", "mcb", v1::MATERIAL_KIND_CELL_BANK, up.site,
                    dt::Range(-19600, -15000), 0);
  *p->add_stages() =
      dt::MakeStage("upstream", "harvest", v1::MATERIAL_KIND_HARVEST, down.site,
                    dt::Range(200, 800), 48);
  const std::string mcb = dt::Lot("MCB001");
  return {c.PartyReg(up, v1::PARTY_ROLE_MAH, dt::Date(2015, 1, 1)), product,
          c.SiteReg(up, {"cell-bank"}, dt::Date(2027, 12, 31)),
          c.Produced(up, mcb, "cell-bank", dt::Material("mcb"),
                     dt::Q("10", "H87"), dt::T(10)),
          c.Release(up, mcb, v1::RELEASE_KIND_SITE_RELEASE, dt::T(11))};
}

}  // namespace segledger::testing

namespace segledger::node {

// A plaintext node on 127.0.0.1:0 for party `p`'s site, on `data_dir`.
inline v1::NodeConfig InsecureSiteConfig(const std::string& data_dir,
                                         const domain::testing::Party& p) {
  v1::NodeConfig config;
  config.set_data_dir(data_dir);
  config.set_listen("127.0.0.1:0");
  config.set_insecure(true);
  config.set_party(p.party);
  config.set_site_id(p.site);
  return config;
}

class UpSiteNodeTest : public ::testing::Test {
 protected:
  // Starts the upstream party's node (insecure, its party and site) with
  // the downstream party's node as a peer, followed or not, whose address
  // is never reached: tests hand the node what the peer would send.
  // `tweak` edits the configuration first.
  void StartUpSite(bool follow,
                   const std::function<void(v1::NodeConfig&)>& tweak = {}) {
    SetQuietLog(true);
    const domain::testing::Party& up = chain_.up().party();
    const domain::testing::Party& down = chain_.down().party();
    down_key_ = peers::testing::NewKey("down-k1");
    const std::string data = dir_.Sub("up");
    SEG_ASSERT_OK(InitDataDir(data, up.origin, up.origin).status());
    v1::NodeConfig config = InsecureSiteConfig(data, up);
    config.set_cosign_interval_ms(3600 * 1000);
    v1::PeerNode* peer = config.add_peers();
    peer->set_origin(down.origin);
    peer->set_party(down.party);
    peer->set_address("127.0.0.1:1");
    peer->add_verifier_keys(down_key_->Verifier().VerifierKey());
    peer->set_follow(follow);
    if (tweak) tweak(config);
    SEG_ASSERT_OK_AND_ASSIGN(node_, Node::Start(config));
    client::ClientOptions o;
    o.target = node_->address();
    o.insecure = true;
    o.timeout = absl::Seconds(20);
    SEG_ASSERT_OK_AND_ASSIGN(client_, client::Client::Connect(o));
  }

  absl::StatusOr<v1::AppendAck> Append(v1::Record r) {
    v1::AppendRequest req;
    auto* a = req.add_records();
    a->set_request_id(absl::StrCat("r-", ++requests_));
    *a->mutable_actor() = domain::testing::Sig(
        "Operator", v1::SIGNATURE_MEANING_AUTHORED, domain::testing::T(300));
    *a->mutable_record() = std::move(r);
    SEG_ASSIGN_OR_RETURN(v1::AppendResponse resp, client_->Append(req));
    if (resp.acks_size() != 1) return absl::InternalError("no ack");
    return resp.acks(0);
  }

  // McbSetupRecords, appended.
  void ProduceMcb() {
    for (v1::Record r : segledger::testing::McbSetupRecords(chain_)) {
      SEG_ASSERT_OK(Append(std::move(r)).status());
    }
  }

  // T1 dispatches `shipped` of MCB001 to the downstream site; t1_ names it.
  void DispatchT1(const v1::Quantity& shipped) {
    const domain::testing::Party& up = chain_.up().party();
    SEG_ASSERT_OK_AND_ASSIGN(
        v1::AppendAck ack,
        Append(chain_.Ship(up, chain_.down().party(), "T1", "C1", Mcb(),
                           shipped, domain::testing::Range(-19600, -15000),
                           domain::testing::T(24), domain::testing::T(36))));
    t1_.set_origin(up.origin);
    t1_.set_index(ack.index());
    t1_.set_leaf_hash(ack.leaf_hash());
  }

  static std::string Mcb() { return domain::testing::Lot("MCB001"); }

  segledger::testing::TempDir dir_;
  domain::testing::AdcChain chain_;
  std::shared_ptr<const NoteSigner> down_key_;
  v1::EntryRef t1_;
  int requests_ = 0;
  std::unique_ptr<Node> node_;
  std::unique_ptr<client::Client> client_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_TESTS_NODE_UP_SITE_FIXTURE_H_
