// segledgerd and segctl as child processes (DESIGN.md "Command-line
// contract"): init/serve/--ready-file, every segctl command and its exit
// codes, and durability of acknowledged appends across SIGTERM and SIGKILL
// under load.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "client/segctl_commands.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/tiles.h"
#include "tests/node/node_test_util.h"
#include "tests/support/test_util.h"

extern char** environ;

namespace segledger::client {
namespace {

using ::segledger::testing::TempDir;
using ::segledger::testing::TestRecord;
using ::testing::HasSubstr;

const std::string kBin = SEGLEDGER_BINARY_DIR;
const std::string kSegledgerd = kBin + "/node/segledgerd";
const std::string kSegctl = kBin + "/client/segctl";
const std::string kSegaudit = kBin + "/tools/segaudit";

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command; captures stdout, stderr and the exit code.
Result RunCmd(const std::string& cmd, const std::string& errfile) {
  Result r;
  FILE* p = popen((cmd + " 2>" + errfile).c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream e(errfile);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A segledgerd child process serving DIR on 127.0.0.1:0 (insecure).
class NodeProcess {
 public:
  NodeProcess(const TempDir& tmp, const std::string& data)
      : ready_(tmp.Sub(absl::StrCat("ready-", counter_++))),
        log_(ready_ + ".log") {
    std::vector<std::string> args = {
        kSegledgerd,   "serve",      "--data",       data,  "--listen",
        "127.0.0.1:0", "--insecure", "--ready-file", ready_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ),
              0);
    posix_spawn_file_actions_destroy(&fa);
    // Bounded wait for the ready file (written atomically once serving).
    for (int i = 0; i < 3000 && address_.empty(); ++i) {
      std::string a = ReadFile(ready_);
      if (!a.empty()) {
        address_ = std::string(absl::StripSuffix(a, "\n"));
      } else {
        absl::SleepFor(absl::Milliseconds(10));
      }
    }
    EXPECT_FALSE(address_.empty()) << ReadFile(log_);
  }
  ~NodeProcess() {
    if (pid_ > 0) Stop(SIGKILL);
  }
  // Sends `sig` and returns the exit status.
  int Stop(int sig) {
    kill(pid_, sig);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  const std::string& address() const { return address_; }
  std::string log() const { return ReadFile(log_); }

 private:
  static inline int counter_ = 0;
  std::string ready_, log_, address_;
  pid_t pid_ = -1;
};

class SegctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.Sub("data");
    Result init =
        RunCmd(absl::StrCat(kSegledgerd, " init --data ", data_, " --origin ",
                            segledger::testing::kTestOrigin, " --key-name ",
                            segledger::testing::kTestKeyName),
               tmp_.Sub("init.err"));
    ASSERT_EQ(init.code, 0) << init.err;
    vkey_ = std::string(absl::StripSuffix(init.out, "\n"));
    struct stat st;
    ASSERT_EQ(
        stat((data_ + "/keys/test.example%2Fsegledger-key-1.key").c_str(), &st),
        0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }

  Result Ctl(const NodeProcess& node, const std::string& args) {
    return RunCmd(
        absl::StrCat(kSegctl, " --node ", node.address(), " --insecure ", args),
        tmp_.Sub("ctl.err"));
  }

  std::unique_ptr<Client> Connect(const NodeProcess& node) {
    ClientOptions o;
    o.target = node.address();
    o.insecure = true;
    o.max_attempts = 1;
    o.timeout = absl::Seconds(10);
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }

  TempDir tmp_;
  std::string data_;
  std::string vkey_;
};

std::vector<std::string> Lines(const std::string& s) {
  return absl::StrSplit(s, '\n', absl::SkipEmpty());
}

TEST_F(SegctlTest, EndToEndWithExitCodes) {
  NodeProcess node(tmp_, data_);
  ASSERT_FALSE(node.address().empty());
  // append: JSON lines, one output line per record.
  std::string records = tmp_.Sub("records.jsonl");
  {
    std::ofstream f(records);
    for (int i = 0; i < 3; ++i) {
      std::string json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                      TestRecord(absl::StrCat("e2e-", i), i), &json)
                      .ok());
      f << json << "\n\n";
    }
  }
  Result app = Ctl(node, "append " + records);
  ASSERT_EQ(app.code, 0) << app.err;
  std::vector<std::string> lines = Lines(app.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr("{\"index\":0,\"leaf_hash\":\""));
  EXPECT_THAT(lines[2], HasSubstr("{\"index\":2,\"leaf_hash\":\""));
  // stdin, replayed: the same output.
  Result again = Ctl(node, "append - < " + records);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, app.out);

