// Helpers for tools tests: a real RocksDB-backed log with signed entries,
// running the segaudit binary as a child process. Header-only (each test
// file is its own executable). Thread-compatible.
#ifndef SEGLEDGER_TESTS_TOOLS_BUNDLE_TEST_UTIL_H_
#define SEGLEDGER_TESTS_TOOLS_BUNDLE_TEST_UTIL_H_

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ledger/ed25519.h"
#include "ledger/note.h"
#include "ledger/store/key_file.h"
#include "ledger/store/log_store.h"
#include "ledger/store/rocksdb_kv.h"
#include "tools/bundle_source.h"
#include "tools/store_source.h"

namespace segledger::testing {

struct TestLog {
  std::shared_ptr<const NoteSigner> signer;
  std::unique_ptr<store::LogStore> store;
};

// Opens a new log in `data`/db with key file `data`/keys/log.key and
// appends `n` entries in batches of `batch`, signing a checkpoint every
// `checkpoint_every` entries (plus the final one on Close()).
inline absl::StatusOr<TestLog> MakeTestLog(const std::string& data,
                                           const std::string& origin,
                                           uint64_t n, uint64_t batch,
                                           uint64_t checkpoint_every) {
  TestLog log;
  std::error_code ec;
  std::filesystem::create_directories(data + "/keys", ec);
  std::string key_name = origin.substr(0, origin.find('/'));
  auto signer = store::CreateKeyFile(data + "/keys/log.key", key_name);
  if (!signer.ok()) return signer.status();
  log.signer = *signer;
  auto kv = store::RocksDbKv::Open(data + "/db");
  if (!kv.ok()) return kv.status();
  store::LogStoreOptions o;
  o.origin = origin;
  o.checkpoint_every = checkpoint_every;
  o.checkpoint_interval = absl::ZeroDuration();
  o.sync = false;
  auto st = store::LogStore::Open(*std::move(kv), {log.signer}, o);
  if (!st.ok()) return st.status();
  log.store = *std::move(st);
  for (uint64_t done = 0; done < n;) {
    std::vector<store::AppendRecord> recs;
    for (uint64_t i = 0; i < batch && done < n; ++i, ++done) {
      store::AppendRecord r;
      r.actor.set_person_id(absl::StrCat("op-", done % 7));
      r.actor.set_printed_name("Test Operator");
      r.request_id = absl::StrCat("req-", done);
      recs.push_back(std::move(r));
    }
    auto res = log.store->Append(std::move(recs));
    if (!res.ok()) return res.status();
  }
  return log;
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `segaudit <args>` (args already shell-quoted where needed) with
// stdout/stderr captured in files under `tmp`.
inline RunResult RunSegaudit(const std::string& args, const std::string& tmp) {
  std::string out = tmp + "/out.txt", err = tmp + "/err.txt";
  std::string cmd = absl::StrCat(SEGLEDGER_BINARY_DIR, "/tools/segaudit ", args,
                                 " >", out, " 2>", err, " </dev/null");
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  return r;
}

// A store's export plus cosigned checkpoints and peer evidence (bundles
// with every kind of file, for the round-trip and fault tests).
class WithExtras final : public tools::LogExportSource {
 public:
  WithExtras(const store::LogStore* s, std::vector<std::string> cosigned,
             std::vector<std::string> evidence)
      : inner_(s),
        cosigned_(std::move(cosigned)),
        evidence_(std::move(evidence)) {}
  std::string Origin() const override { return inner_.Origin(); }
  absl::StatusOr<std::vector<std::string>> Checkpoints() override {
    return inner_.Checkpoints();
  }
  absl::StatusOr<std::string> ReadHashTile(const TileId& t) override {
    return inner_.ReadHashTile(t);
  }
  absl::StatusOr<std::string> ReadEntryBundle(const TileId& t) override {
    return inner_.ReadEntryBundle(t);
  }
  absl::StatusOr<std::string> ReadSignatureBundle(const TileId& t) override {
    return inner_.ReadSignatureBundle(t);
  }
  std::vector<NoteVerifier> Verifiers() override { return inner_.Verifiers(); }
  absl::StatusOr<std::vector<std::string>> CosignedCheckpoints() override {
    return cosigned_;
  }
  absl::StatusOr<std::vector<std::string>> PeerEvidence() override {
    return evidence_;
  }

 private:
  tools::StoreExportSource inner_;
  std::vector<std::string> cosigned_, evidence_;
};

}  // namespace segledger::testing

#endif  // SEGLEDGER_TESTS_TOOLS_BUNDLE_TEST_UTIL_H_
