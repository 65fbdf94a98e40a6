// Private keys never leave their files (issue 10, "Authorisation and
// secrets"; docs/security.md): real segledgerd and segctl child processes
// - init, serve, appends, checkpoints, key rotation through AdminService,
// the admin calls' errors, key files that are damaged, unreadable or too
// open, key text given where a path belongs - and every byte they write to
// stdout and stderr (the node's JSON log, segctl's gRPC error messages) is
// searched for every representation of every private key involved: the
// raw seed, its hex (either case) and base64 (standard, URL-safe, with and
// without padding), the PKCS#8 DER and its base64 (the PEM body), and, for
// partial leaks, every 10-character window of the PEM body's seed part and
// every 16-character window of the seed's hex. Key files must be mode 0600 and
// refused when group or others may read them.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "tests/support/test_util.h"

extern char** environ;

namespace segledger::node {
namespace {

namespace fs = std::filesystem;
using ::segledger::testing::TempDir;

const std::string kBin = SEGLEDGER_BINARY_DIR;
const std::string kSegledgerd = kBin + "/node/segledgerd";
const std::string kSegctl = kBin + "/client/segctl";
const std::string kCertScript =
    std::string(SEGLEDGER_TESTDATA_DIR) + "/../../scripts/make-dev-certs.sh";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Mode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777)
                                      : -1;
}

// Every text form a private key could take in a log line or a message.
std::vector<std::string> Representations(absl::string_view seed,
                                         absl::string_view der) {
  std::vector<std::string> out;
  std::string hex = absl::BytesToHexString(seed);
  out.push_back(std::string(seed));
  out.push_back(std::string(der));
  out.push_back(hex);
  out.push_back(absl::AsciiStrToUpper(hex));
  out.push_back(hex.substr(0, 32));
  out.push_back(hex.substr(32));
  out.push_back(absl::BytesToHexString(der));
  std::string b64 = Base64Encode(seed);
  out.push_back(b64);
  out.push_back(std::string(absl::StripSuffix(b64, "=")));
  std::string url;
  absl::WebSafeBase64Escape(seed, &url);  // unpadded
  out.push_back(url);
  std::string pem = Base64Encode(der);
  out.push_back(pem);  // the PEM body
  // Partial leaks: every 10-character window of the PEM body past its
  // constant 21-character PKCS#8 prefix, every 16-character window of the
  // seed's hex.
  for (size_t i = 22; i + 10 <= pem.size(); ++i)
    out.push_back(pem.substr(i, 10));
  for (size_t i = 0; i + 16 <= hex.size(); ++i)
    out.push_back(hex.substr(i, 16));
  return out;
}

// The representations of the Ed25519 key in segledger key file text
// (ledger/store/key_file.h), or of the PKCS#8 key of a PEM file.
// Damaged text (`must_parse` false) may hold no decodable key: then only
// its PEM body is returned.
std::vector<std::string> KeySecrets(const std::string& text,
                                    bool must_parse = true) {
  std::string b64;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "-----BEGIN")) {
      in = true;
    } else if (absl::StartsWith(line, "-----END")) {
      in = false;
    } else if (in) {
      absl::StrAppend(&b64, line);
    }
  }
  absl::StatusOr<std::string> der = Base64Decode(b64);
  if (must_parse) {
    EXPECT_TRUE(der.ok()) << "no PEM key in the file";
  }
  std::vector<std::string> out;
  if (b64.size() >= 16) out.push_back(b64);
  if (!der.ok()) return out;
  // Ed25519 PKCS#8: 16-byte prefix, then the 32-byte seed. Other keys
  // (the TLS key, P-256 or RSA): the DER, its base64, and every 48-char
  // line of the PEM.
  if (der->size() == 48) {
    for (std::string& r : Representations(der->substr(16), *der)) {
      out.push_back(std::move(r));
    }
  } else {
    out.push_back(*der);
    for (size_t i = 0; i + 48 <= b64.size(); i += 48) {
      out.push_back(b64.substr(i, 48));
    }
  }
  return out;
}

