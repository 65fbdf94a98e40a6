// segaudit as a child process: export from a stopped node's data directory,
// verify (exit 0), damaged copies (exit 1 with the right finding), HTTP.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "ledger/tiles.h"
#include "ledger/verifier.h"
#include "tests/support/test_util.h"
#include "tests/tools/bundle_test_util.h"

namespace segledger::tools {
namespace {

namespace fs = std::filesystem;
using ::segledger::testing::MakeTestLog;
using ::segledger::testing::ReadAll;
using ::segledger::testing::RunResult;
using ::segledger::testing::RunSegaudit;
using ::segledger::testing::TempDir;
using ::segledger::testing::TestLog;

constexpr char kOrigin[] = "cmo-up.example/segledger";

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// One exported bundle shared by the tests of this file (built once).
class BundleCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    auto log = MakeTestLog(tmp_->Sub("node"), kOrigin, 700, 50, 300);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE(log->store->Close().ok());
    log->store.reset();  // releases the RocksDB lock: the node is stopped
    RunResult r = RunSegaudit(absl::StrCat("export --data ", tmp_->Sub("node"),
                                           " --out ", tmp_->Sub("bundle")),
                              tmp_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete tmp_; }

  // A fresh copy of the bundle with `damage` applied to its log directory.
  std::string DamagedCopy(
      const std::string& name,
      const std::function<void(const std::string&)>& damage) {
    std::string copy = tmp_->Sub(name);
    fs::copy(tmp_->Sub("bundle"), copy, fs::copy_options::recursive);
    damage(copy + "/" + LogDirName(kOrigin));
    return copy;
  }

  // A copy whose MANIFEST log line lists `sizes` after the log's own.
  std::string CopyClaimingSizes(const std::string& name,
                                absl::string_view sizes) {
    std::string copy = DamagedCopy(name, [](const std::string&) {});
    std::string m = ReadAll(copy + "/MANIFEST");
    size_t eol = m.find('\n', m.find("\nlog ") + 1);
    WriteAll(copy + "/MANIFEST",
             absl::StrCat(m.substr(0, eol), " ", sizes, m.substr(eol)));
    return copy;
  }

  // Verifies `dir` as JSON; expects exit 1 and a finding named `check`.
  void ExpectFinding(const std::string& dir, absl::string_view check) {
    RunResult r =
        RunSegaudit(absl::StrCat("verify --format=json ", dir), tmp_->path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(
        absl::StrContains(r.out, absl::StrCat("\"check\":\"", check, "\"")))
        << "want " << check << " in " << r.out;
    EXPECT_TRUE(
        absl::StrContains(r.out, absl::StrCat("\"origin\":\"", kOrigin)))
        << r.out;
  }

  static TempDir* tmp_;
};
TempDir* BundleCliTest::tmp_ = nullptr;

void FlipByte(const std::string& path, size_t from_end) {
  std::string data = ReadAll(path);
  ASSERT_GT(data.size(), from_end);
  data[data.size() - 1 - from_end] ^= 0x01;
  WriteAll(path, data);
}

TEST_F(BundleCliTest, VerifiesCleanBundle) {
  RunResult r =
      RunSegaudit(absl::StrCat("verify ", tmp_->Sub("bundle")), tmp_->path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "size 700")) << r.out;
  r = RunSegaudit(absl::StrCat("verify --format=json ", tmp_->Sub("bundle")),
                  tmp_->path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"ok\":true")) << r.out;
}

// Usage errors name what is wrong: the missing argument by its name, a
// misspelt command with the commands there are.
TEST_F(BundleCliTest, UsageErrorsNameTheProblem) {
  RunResult r = RunSegaudit("verify", tmp_->path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "BUNDLE is required")) << r.err;
  r = RunSegaudit("verfy " + tmp_->Sub("bundle"), tmp_->path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(
      r.err, "unknown command \"verfy\" (commands: verify, verify-proof"))
      << r.err;
}

TEST_F(BundleCliTest, OneByteInEntryBundle) {
  ExpectFinding(DamagedCopy("e",
                            [](const std::string& d) {
                              FlipByte(d + "/tile/entries/001", 10);
                            }),
                FindingKindName(FindingKind::kBrokenChain));
  ExpectFinding(tmp_->Sub("e"), "tile_mismatch");
}

