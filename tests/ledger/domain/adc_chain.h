// Test fixture: the ADC chain of DOMAIN.md "The chain for an ADC" across five
// logs (MAH, upstream CMO, downstream/conjugation CMO, drug-linker site,
// fill-finish site), optionally with one seeded defect per finding kind.
//
// With `enforce`, every record goes through a DomainHook over a MemoryIndex
// (refusals fail the build); without it, records are appended raw so that
// defects the rules would refuse can be seeded. Entries are signed with real
// Ed25519 keys, one per log.
#ifndef SEGLEDGER_TESTS_LEDGER_DOMAIN_ADC_CHAIN_H_
#define SEGLEDGER_TESTS_LEDGER_DOMAIN_ADC_CHAIN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "ledger/domain/evidence.h"
#include "ledger/domain/graph.h"
#include "ledger/domain/hook.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/rule_context.h"
#include "ledger/domain/state.h"
#include "ledger/ed25519.h"
#include "ledger/hash.h"
#include "ledger/status_macros.h"

namespace segledger::domain::testing {

inline absl::Time T(double hours) {
  return absl::FromCivil(absl::CivilHour(2025, 3, 1, 0), absl::UTCTimeZone()) +
         absl::Hours(hours);
}
inline absl::Time Date(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}
inline google::protobuf::Timestamp Ts(absl::Time t) { return ToProtoTime(t); }

struct Party {
  std::string party, site, origin, province, name;
};
inline Party MakeParty(const std::string& host, const std::string& province) {
  return Party{absl::StrCat("https://", host, "/party"),
               absl::StrCat("https://", host, "/site/1"),
               absl::StrCat(host, "/segledger"), province, host};
}

inline const std::string kProduct = "https://mah.example/product/adc-1";
inline std::string Lot(const std::string& name) {
  return absl::StrCat("urn:epc:class:lgtin:4012345.012345.", name);
}
inline std::string Material(const std::string& name) {
  return absl::StrCat("https://mah.example/material/", name);
}

inline v1::Actor Sig(const std::string& name, v1::SignatureMeaning m,
                     absl::Time t) {
  v1::Actor a;
  a.set_person_id(absl::StrCat("p-", name));
  a.set_printed_name(name);
  a.set_role("qa");
  a.set_meaning(m);
  *a.mutable_signed_at() = Ts(t);
  return a;
}

inline v1::RecordHeader Header(
    const Party& p, absl::Time t,
    v1::SignatureMeaning m = v1::SIGNATURE_MEANING_PERFORMED,
    bool site = true) {
  v1::RecordHeader h;
  h.set_party_id(p.party);
  if (site) h.set_site_id(p.site);
  *h.mutable_event_time()->mutable_time() = Ts(t);
  h.mutable_event_time()->set_utc_offset_minutes(480);
  *h.add_signatures() = Sig(absl::StrCat("Operator of ", p.name), m, t);
  return h;
}

inline v1::Quantity Q(const std::string& v, const std::string& unit) {
  v1::Quantity q;
  q.set_value(v);
  q.set_unit(unit);
  return q;
}

inline v1::DocumentRef Doc(const std::string& type, const std::string& id) {
  v1::DocumentRef d;
  d.set_sha256(std::string(HashBytes(Sha256(id))));
  d.set_type(type);
  d.set_id(id);
  return d;
}

inline v1::Period Span(absl::Time from, absl::Time until) {
  v1::Period p;
  *p.mutable_from() = Ts(from);
  *p.mutable_until() = Ts(until);
  return p;
}

inline v1::TemperatureRange Range(int lo, int hi) {
  v1::TemperatureRange r;
  r.set_min_centi_celsius(lo);
  r.set_max_centi_celsius(hi);
  return r;
}

// One party's log: entries (signed) and, when enforcing, its domain state.
class Log {
 public:
  struct Stored {
    std::string body;
    std::string signature;
    Hash leaf;
    v1::EntryBody parsed;
  };

