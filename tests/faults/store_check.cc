// seg_store_check: the offline check scripts/crash-loop.sh runs on a killed
// node's data directory before restarting it.
//
//   seg_store_check --data DIR [--full] [--acked FILE]... [--min-size N]
//
// Opens DIR/db (node/data_dir.cc layout; keys from DIR/keys/*.key) with
// LogStore's open check (kFull with --full, else kTail), runs
// VerifyLogStore when --full, and checks that every line
// {"index":I,"leaf_hash":"<b64>"} of each --acked file (segctl append's
// output) names an entry present with that leaf hash. Nothing is written:
// the store is dropped without Close() (no final checkpoint), so the node
// restarts on exactly what the crash left. Prints one JSON line
// {"size":..,"checkpoint":..,"acked":..}; exit 0 when every check passes,
// 1 with one line on stderr naming the failed check, 2 for usage errors.
// Single-threaded.
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/store/key_file.h"
#include "ledger/store/keys.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "ledger/store/store_verify.h"
#include "ledger/thread_pool.h"

namespace segledger {
namespace {

struct Flags {
  std::string data;
  bool full = false;
  uint64_t min_size = 0;
  std::vector<std::string> acked;
};

absl::StatusOr<std::vector<std::shared_ptr<const NoteSigner>>> Signers(
    const std::string& key_dir) {
  std::vector<std::string> names;
  DIR* d = opendir(key_dir.c_str());
  if (d == nullptr) return absl::NotFoundError(key_dir + ": cannot list");
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 4 && n.substr(n.size() - 4) == ".key") names.push_back(n);
  }
  closedir(d);
  std::vector<std::shared_ptr<const NoteSigner>> out;
  for (const std::string& n : names) {
    auto s = store::ReadKeyFile(key_dir + "/" + n);
    if (!s.ok()) return s.status();
    out.push_back(*s);
  }
  return out;
}

// Parses {"index":I,"leaf_hash":"B64"} (segctl append's JSON line).
bool ParseAck(const std::string& line, uint64_t* index, std::string* hash) {
  const std::string ki = "{\"index\":", kh = ",\"leaf_hash\":\"";
  size_t h = line.find(kh);
  if (line.rfind(ki, 0) != 0 || h == std::string::npos) return false;
  size_t end = line.find('"', h + kh.size());
  if (end == std::string::npos) return false;
  auto b = Base64Decode(line.substr(h + kh.size(), end - h - kh.size()));
  if (!b.ok()) return false;
  *hash = *b;
  return absl::SimpleAtoi(line.substr(ki.size(), h - ki.size()), index);
}

absl::Status CheckAcked(const store::LogStore& log, const std::string& file,
                        uint64_t* count) {
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(file + ": cannot open");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    uint64_t index;
    std::string hash;
    if (!ParseAck(line, &index, &hash)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, " line ", n, ": not an ack: ", line));
    }
    absl::StatusOr<Hash> got = log.LeafHashAt(index);
    if (!got.ok()) {
      return absl::DataLossError(
          absl::StrCat("acknowledged entry ", index, " (", file, " line ", n,
                       ") missing: ", got.status().message()));
    }
    if (std::string(got->begin(), got->end()) != hash) {
      return absl::DataLossError(absl::StrCat("acknowledged entry ", index,
                                              " (", file, " line ", n,
                                              ") has another leaf hash"));
    }
    ++*count;
  }
  return absl::OkStatus();
}

absl::Status Run(const Flags& f) {
  store::RocksDbKvOptions kvo;
  kvo.create_if_missing = false;
  auto kv = store::RocksDbKv::Open(f.data + "/db", kvo);
  if (!kv.ok()) return kv.status();
  auto origin = (*kv)->Get(store::Family::kMeta, store::kMetaOrigin);
  if (!origin.ok()) return origin.status();
  auto signers = Signers(f.data + "/keys");
  if (!signers.ok()) return signers.status();
  store::LogStoreOptions o;
  o.origin = *origin;
  o.checkpoint_interval = absl::ZeroDuration();
  o.signing_threads = 1;
  o.open_check = f.full ? store::LogStoreOptions::OpenCheck::kFull
                        : store::LogStoreOptions::OpenCheck::kTail;
  auto log = store::LogStore::Open(*std::move(kv), *std::move(signers), o);
  if (!log.ok()) return log.status();
  if (f.full) {
    ThreadPool pool(std::max(1u, std::thread::hardware_concurrency()));
    store::StoreVerifyOptions vo;
    vo.pool = &pool;
    auto findings = store::VerifyLogStore(**log, vo);
    if (!findings.ok()) return findings.status();
    if (!findings->empty()) {
      const Finding& x = findings->front();
      return absl::DataLossError(absl::StrCat(findings->size(),
                                              " findings, first at index ",
                                              x.index, ": ", x.detail));
    }
  }
  uint64_t size = (*log)->Size(), cp_size = 0;
  if (size < f.min_size) {
    return absl::DataLossError(
        absl::StrCat("size ", size, " below ", f.min_size, " seen before"));
  }
  auto cp = (*log)->LatestCheckpoint();
  if (cp.ok()) {
    absl::StatusOr<uint64_t> c = CheckpointNoteSize(*cp);
    if (!c.ok()) return c.status();
    cp_size = *c;
    if (cp_size > size) {
      return absl::DataLossError(
          absl::StrCat("checkpoint size ", cp_size, " beyond log size ", size));
    }
  } else if (!absl::IsNotFound(cp.status())) {
    return cp.status();
  }
  uint64_t acked = 0;
  for (const std::string& file : f.acked) {
    absl::Status s = CheckAcked(**log, file, &acked);
    if (!s.ok()) return s;
  }
  std::cout << "{\"size\":" << size << ",\"checkpoint\":" << cp_size
            << ",\"acked\":" << acked << "}\n";
  return absl::OkStatus();  // dropped without Close(): nothing written
}

}  // namespace
}  // namespace segledger

int main(int argc, char** argv) {
  segledger::Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_next = i + 1 < argc;
    if (a == "--full") {
      f.full = true;
    } else if (a == "--data" && has_next) {
      f.data = argv[++i];
    } else if (a == "--acked" && has_next) {
      f.acked.push_back(argv[++i]);
    } else if (a == "--min-size" && has_next &&
               absl::SimpleAtoi(argv[i + 1], &f.min_size)) {
      ++i;
    } else {
      std::cerr << "seg_store_check: unknown or incomplete flag " << a << "\n";
      return 2;
    }
  }
  if (f.data.empty()) {
    std::cerr << "seg_store_check: --data is required\n";
    return 2;
  }
  absl::Status s = segledger::Run(f);
  if (!s.ok()) {
    std::cerr << "seg_store_check: " << s << "\n";
    return 1;
  }
  return 0;
}