  ASSERT_EQ(Ctl(node, "checkpoint-now").code, 0);
  Result cp = Ctl(node, "checkpoint");
  ASSERT_EQ(cp.code, 0) << cp.err;
  SEG_ASSERT_OK_AND_ASSIGN(NoteVerifier v,
                           NoteVerifier::FromVerifierKey(vkey_));
  SEG_ASSERT_OK_AND_ASSIGN(SignedCheckpoint signed_cp,
                           OpenCheckpoint(cp.out, {v}, ""));
  EXPECT_EQ(signed_cp.checkpoint.size, 3u);
  EXPECT_EQ(signed_cp.note, cp.out);

  Result entries = Ctl(node, "entries --from 1 --to 3");
  ASSERT_EQ(entries.code, 0) << entries.err;
  lines = Lines(entries.out);
  ASSERT_EQ(lines.size(), 2u);
  for (const char* key : {"\"index\":1", "\"leaf_hash\"", "\"body\"",
                          "\"signature\"", "\"entry\":{", "e2e-1"}) {
    EXPECT_THAT(lines[0], HasSubstr(key));
  }

  Result inc = Ctl(node, "prove inclusion 1 --size 3");
  ASSERT_EQ(inc.code, 0) << inc.err;
  EXPECT_THAT(inc.out,
              HasSubstr("{\"index\":1,\"tree_size\":3,\"leaf_hash\":\""));
  // Check the proof with the checkpoint's root.
  auto client = Connect(node);
  SEG_ASSERT_OK_AND_ASSIGN(auto p, client->InclusionProof(1, 3));
  std::vector<Hash> proof;
  std::string expect = "\"proof\":[";
  for (size_t i = 0; i < size_t(p.proof_size()); ++i) {
    proof.push_back(*HashFromBytes(p.proof(i)));
    absl::StrAppend(&expect, i ? "," : "", "\"", Base64Encode(p.proof(i)),
                    "\"");
  }
  EXPECT_THAT(inc.out, HasSubstr(expect + "]}"));
  SEG_EXPECT_OK(VerifyInclusion(1, 3, *HashFromBytes(p.leaf_hash()), proof,
                                signed_cp.checkpoint.root));
  Result con = Ctl(node, "prove consistency 1 --size 3");
  ASSERT_EQ(con.code, 0) << con.err;
  EXPECT_THAT(con.out,
              HasSubstr("{\"old_size\":1,\"tree_size\":3,\"proof\":["));
  Result st = Ctl(node, "status");
  EXPECT_EQ(st.code, 0);
  EXPECT_THAT(st.out, HasSubstr("\"size\":\"3\""));
  // Empty and zero fields are printed too (a script reads 0, not nothing).
  EXPECT_THAT(st.out, HasSubstr("\"peers\":[]"));
  Result text = Ctl(node, "--format=text prove inclusion 0 --size 3");
  EXPECT_EQ(text.code, 0);
  EXPECT_THAT(text.out, HasSubstr("inclusion of 0 in 3"));

  // Exit codes: 2 for input and usage errors, 3 when unreachable.
  std::string bad = tmp_.Sub("bad.jsonl");
  std::ofstream(bad) << "{\"request_id\": 5, \"nonsense\": }\n";
  Result r = Ctl(node, "append " + bad);
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 1"));
  EXPECT_EQ(Lines(r.err).size(), 1u);
  r = Ctl(node, "entries --from 0 --to 99");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("to"));
  r = Ctl(node, "prove inclusion 7 --size 3");
  EXPECT_EQ(r.code, 2);
  r = RunCmd(kSegctl + " checkpoint", tmp_.Sub("x.err"));  // no --node
  EXPECT_EQ(r.code, 2);
  // A misspelt command is named, with the commands there are.
  r = RunCmd(kSegctl + " --node 127.0.0.1:1 --insecure chekpoint",
             tmp_.Sub("x.err"));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"chekpoint\" (commands: "
                               "append, checkpoint,"));
  EXPECT_EQ(Lines(r.err).size(), 1u);
  r = RunCmd(kSegctl + " --node 127.0.0.1:1 --insecure prove inclsion 1",
             tmp_.Sub("x.err"));
  EXPECT_THAT(r.err, HasSubstr("unknown command \"inclsion\" (commands: "
                               "inclusion, consistency)"));
  r = RunCmd(kSegctl + " --node 127.0.0.1:1 --insecure --timeout 2 checkpoint",
             tmp_.Sub("x.err"));
  EXPECT_EQ(r.code, 3) << r.err;
  r = Ctl(node, "append " + tmp_.Sub("missing.jsonl"));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(node.Stop(SIGTERM), 0) << node.log();
}