  Log(Party p, Evidence* evidence, bool enforce,
      DomainConfig config = DomainConfig())
      : party_(std::move(p)),
        enforce_(enforce),
        hook_(WithSite(config, evidence)) {
    signer_ = *Ed25519Signer::Generate();
  }

  // The body the next append of `r` would have.
  v1::EntryBody NextBody(v1::Record r, absl::Time recorded_at,
                         const std::string& key = "k1") const {
    v1::EntryBody b;
    b.set_log_origin(party_.origin);
    b.set_index(entries_.size());
    b.set_prev_hash(entries_.empty()
                        ? std::string(HashBytes(kZeroHash))
                        : std::string(HashBytes(entries_.back().leaf)));
    *b.mutable_recorded_at() = Ts(recorded_at);
    b.set_key_name(key);
    *b.mutable_actor() =
        Sig("Operator", v1::SIGNATURE_MEANING_AUTHORED, recorded_at);
    *b.mutable_record() = std::move(r);
    return b;
  }

  // Appends `r` recorded at `recorded_at`; with enforce, the hook decides.
  absl::StatusOr<v1::EntryRef> Append(v1::Record r, absl::Time recorded_at,
                                      const std::string& key = "k1") {
    v1::EntryBody b = NextBody(std::move(r), recorded_at, key);
    if (enforce_) {
      MemoryIndex::Txn txn(&index_, Leaves());
      absl::Status st = hook_.OnAppend(b, txn);
      if (!st.ok()) return st;
      txn.Commit();
    }
    return Store(std::move(b));
  }

  // As Append, but commits whatever the hook wrote even when it refuses, so
  // a test can show that a refusal writes nothing.
  absl::StatusOr<v1::EntryRef> AppendCommitAlways(
      v1::Record r, absl::Time recorded_at, const std::string& key = "k1") {
    v1::EntryBody b = NextBody(std::move(r), recorded_at, key);
    MemoryIndex::Txn txn(&index_, Leaves());
    absl::Status st = hook_.OnAppend(b, txn);
    txn.Commit();
    if (!st.ok()) return st;
    return Store(std::move(b));
  }

  v1::EntryRef Store(v1::EntryBody b) {
    Stored s;
    b.SerializeToString(&s.body);
    s.leaf = LeafHash(s.body);
    s.signature = *signer_->Sign(absl::StrCat("segledger/v1/entry\n", s.body));
    s.parsed = std::move(b);
    v1::EntryRef ref;
    ref.set_origin(party_.origin);
    ref.set_index(entries_.size());
    ref.set_leaf_hash(std::string(HashBytes(s.leaf)));
    entries_.push_back(std::move(s));
    return ref;
  }

  // Leaf hashes of the stored entries, for MemoryIndex::Txn::LeafHash.
  store::LeafLookup Leaves() const {
    return [this](uint64_t index) -> absl::StatusOr<Hash> {
      if (index >= entries_.size()) {
        return absl::OutOfRangeError(absl::StrCat("no entry ", index));
      }
      return entries_[index].leaf;
    };
  }

  const Party& party() const { return party_; }
  DomainConfig WithSite(DomainConfig c, Evidence* evidence) const {
    c.party_id = party_.party;
    c.site_id = party_.site;
    c.evidence = evidence;
    return c;
  }
  std::vector<Stored>& entries() { return entries_; }
  MemoryIndex& index() { return index_; }
  DomainHook& hook() { return hook_; }
  const Ed25519Signer& signer() const { return *signer_; }
  bool enforce() const { return enforce_; }

 private:
  Party party_;
  bool enforce_;
  DomainHook hook_;
  MemoryIndex index_;
  std::unique_ptr<Ed25519Signer> signer_;
  std::vector<Stored> entries_;
};

}  // namespace segledger::domain::testing

#endif  // SEGLEDGER_TESTS_LEDGER_DOMAIN_ADC_CHAIN_H_