struct Proc {
  int code = -1;
  std::string out, err;
};

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.Sub("data");
    Proc init = Run({kSegledgerd, "init", "--data", data_, "--origin",
                     "secrets.example/segledger", "--key-name",
                     "secrets.example/key-1"});
    ASSERT_EQ(init.code, 0) << init.err;
    key_ = data_ + "/keys/secrets.example%2Fkey-1.key";
    ASSERT_TRUE(fs::exists(key_));
    AddSecrets(ReadFile(key_));
  }

  void AddSecrets(const std::string& key_text, bool must_parse = true) {
    for (std::string& s : KeySecrets(key_text, must_parse)) {
      if (s.size() >= 10) secrets_.push_back(s);  // shorter: no key
    }
  }

  // Runs argv to completion; stdout and stderr kept for ExpectClean.
  Proc Run(const std::vector<std::string>& args) {
    pid_t pid = Spawn(args, tmp_.Sub("out"), tmp_.Sub("err"));
    Proc p;
    int st = 0;
    if (pid > 0 && waitpid(pid, &st, 0) == pid) {
      p.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    p.out = ReadFile(tmp_.Sub("out"));
    p.err = ReadFile(tmp_.Sub("err"));
    outputs_.push_back(absl::StrCat(args[0], " ", args[1], "\n", p.out, p.err));
    return p;
  }

  pid_t Spawn(const std::vector<std::string>& args, const std::string& out,
              const std::string& err) {
    std::vector<std::string> a = args;
    std::vector<char*> argv;
    for (std::string& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ),
              0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
  }

  // Starts `segledgerd serve` (insecure, metrics on) with `extra` flags;
  // returns its address, "" if it did not come up.
  std::string Serve(const std::vector<std::string>& extra = {}) {
    std::string ready = tmp_.Sub("ready");
    fs::remove(ready);
    std::vector<std::string> args = {
        kSegledgerd,   "serve",      "--data",       data_, "--listen",
        "127.0.0.1:0", "--insecure", "--ready-file", ready, "--metrics-listen",
        "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    node_ = Spawn(args, tmp_.Sub("node.out"), tmp_.Sub("node.err"));
    exit_code_ = -1;
    for (int i = 0; i < 3000; ++i) {
      std::string a = ReadFile(ready);
      if (!a.empty()) return std::string(absl::StripSuffix(a, "\n"));
      int st = 0;
      if (waitpid(node_, &st, WNOHANG) == node_) {  // refused to start
        exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        node_ = -1;
        outputs_.push_back(absl::StrCat("segledgerd serve (refused)\n",
                                        ReadFile(tmp_.Sub("node.out")),
                                        ReadFile(tmp_.Sub("node.err"))));
        return "";
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return "";
  }

  // SIGTERM, wait; the node's stdout and stderr join the outputs.
  int StopNode() {
    int st = 0;
    kill(node_, SIGTERM);
    waitpid(node_, &st, 0);
    node_ = -1;
    outputs_.push_back(absl::StrCat("segledgerd serve\n",
                                    ReadFile(tmp_.Sub("node.out")),
                                    ReadFile(tmp_.Sub("node.err"))));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  Proc Ctl(const std::string& address, std::vector<std::string> args) {
    std::vector<std::string> a = {kSegctl,      "--node",    address,
                                  "--insecure", "--timeout", "20"};
    a.insert(a.end(), args.begin(), args.end());
    return Run(a);
  }

  // No output so far holds any representation of any key seen.
  void ExpectClean() {
    ASSERT_FALSE(secrets_.empty());
    for (const std::string& out : outputs_) {
      // JSON strings may escape '/' and '+': search the unescaped text too.
      std::string plain = absl::StrReplaceAll(
          out, {{"\\/", "/"}, {"\\u002b", "+"}, {"\\u002B", "+"}});
      for (const std::string& s : secrets_) {
        EXPECT_FALSE(absl::StrContains(out, s) || absl::StrContains(plain, s))
            << "a private key (" << absl::CEscape(s).substr(0, 12)
            << "...) appears in the output of " << out.substr(0, 200);
      }
    }
  }

  TempDir tmp_;
  std::string data_, key_;
  std::vector<std::string> secrets_;
  std::vector<std::string> outputs_;  // every child's stdout + stderr
  pid_t node_ = -1;
  int exit_code_ = -1;  // of a serve that did not come up
};

// Three key registrations (core records every rule set accepts), as
// segctl append reads them (JSON lines).
std::string RecordsFile(const std::string& path) {
  std::ofstream f(path);
  for (int i = 0; i < 3; ++i) {
    f << "{\"requestId\":\"" << path << "-" << i
      << "\",\"actor\":{\"personId\":\"op-1\",\"printedName\":\"Op One\","
         "\"meaning\":\"SIGNATURE_MEANING_PERFORMED\"},\"record\":"
         "{\"keyRegistration\":{\"keyName\":\"device-"
      << i << "\",\"publicKey\":\""
      << Base64Encode(std::string(32, static_cast<char>('a' + i)))
      << "\",\"purpose\":\"scale\"}}}\n";
  }
  return path;
}

TEST_F(SecretsTest, ServingRotatingAndAdminErrorsNeverShowAKey) {
  EXPECT_EQ(Mode(key_), 0600);
  std::string addr = Serve();
  ASSERT_FALSE(addr.empty()) << ReadFile(tmp_.Sub("node.err"));
  EXPECT_EQ(Ctl(addr, {"append", RecordsFile(tmp_.Sub("r.jsonl"))}).code, 0);
  EXPECT_EQ(Ctl(addr, {"checkpoint-now"}).code, 0);
  Proc rot = Ctl(
      addr, {"rotate-key", "--name", "secrets.example/key-2", "--reason",
             "scheduled", "--person-id", "op-1", "--printed-name", "Op One"});
  EXPECT_EQ(rot.code, 0) << rot.err;
  const std::string key2 = data_ + "/keys/secrets.example%2Fkey-2.key";
  ASSERT_TRUE(fs::exists(key2));
  EXPECT_EQ(Mode(key2), 0600);
  EXPECT_EQ(Mode(key_), 0600);
  AddSecrets(ReadFile(key2));
  // Admin errors: the name exists, a name with a space, '+', a relative
  // backup directory, one that exists (the key directory).
  EXPECT_NE(Ctl(addr, {"rotate-key", "--name", "secrets.example/key-2",
                       "--person-id", "op-1", "--printed-name", "Op One"})
                .code,
            0);
  EXPECT_NE(Ctl(addr, {"rotate-key", "--name", "bad name", "--person-id",
                       "op-1", "--printed-name", "Op One"})
                .code,
            0);
  EXPECT_NE(Ctl(addr, {"rotate-key", "--name", "bad+name", "--person-id",
                       "op-1", "--printed-name", "Op One"})
                .code,
            0);
  EXPECT_NE(Ctl(addr, {"backup", "--dir", "relative"}).code, 0);
  EXPECT_NE(Ctl(addr, {"backup", "--dir", data_ + "/keys"}).code, 0);
  EXPECT_EQ(Ctl(addr, {"status"}).code, 0);
  EXPECT_EQ(Ctl(addr, {"entries", "--from", "0", "--to", "0"}).code, 0);
  EXPECT_EQ(Ctl(addr, {"append", RecordsFile(tmp_.Sub("r2.jsonl"))}).code, 0);
  EXPECT_EQ(StopNode(), 0);
  // Restarted with both keys.
  addr = Serve();
  ASSERT_FALSE(addr.empty()) << ReadFile(tmp_.Sub("node.err"));
  EXPECT_EQ(Ctl(addr, {"status"}).code, 0);
  EXPECT_EQ(StopNode(), 0);
  ExpectClean();
}

TEST_F(SecretsTest, BadKeyFilesAreRefusedWithoutShowingTheKey) {
  const std::string good = ReadFile(key_);
  std::string b64 = KeySecrets(good)[0];
  std::string name_line = good.substr(0, good.find('\n') + 1);
  auto pem = [&](const std::string& body) {
    return absl::StrCat(name_line, "-----BEGIN PRIVATE KEY-----\n", body,
                        "\n-----END PRIVATE KEY-----\n");
  };
  std::string flipped = b64;
  flipped[30] = flipped[30] == 'A' ? 'B' : 'A';
  std::string wrong_alg = b64;
  wrong_alg[15] = wrong_alg[15] == 'A' ? 'B' : 'A';  // in the DER prefix
  struct Case {
    const char* name;
    std::string text;  // empty: see `mode` / special handling
    int mode;
  };
  std::vector<Case> cases = {
      {"group readable", good, 0640},
      {"world readable", good, 0644},
      {"others read-only", good, 0604},
      {"group writable", good, 0620},
      {"truncated", good.substr(0, good.size() - 30), 0600},
      {"one base64 byte changed", pem(flipped), 0600},
      {"not an Ed25519 PKCS#8 key", pem(wrong_alg), 0600},
      {"seed with extra bytes", pem(Base64Encode(*Base64Decode(b64) + "xyz")),
       0600},
      {"no name line", good.substr(name_line.size()), 0600},
      {"no END line", good.substr(0, good.find("-----END")), 0600},
      {"empty", "", 0600},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove_all(key_);
    { std::ofstream(key_, std::ios::binary) << c.text; }
    ASSERT_EQ(chmod(key_.c_str(), c.mode), 0);
    AddSecrets(c.text, false);
    std::string addr = Serve();
    if (!addr.empty()) {
      ADD_FAILURE() << "served with a bad key file";
      StopNode();
      continue;
    }
    std::string err = ReadFile(tmp_.Sub("node.err"));
    EXPECT_GT(exit_code_, 0) << err;
    EXPECT_TRUE(absl::StrContains(err, "key")) << err;
    if (c.mode != 0600) {
      EXPECT_TRUE(absl::StrContains(err, "group or others") ||
                  absl::StrContains(err, "mode"))
          << err;
    }
  }
  // A directory where the key file belongs; a dangling symlink.
  fs::remove_all(key_);
  fs::create_directory(key_);
  EXPECT_TRUE(Serve().empty());
  EXPECT_GT(exit_code_, 0);
  fs::remove_all(key_);
  fs::create_symlink(tmp_.Sub("nowhere"), key_);
  EXPECT_TRUE(Serve().empty());
  EXPECT_GT(exit_code_, 0);
  // Restored: the good file serves again.
  fs::remove_all(key_);
  { std::ofstream(key_, std::ios::binary) << good; }
  chmod(key_.c_str(), 0600);
  std::string addr = Serve();
  EXPECT_FALSE(addr.empty()) << ReadFile(tmp_.Sub("node.err"));
  if (!addr.empty()) StopNode();
  ExpectClean();
}

// Operator mistakes that put key text where a path belongs: the key file
// as --config (with and without its BEGIN line), the TLS key's PEM text as
// --tls-key, the TLS key file as --tls-cert or --tls-ca.
TEST_F(SecretsTest, KeyTextWhereAPathBelongsIsNotEchoed) {
  const std::string certs = tmp_.Sub("certs");
  Proc c = Run({kCertScript, certs, "operator"});
  ASSERT_EQ(c.code, 0) << c.err;
  const std::string tls_key = certs + "/node.key";
  const std::string tls_text = ReadFile(tls_key);
  AddSecrets(tls_text);
  const std::string good = ReadFile(key_);
  std::string no_begin = tmp_.Sub("no-begin.key");
  std::ofstream(no_begin) << absl::StrReplaceAll(
      good, {{"-----BEGIN PRIVATE KEY-----\n", ""}});
  std::string body_first = tmp_.Sub("body-first.key");
  std::ofstream(body_first) << KeySecrets(good)[0] << "\n";
  const std::vector<std::vector<std::string>> runs = {
      {"--config", key_},    {"--config", no_begin},  {"--config", body_first},
      {"--config", tls_key}, {"--tls-key", tls_text}, {"--tls-cert", tls_key},
      {"--tls-ca", tls_key},
  };
  for (const std::vector<std::string>& extra : runs) {
    SCOPED_TRACE(extra[0] + " " + extra[1].substr(0, 40));
    std::vector<std::string> args = {kSegledgerd, "serve",    "--data",
                                     data_,       "--listen", "127.0.0.1:0"};
    if (extra[0] != "--config") {
      // TLS: every file given, one of them wrong.
      for (const char* f : {"--tls-cert", "--tls-key", "--tls-ca"}) {
        if (extra[0] == f) continue;
        args.push_back(f);
        args.push_back(std::string(f) == "--tls-cert"  ? certs + "/node.pem"
                       : std::string(f) == "--tls-key" ? tls_key
                                                       : certs + "/ca.pem");
      }
    }
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--ready-file");
    args.push_back(tmp_.Sub("ready2"));
    // Expected to fail at start-up; bounded by its own exit.
    pid_t pid = Spawn(args, tmp_.Sub("o"), tmp_.Sub("e"));
    int st = 0;
    for (int i = 0; i < 3000; ++i) {
      if (waitpid(pid, &st, WNOHANG) == pid) break;
      if (!ReadFile(tmp_.Sub("ready2")).empty()) {
        kill(pid, SIGTERM);  // it served (a TLS file it accepts): fine
        waitpid(pid, &st, 0);
        fs::remove(tmp_.Sub("ready2"));
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    outputs_.push_back(absl::StrCat(extra[0], "\n", ReadFile(tmp_.Sub("o")),
                                    ReadFile(tmp_.Sub("e"))));
  }
  ExpectClean();
}

}  // namespace
}  // namespace segledger::node