// Regression: a record refused in the middle of the file (the node checks
// and appends each record on its own) made segctl stop printing, so the
// records after it were appended but never reported. Every record's outcome
// is reported now: an ack line on stdout per appended record, in file
// order, and one stderr line per refused record naming its line.
TEST_F(SegctlTest, AppendReportsEveryRecordAfterARefusedOne) {
  NodeProcess node(tmp_, data_);
  ASSERT_FALSE(node.address().empty());
  auto json = [](const v1::AppendRecordRequest& r) {
    std::string s;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(r, &s).ok());
    return s;
  };
  v1::AppendRecordRequest no_actor = TestRecord("mid-no-actor", 2);
  no_actor.clear_actor();
  // Passes the node's field checks; refused by the store (its body is over
  // 65,535 bytes), so after it was submitted.
  v1::AppendRecordRequest too_big = TestRecord("mid-too-big", 4);
  too_big.mutable_record()->mutable_key_registration()->set_purpose(
      std::string(70000, 'x'));
  std::string records = tmp_.Sub("mid.jsonl");
  {
    std::ofstream f(records);
    f << json(TestRecord("mid-0", 0)) << "\n"    // line 1
      << json(TestRecord("mid-1", 1)) << "\n\n"  // line 2
      << json(no_actor) << "\n"                  // line 4
      << json(TestRecord("mid-3", 3)) << "\n"    // line 5
      << json(too_big) << "\n"                   // line 6
      << json(TestRecord("mid-5", 5)) << "\n";   // line 7
  }
  Result r = Ctl(node, "append " + records);
  EXPECT_EQ(r.code, 2) << r.err;  // INVALID_ARGUMENT: input error
  std::vector<std::string> out = Lines(r.out);
  ASSERT_EQ(out.size(), 4u) << r.out << r.err;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_THAT(out[i],
                HasSubstr(absl::StrCat("{\"index\":", i, ",\"leaf_hash\":\"")));
  }
  std::vector<std::string> err = Lines(r.err);
  ASSERT_EQ(err.size(), 2u) << r.err;
  EXPECT_THAT(err[0], HasSubstr("line 4: "));
  EXPECT_THAT(err[0], HasSubstr("actor"));
  EXPECT_THAT(err[1], HasSubstr("line 6: "));
  EXPECT_THAT(err[1], HasSubstr("65535"));
  // What was reported is what the node holds.
  auto c = Connect(node);
  SEG_ASSERT_OK_AND_ASSIGN(v1::StatusResponse st, c->GetStatus());
  EXPECT_EQ(st.size(), 4u);
  // A file with no refusal still exits 0 (a replay of the same records).
  std::string good = tmp_.Sub("good.jsonl");
  std::ofstream(good) << json(TestRecord("mid-3", 3)) << "\n";
  Result ok = Ctl(node, "append " + good);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, out[2] + "\n");
  // A line that is not JSON still stops segctl before anything is sent.
  std::string bad = tmp_.Sub("bad-json.jsonl");
  std::ofstream(bad) << json(TestRecord("mid-new", 9)) << "\n{nope\n";
  Result rejected = Ctl(node, "append " + bad);
  EXPECT_EQ(rejected.code, 2);
  EXPECT_EQ(rejected.out, "");
  EXPECT_THAT(rejected.err, HasSubstr("line 2: "));
  SEG_ASSERT_OK_AND_ASSIGN(st, c->GetStatus());
  EXPECT_EQ(st.size(), 4u);
  c.reset();
  EXPECT_EQ(node.Stop(SIGTERM), 0) << node.log();
}