TEST_F(BundleCliTest, OneByteInTile) {
  ExpectFinding(
      DamagedCopy(
          "t", [](const std::string& d) { FlipByte(d + "/tile/0/000", 100); }),
      "tile_mismatch");
}

TEST_F(BundleCliTest, OneByteInSignature) {
  ExpectFinding(DamagedCopy("s",
                            [](const std::string& d) {
                              FlipByte(d + "/signatures/000", 5);
                            }),
                FindingKindName(FindingKind::kBadSignature));
}

TEST_F(BundleCliTest, OneByteInCheckpoint) {
  ExpectFinding(DamagedCopy("c",
                            [](const std::string& d) {
                              // Inside the signature's base64 (before the final
                              // '\n').
                              std::string cp = ReadAll(d + "/checkpoint");
                              size_t pos = cp.size() - 10;
                              cp[pos] = cp[pos] == 'A' ? 'B' : 'A';
                              WriteAll(d + "/checkpoint", cp);
                            }),
                FindingKindName(FindingKind::kBadCheckpoint));
}

TEST_F(BundleCliTest, MissingTile) {
  ExpectFinding(
      DamagedCopy("m",
                  [](const std::string& d) { fs::remove(d + "/tile/0/001"); }),
      "missing_file");
}

TEST_F(BundleCliTest, ReorderedEntry) {
  ExpectFinding(
      DamagedCopy(
          "r",
          [](const std::string& d) {
            // Swap entries 0 and 1 of the first bundle (and their
            // signatures, so only order is wrong).
            std::string e = ReadAll(d + "/tile/entries/000");
            size_t l0 = (uint8_t(e[0]) << 8) | uint8_t(e[1]);
            size_t l1 = (uint8_t(e[2 + l0]) << 8) | uint8_t(e[3 + l0]);
            std::string a = e.substr(0, 2 + l0);
            std::string b = e.substr(2 + l0, 2 + l1);
            WriteAll(d + "/tile/entries/000", b + a + e.substr(4 + l0 + l1));
            std::string s = ReadAll(d + "/signatures/000");
            WriteAll(d + "/signatures/000",
                     s.substr(64, 64) + s.substr(0, 64) + s.substr(128));
          }),
      FindingKindName(FindingKind::kWrongIndex));
  ExpectFinding(tmp_->Sub("r"), FindingKindName(FindingKind::kBrokenChain));
}

TEST_F(BundleCliTest, TruncatedBundle) {
  ExpectFinding(DamagedCopy("x",
                            [](const std::string& d) {
                              std::string p = d + "/tile/entries/002.p/188";
                              std::string e = ReadAll(p);
                              WriteAll(p, e.substr(0, e.size() / 2));
                            }),
                "malformed_bundle");
  ExpectFinding(DamagedCopy("x2",
                            [](const std::string& d) {
                              fs::remove_all(d + "/signatures");
                            }),
                "missing_file");
}

TEST_F(BundleCliTest, ManifestClaimsHugeOrMissingSizes) {
  // Unsigned claims never cause allocations or endless fetching.
  std::string copy = CopyClaimingSizes("big", "900 5000000000000");
  ExpectFinding(copy, "checkpoint_file");
  ExpectFinding(copy, "missing_file");
  ExpectFinding(copy, FindingKindName(FindingKind::kMissingEntries));
}

TEST_F(BundleCliTest, ManifestClaimsASizeBelowTheCapWithoutItsEntries) {
  // Found by fuzz_bundle (2026-12-06): a claimed size under the 2^32 cap
  // made segaudit size its per-entry arrays by the claim (4,181,111,111
  // leaf hashes: 134 GB) before loading a tile. Memory now follows the
  // tiles the bundle holds, and the walks stop with the missing files.
  std::string copy = CopyClaimingSizes("below-cap", "4181111111");
  ExpectFinding(copy, "checkpoint_file");
  ExpectFinding(copy, "missing_file");
}

// Every file under `dir` (relative path -> contents).
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      files[fs::relative(e.path(), dir).string()] = ReadAll(e.path().string());
    }
  }
  return files;
}

