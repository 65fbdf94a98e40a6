#include "benchmarks/segbench/store_builder.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ledger/ed25519.h"
#include "ledger/status_macros.h"
#include "ledger/store/key_file.h"
#include "ledger/store/rocksdb_kv.h"

namespace segledger::bench {
namespace {

constexpr uint64_t kPerAppend = 2048;
constexpr int kBuilderThreads = 3;

store::AppendRecord MakeStoreRecord(uint64_t n) {
  store::AppendRecord r;
  r.actor.set_person_id(absl::StrCat("op-", n % 7));
  r.actor.set_printed_name("Bench Operator");
  r.actor.set_role("operator");
  r.actor.set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
  v1::KeyRegistration* k = r.record.mutable_key_registration();
  k->set_key_name(absl::StrCat("device-", n));
  k->set_public_key(std::string(32, static_cast<char>('A' + n % 26)));
  k->set_purpose(std::string(100, 'p'));
  return r;
}

}  // namespace

store::LogStoreOptions BuilderOptions(const std::string& origin) {
  store::LogStoreOptions so;
  so.origin = origin;
  so.checkpoint_every = uint64_t{1} << 40;  // one checkpoint, at the end
  so.checkpoint_interval = absl::ZeroDuration();
  so.max_group_records = 8192;
  return so;
}

absl::StatusOr<BuiltStore> BuildStore(const std::string& db_dir,
                                      uint64_t entries) {
  SEG_ASSIGN_OR_RETURN(std::shared_ptr<const Ed25519Signer> key,
                       Ed25519Signer::Generate());
  return FillStore(db_dir,
                   {std::make_shared<const NoteSigner>("bench-key", key)},
                   kBuilderOrigin, entries);
}

absl::StatusOr<BuiltStore> FillStore(
    const std::string& db_dir,
    std::vector<std::shared_ptr<const NoteSigner>> signers,
    const std::string& origin, uint64_t entries) {
  if (signers.empty()) return absl::InvalidArgumentError("no signing keys");
  BuiltStore out;
  out.signers = signers;
  out.signer = signers[0];
  SEG_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                       store::RocksDbKv::Open(db_dir));
  SEG_ASSIGN_OR_RETURN(out.log,
                       store::LogStore::Open(std::move(kv), std::move(signers),
                                             BuilderOptions(origin)));
  const uint64_t first = out.log->Size();
  if (first >= entries) return out;
  const absl::Time start = absl::Now();
  std::atomic<uint64_t> next{first};
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < kBuilderThreads; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        const uint64_t b = next.fetch_add(kPerAppend);
        if (b >= entries) return;
        const uint64_t e = std::min(entries, b + kPerAppend);
        std::vector<store::AppendRecord> batch;
        batch.reserve(e - b);
        for (uint64_t n = b; n < e; ++n) batch.push_back(MakeStoreRecord(n));
        auto res = out.log->Append(std::move(batch));
        if (!res.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = res.status();
          next = entries;  // stop every thread
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  SEG_RETURN_IF_ERROR(first_error);
  SEG_RETURN_IF_ERROR(out.log->CheckpointNow().status());
  out.build_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  out.appended = out.log->Size() - first;
  return out;
}

absl::StatusOr<std::vector<std::shared_ptr<const NoteSigner>>> ReadKeyDir(
    const std::string& key_dir) {
  std::error_code ec;
  std::vector<std::string> paths;
  for (auto it = std::filesystem::directory_iterator(key_dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".key") paths.push_back(it->path());
  }
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("key directory ", key_dir, ": ", ec.message()));
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::shared_ptr<const NoteSigner>> out;
  for (const std::string& p : paths) {
    SEG_ASSIGN_OR_RETURN(std::shared_ptr<const NoteSigner> s,
                         store::ReadKeyFile(p));
    out.push_back(std::move(s));
  }
  if (out.empty()) {
    return absl::NotFoundError(absl::StrCat("no key files in ", key_dir));
  }
  return out;
}

uint64_t DiskBytes(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace segledger::bench