// Regression: `segledgerd serve` failing to start printed its JSON error
// log line, then the same message again as "segledgerd: <msg>" (and an
// info line about closing the store it had opened). A failed start is now
// one JSON line on stderr (docs/operations.md: the log is one JSON object
// per line) naming the problem, with the exit code of main.cc.
TEST_F(SegctlTest, ServeFailingToStartPrintsOneLine) {
  std::string bad_role = tmp_.Sub("bad-role.textproto");
  std::ofstream(bad_role)
      << "principals { match: \"CN=x\" party: \"p\" role: \"wizard\" }\n";
  struct Case {
    std::string args;
    int code;
    const char* says;
  };
  // Ports taken by listening sockets, one of them with SO_REUSEPORT (as
  // another gRPC server's would have by default): segledgerd must not share
  // a port with another node, which would take half its connections.
  auto listen_on_free_port = [](bool reuse_port, int* fd) {
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    if (*fd < 0) return std::string();
    int one = 1;
    if (reuse_port)
      setsockopt(*fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(*fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(*fd, 1) != 0 ||
        getsockname(*fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return std::string();
    }
    return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  };
  int busy = -1;
  int shared = -1;
  const std::string taken = listen_on_free_port(false, &busy);
  const std::string taken_reusable = listen_on_free_port(true, &shared);
  ASSERT_FALSE(taken.empty());
  ASSERT_FALSE(taken_reusable.empty());
  const std::string any = " --listen 127.0.0.1:0";
  const std::vector<Case> cases = {
      {"--data " + data_ + " --config " + bad_role + any, 2,
       "principals[0].role"},
      {"--data " + data_ + " --config " + tmp_.Sub("none.textproto") + any, 2,
       "none.textproto"},
      // A wrong --data is an input error; so is an address that is not one.
      {"--data " + tmp_.Sub("no-data") + any, 2, "segledgerd init"},
      {"--data " + data_ + " --listen foo", 2, "listen: \\\"foo\\\" is not"},
      {"--data " + data_ + " --listen 127.0.0.1:70000", 2, "HOST:PORT"},
      {"--data " + data_ + any + " --metrics-listen x", 2, "metrics_listen"},
      // A good address it cannot bind: cannot serve, with gRPC's reason in
      // the same line rather than a raw gRPC log line before it.
      {"--data " + data_ + " --listen " + taken, 3, "cannot serve on"},
      {"--data " + data_ + " --listen " + taken_reusable, 3, "cannot serve on"},
      // Plaintext, every caller an operator: loopback only.
      {"--data " + data_ + " --listen 0.0.0.0:0", 2, "loopback address"},
  };
  for (const Case& tc : cases) {
    Result r =
        // A node that serves when it should not is stopped (exit 124).
        RunCmd(absl::StrCat("timeout 30 ", kSegledgerd, " serve ", tc.args,
                            " --insecure"),
               tmp_.Sub("serve.err"));
    EXPECT_EQ(r.code, tc.code) << tc.args << ": " << r.err;
    std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << tc.args << ": " << r.err;
    EXPECT_THAT(lines[0], ::testing::StartsWith("{\"ts\":"));
    EXPECT_THAT(lines[0], HasSubstr("\"level\":\"error\""));
    EXPECT_THAT(lines[0], HasSubstr(tc.says));
  }
  close(busy);
  close(shared);
  // A config file cannot turn plaintext on by itself: it takes the flag.
  std::string insecure_file = tmp_.Sub("insecure.textproto");
  std::ofstream(insecure_file) << "insecure: true\n";
  Result r =
      RunCmd(absl::StrCat("timeout 30 ", kSegledgerd, " serve --data ", data_,
                          " --config ", insecure_file, " --listen 127.0.0.1:0"),
             tmp_.Sub("serve.err"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("needs --insecure on the command line"));
}

// DESIGN.md's exit codes: 2 usage or input error, 3 node unreachable or
// refused. A node that cannot do what was asked (a full disk, a write
// that may be durable, an internal error) is not an input error: scripts
// retry those with the same request ids.
TEST(ExitCodeTest, InputErrorsAre2AndNodeFailuresAre3) {
  for (absl::StatusCode c :
       {absl::StatusCode::kInvalidArgument,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kOutOfRange,
        absl::StatusCode::kNotFound, absl::StatusCode::kAlreadyExists}) {
    EXPECT_EQ(ExitCodeFor(absl::Status(c, "x")), 2) << c;
  }
  for (absl::StatusCode c :
       {absl::StatusCode::kUnavailable, absl::StatusCode::kDeadlineExceeded,
        absl::StatusCode::kUnauthenticated, absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kResourceExhausted, absl::StatusCode::kUnknown,
        absl::StatusCode::kInternal, absl::StatusCode::kDataLoss,
        absl::StatusCode::kAborted, absl::StatusCode::kCancelled}) {
    EXPECT_EQ(ExitCodeFor(absl::Status(c, "x")), 3) << c;
  }
}

// `segctl export`: the bundle of a live node's log (300 entries: a full and
// a partial tile) verifies offline with segaudit; the target must not exist.
TEST_F(SegctlTest, ExportWritesABundleThatVerifies) {
  NodeProcess node(tmp_, data_);
  ASSERT_FALSE(node.address().empty());
  std::string records = tmp_.Sub("export.jsonl");
  {
    std::ofstream f(records);
    for (int i = 0; i < 300; ++i) {
      std::string json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                      TestRecord(absl::StrCat("exp-", i), i), &json)
                      .ok());
      f << json << "\n";
    }
  }
  Result app = Ctl(node, "append " + records);
  ASSERT_EQ(app.code, 0) << app.err;
  ASSERT_EQ(Ctl(node, "checkpoint-now").code, 0);
  Result cp = Ctl(node, "checkpoint");
  ASSERT_EQ(cp.code, 0) << cp.err;

  std::string out = tmp_.Sub("bundle");
  Result ex = Ctl(node, "export --out " + out);
  ASSERT_EQ(ex.code, 0) << ex.err;
  EXPECT_THAT(ex.out, HasSubstr("\"size\":300,"));
  std::string log_dir = out + "/" + LogDirName(segledger::testing::kTestOrigin);
  EXPECT_EQ(ReadFile(log_dir + "/checkpoint"), cp.out);
  EXPECT_EQ(ReadFile(out + "/keys"), vkey_ + "\n");
  struct stat st;
  EXPECT_EQ(stat((log_dir + "/tile/entries/001.p/44").c_str(), &st), 0);
  EXPECT_EQ(stat((log_dir + "/signatures/000").c_str(), &st), 0);

  Result ver = RunCmd(absl::StrCat(kSegaudit, " verify ", out, " --key ", vkey_,
                                   " --no-progress"),
                      tmp_.Sub("verify.err"));
  EXPECT_EQ(ver.code, 0) << ver.out << ver.err;

  // One entry's C2SP tlog-proof file verifies offline; a flipped byte of
  // its signed checkpoint does not (exit 1).
  std::string proof = tmp_.Sub("entry-7.proof");
  Result pr = Ctl(node, "prove inclusion 7 --proof-file " + proof);
  ASSERT_EQ(pr.code, 0) << pr.err;
  Result vp =
      RunCmd(absl::StrCat(kSegaudit, " verify-proof ", proof, " --key ", vkey_),
             tmp_.Sub("vp.err"));
  EXPECT_EQ(vp.code, 0) << vp.out << vp.err;
  std::string text = ReadFile(proof);
  ASSERT_FALSE(text.empty());
  // Inside the checkpoint's signature line: another base64 character, so
  // the note still parses and only the signature is wrong (a flipped bit
  // could turn '+' or '/' into a character base64 refuses: exit 2).
  char& c = text[text.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  {
    std::ofstream f(proof, std::ios::binary | std::ios::trunc);
    f << text;
  }
  Result bad =
      RunCmd(absl::StrCat(kSegaudit, " verify-proof ", proof, " --key ", vkey_),
             tmp_.Sub("vp.err"));
  EXPECT_EQ(bad.code, 1) << bad.out << bad.err;

  // An existing target is refused (exit 2, one line), and left untouched.
  Result again = Ctl(node, "export --out " + out);
  EXPECT_EQ(again.code, 2) << again.err;
  EXPECT_EQ(Lines(again.err).size(), 1u) << again.err;
  EXPECT_EQ(ReadFile(log_dir + "/checkpoint"), cp.out);
  Result usage = Ctl(node, "export");  // --out is required
  EXPECT_EQ(usage.code, 2);
  EXPECT_EQ(node.Stop(SIGTERM), 0) << node.log();
}

// An in-process stand-in for a node that serves recorded (and possibly
// altered) status and entries: what `segctl export` must refuse to write.
class ReplayAdmin final : public v1::AdminService::Service {
 public:
  explicit ReplayAdmin(v1::StatusResponse s) : status_(std::move(s)) {}
  grpc::Status GetStatus(grpc::ServerContext*, const v1::StatusRequest*,
                         v1::StatusResponse* out) override {
    *out = status_;
    return grpc::Status::OK;
  }

 private:
  v1::StatusResponse status_;
};
class ReplayRead final : public v1::ReadService::Service {
 public:
  explicit ReplayRead(std::vector<v1::EntryResponse> e)
      : entries_(std::move(e)) {}
  grpc::Status GetEntries(grpc::ServerContext*,
                          const v1::GetEntriesRequest* req,
                          grpc::ServerWriter<v1::EntryResponse>* w) override {
    uint64_t to = req->to() == 0 ? entries_.size() : req->to();
    for (uint64_t i = req->from(); i < to && i < entries_.size(); ++i) {
      if (!w->Write(entries_[i])) break;
    }
    return grpc::Status::OK;
  }

 private:
  std::vector<v1::EntryResponse> entries_;
};

// Runs `segctl export` (in process) against a replay of `status` and
// `entries`; returns the exit code and stderr.
Result ExportFromReplay(const v1::StatusResponse& status,
                        const std::vector<v1::EntryResponse>& entries,
                        const std::string& out_dir) {
  ReplayAdmin admin(status);
  ReplayRead read(entries);
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&admin);
  b.RegisterService(&read);
  std::unique_ptr<grpc::Server> server = b.BuildAndStart();
  Result r;
  if (server == nullptr || port == 0) return r;
  ClientOptions o;
  o.target = absl::StrCat("127.0.0.1:", port);
  o.insecure = true;
  o.max_attempts = 1;
  auto c = Client::Connect(o);
  if (!c.ok()) return r;
  std::ostringstream out, err;
  CommandEnv env{c->get(), Format::kJson, &out, &err};
  r.code = RunExport(env, out_dir);
  r.out = out.str();
  r.err = err.str();
  server->Shutdown();
  return r;
}

// Nothing is written unless the entries are the signed checkpoint's tree.
TEST_F(SegctlTest, ExportRefusesDataThatDoesNotMatchTheCheckpoint) {
  v1::StatusResponse status;
  std::vector<v1::EntryResponse> entries;
  {
    NodeProcess node(tmp_, data_);
    ASSERT_FALSE(node.address().empty());
    std::string records = tmp_.Sub("few.jsonl");
    {
      std::ofstream f(records);
      for (int i = 0; i < 3; ++i) {
        std::string json;
        ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                        TestRecord(absl::StrCat("t-", i), i), &json)
                        .ok());
        f << json << "\n";
      }
    }
    ASSERT_EQ(Ctl(node, "append " + records).code, 0);
    ASSERT_EQ(Ctl(node, "checkpoint-now").code, 0);
    auto c = Connect(node);
    SEG_ASSERT_OK_AND_ASSIGN(status, c->GetStatus());
    SEG_ASSERT_OK(c->GetEntries(0, 3, [&](v1::EntryResponse& e) {
      entries.push_back(e);
      return true;
    }));
    ASSERT_EQ(entries.size(), 3u);
  }
  // The faithful replay exports (the stand-in itself is sound).
  Result ok = ExportFromReplay(status, entries, tmp_.Sub("good"));
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("\"size\":3,"));

  struct Case {
    const char* name;
    std::function<void(v1::StatusResponse&, std::vector<v1::EntryResponse>&)>
        alter;
    const char* says;
  };
  std::vector<Case> cases = {
      {"body changed, leaf hash recomputed",
       [](v1::StatusResponse&, std::vector<v1::EntryResponse>& e) {
         e[1].mutable_entry()->mutable_body()->back() ^= 1;
         Hash h = LeafHash(e[1].entry().body());
         e[1].set_leaf_hash(std::string(h.begin(), h.end()));
       },
       "root"},
      {"leaf hash not of the body",
       [](v1::StatusResponse&, std::vector<v1::EntryResponse>& e) {
         e[2].mutable_leaf_hash()->front() ^= 1;
       },
       "leaf hash"},
      {"entries out of order",
       [](v1::StatusResponse&, std::vector<v1::EntryResponse>& e) {
         std::swap(e[0], e[1]);
       },
       "where entry 0"},
      {"checkpoint text altered",
       [](v1::StatusResponse& s, std::vector<v1::EntryResponse>&) {
         std::string n = s.latest_checkpoint();
         n.replace(n.find("\n3\n"), 3, "\n2\n");
         s.set_latest_checkpoint(n);
       },
       "checkpoint"},
  };
  for (const Case& tc : cases) {
    v1::StatusResponse s = status;
    std::vector<v1::EntryResponse> e = entries;
    tc.alter(s, e);
    std::string out = tmp_.Sub(absl::StrCat("bad-", &tc - cases.data()));
    Result r = ExportFromReplay(s, e, out);
    EXPECT_EQ(r.code, 1) << tc.name << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(tc.says)) << tc.name;
    EXPECT_EQ(Lines(r.err).size(), 1u) << tc.name << ": " << r.err;
    struct stat st;
    EXPECT_NE(stat(out.c_str(), &st), 0) << tc.name << ": wrote " << out;
  }
}

