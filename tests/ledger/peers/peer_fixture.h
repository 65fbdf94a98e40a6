// Test fixture for the peers tests: a site's LogStore (RocksDB in a temp
// dir or MemoryKv) with a real Ed25519 key, simple records, and a dump of
// the `peers` family to show that a refusal stores nothing.
#ifndef SEGLEDGER_TESTS_LEDGER_PEERS_PEER_FIXTURE_H_
#define SEGLEDGER_TESTS_LEDGER_PEERS_PEER_FIXTURE_H_

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/clock.h"
#include "ledger/ed25519.h"
#include "ledger/note.h"
#include "ledger/store/log_store.h"
#include "ledger/store/memory_kv.h"
#include "ledger/store/rocksdb_kv.h"

namespace segledger::peers::testing {

inline std::shared_ptr<const NoteSigner> NewKey(const std::string& name) {
  std::shared_ptr<const Ed25519Signer> k(*Ed25519Signer::Generate());
  return std::make_shared<NoteSigner>(name, k);
}

inline absl::Time T0() { return absl::FromUnixSeconds(1740787200); }

// One site's log. `kv` stays owned by the LogStore; `kv_view` reads it.
struct Site {
  std::string origin;
  std::shared_ptr<const NoteSigner> key;
  std::unique_ptr<store::LogStore> log;
  store::KvStore* kv = nullptr;
};

inline store::LogStoreOptions SiteOptions(const std::string& origin,
                                          store::AppendHook* hook,
                                          const Clock* clock) {
  store::LogStoreOptions o;
  o.origin = origin;
  o.clock = clock;
  o.checkpoint_every = 1u << 30;  // checkpoints only when asked
  o.checkpoint_interval = absl::ZeroDuration();
  o.signing_threads = 1;
  o.hook = hook;
  return o;
}

// Opens a site on `kv` (a new MemoryKv when null).
inline absl::StatusOr<Site> OpenSite(
    const std::string& origin, std::shared_ptr<const NoteSigner> key,
    std::unique_ptr<store::KvStore> kv = nullptr,
    store::AppendHook* hook = nullptr, const Clock* clock = nullptr) {
  if (kv == nullptr) kv = std::make_unique<store::MemoryKv>();
  Site s;
  s.origin = origin;
  s.key = key;
  s.kv = kv.get();
  auto log = store::LogStore::Open(std::move(kv), {key},
                                   SiteOptions(origin, hook, clock));
  if (!log.ok()) return log.status();
  s.log = *std::move(log);
  return s;
}

inline v1::Record DispatchRecord(const std::string& transfer,
                                 const std::string& to_party) {
  v1::Record r;
  r.mutable_dispatch()->set_transfer_id(transfer);
  r.mutable_dispatch()->set_to_party_id(to_party);
  r.mutable_dispatch()->set_to_site_id(to_party + "/site/1");
  return r;
}

inline v1::Record NoteRecord(const std::string& what) {
  v1::Record r;
  r.mutable_status_change()->set_reason(what);
  return r;
}

inline v1::Actor Operator() {
  v1::Actor a;
  a.set_person_id("op-1");
  a.set_printed_name("Operator One");
  return a;
}

inline absl::StatusOr<uint64_t> AppendOne(store::LogStore& log, v1::Record r,
                                          const std::string& request_id = "") {
  std::vector<store::AppendRecord> recs;
  recs.push_back(store::AppendRecord{Operator(), request_id, std::move(r)});
  auto res = log.Append(std::move(recs));
  if (!res.ok()) return res.status();
  return res->at(0).index;
}

// Every row of a family, for "nothing changed" comparisons.
inline std::map<std::string, std::string> Dump(store::KvStore& kv,
                                               store::Family f) {
  std::map<std::string, std::string> out;
  absl::Status s =
      kv.Scan(f, "", "", [&](absl::string_view k, absl::string_view v) {
        out.emplace(std::string(k), std::string(v));
        return true;
      });
  if (!s.ok()) std::abort();
  return out;
}

}  // namespace segledger::peers::testing

#endif  // SEGLEDGER_TESTS_LEDGER_PEERS_PEER_FIXTURE_H_