// Regression: export opened the stopped node's RocksDB read-write, so
// opening it (recovery, a new MANIFEST and OPTIONS file, flushing the
// WAL) changed the node's db/ although the docs say read-only. It is
// opened with RocksDB's read-only mode now: not a byte of db/ changes, even
// with a WAL left by a node that never flushed it (killed).
TEST_F(BundleCliTest, ExportLeavesTheNodesStoreUntouched) {
  TempDir tmp;
  {
    auto log = MakeTestLog(tmp.Sub("node"), kOrigin, 40, 10, 20);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE(log->store->Close().ok());
  }  // no flush at close: the last records are only in the WAL
  const std::string db = tmp.Sub("node/db");
  const std::map<std::string, std::string> before = Snapshot(db);
  ASSERT_FALSE(before.empty());
  RunResult r = RunSegaudit(absl::StrCat("export --data ", tmp.Sub("node"),
                                         " --out ", tmp.Sub("bundle")),
                            tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::map<std::string, std::string> after = Snapshot(db);
  std::vector<std::string> changed;
  for (const auto& [name, data] : after) {
    auto it = before.find(name);
    if (it == before.end() || it->second != data) changed.push_back(name);
  }
  for (const auto& [name, data] : before) {
    if (after.count(name) == 0) changed.push_back(name + " (removed)");
  }
  EXPECT_TRUE(changed.empty()) << absl::StrJoin(changed, ", ");
  // What was exported is the whole log.
  r = RunSegaudit(absl::StrCat("verify --format=json ", tmp.Sub("bundle")),
                  tmp.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"entries_verified\":40")) << r.out;
}

TEST_F(BundleCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunSegaudit("verify", tmp_->path()).exit_code, 2);
  EXPECT_EQ(
      RunSegaudit(absl::StrCat("verify ", tmp_->Sub("nope")), tmp_->path())
          .exit_code,
      2);
  EXPECT_EQ(
      RunSegaudit(absl::StrCat("verify ", tmp_->Sub("node")), tmp_->path())
          .exit_code,
      2);
  EXPECT_EQ(RunSegaudit("verify ftp://example.org/b", tmp_->path()).exit_code,
            2);
}

// Serves `dir` with python3 -m http.server on 127.0.0.1, port 0.
class HttpServer {
 public:
  explicit HttpServer(const std::string& dir) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 2);
      ::close(fds[0]);
      ::execl("/usr/bin/python3", "python3", "-u", "-m", "http.server", "0",
              "--bind", "127.0.0.1", "--directory", dir.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    std::string line;
    char c;
    while (line.size() < 512 && ::read(fds[0], &c, 1) == 1 && c != '\n') {
      line.push_back(c);
    }
    ::close(fds[0]);
    size_t p = line.find(" port ");
    if (p != std::string::npos) port_ = std::atoi(line.c_str() + p + 6);
  }
  ~HttpServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(BundleCliTest, VerifiesOverHttp) {
  HttpServer server(tmp_->path());
  ASSERT_GT(server.port(), 0);
  std::string url =
      absl::StrCat("http://127.0.0.1:", server.port(), "/bundle/");
  RunResult r =
      RunSegaudit(absl::StrCat("verify --format=json ", url), tmp_->path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"entries_verified\":700")) << r.out;
  // The damaged copy "t" (made by OneByteInTile if it ran) or a new one.
  std::string damaged = tmp_->Sub("h");
  fs::copy(tmp_->Sub("bundle"), damaged, fs::copy_options::recursive);
  FlipByte(damaged + "/" + LogDirName(kOrigin) + "/signatures/001", 3);
  r = RunSegaudit(absl::StrCat("verify --format=json http://127.0.0.1:",
                               server.port(), "/h"),
                  tmp_->path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "bad_signature")) << r.out;
  // Nothing listens on the server's port after it stops: exit 3.
}

TEST_F(BundleCliTest, UnreachableServerExitsThree) {
  int port;
  {
    HttpServer server(tmp_->path());
    port = server.port();
  }
  ASSERT_GT(port, 0);
  RunResult r = RunSegaudit(
      absl::StrCat("verify http://127.0.0.1:", port, "/bundle"), tmp_->path());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
}

}  // namespace
}  // namespace segledger::tools