// Appends from 8 threads until stopped; returns request id -> (index, hash).
class Load {
 public:
  explicit Load(Client* c) {
    for (int t = 0; t < 8; ++t) {
      threads_.emplace_back([this, c, t] {
        for (int i = 0; !stop_; ++i) {
          std::string id = absl::StrCat("load-", t, "-", i);
          v1::AppendRequest req;
          *req.add_records() = TestRecord(id, i);
          auto r = c->Append(req);
          if (!r.ok()) continue;
          absl::MutexLock lock(&mu_);
          acked_[id] = {r->acks(0).index(), r->acks(0).leaf_hash()};
        }
      });
    }
  }
  std::map<std::string, std::pair<uint64_t, std::string>> Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    absl::MutexLock lock(&mu_);
    return acked_;
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return acked_.size();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::map<std::string, std::pair<uint64_t, std::string>> acked_;
};

void ExpectDurable(
    NodeProcess& node, Client& c,
    const std::map<std::string, std::pair<uint64_t, std::string>>& acked) {
  for (const auto& [id, ack] : acked) {
    auto e = c.GetEntry(ack.first);
    ASSERT_TRUE(e.ok()) << id << ": " << e.status() << node.log();
    EXPECT_EQ(e->leaf_hash(), ack.second) << id;
  }
}

void RunUnderLoad(SegctlTest* t, const TempDir& tmp, const std::string& data,
                  int sig) {
  std::map<std::string, std::pair<uint64_t, std::string>> acked;
  {
    NodeProcess node(tmp, data);
    ASSERT_FALSE(node.address().empty());
    ClientOptions o;
    o.target = node.address();
    o.insecure = true;
    o.max_attempts = 1;
    SEG_ASSERT_OK_AND_ASSIGN(auto c, Client::Connect(o));
    Load load(c.get());
    for (int i = 0; i < 2000 && load.count() < 300; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    int code = node.Stop(sig);
    acked = load.Stop();
    if (sig == SIGTERM) {
      EXPECT_EQ(code, 0) << node.log();
      EXPECT_THAT(node.log(), HasSubstr("store closed"));
    }
  }
  ASSERT_GE(acked.size(), 300u);
  NodeProcess again(tmp, data);
  ASSERT_FALSE(again.address().empty()) << again.log();
  ClientOptions o;
  o.target = again.address();
  o.insecure = true;
  SEG_ASSERT_OK_AND_ASSIGN(auto c, Client::Connect(o));
  ExpectDurable(again, *c, acked);
  if (sig == SIGTERM) {
    // The final checkpoint covers the whole log.
    SEG_ASSERT_OK_AND_ASSIGN(auto st, c->GetStatus());
    SEG_ASSERT_OK_AND_ASSIGN(auto cp, c->GetCheckpoint());
    EXPECT_EQ(cp.size(), st.size());
  }
  (void)t;
}

TEST_F(SegctlTest, GracefulShutdownUnderLoadKeepsEveryAck) {
  RunUnderLoad(this, tmp_, data_, SIGTERM);
}

TEST_F(SegctlTest, KillNineUnderLoadKeepsEveryAck) {
  RunUnderLoad(this, tmp_, data_, SIGKILL);
}

}  // namespace
}  // namespace segledger::client
