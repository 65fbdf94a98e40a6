// Authorisation faults against a real mTLS segledgerd child process (issue
// 10, "Authorisation and secrets"): certificates the node must not accept
// (expired, not yet valid, from another CA, none at all), a certificate no
// principal matches, an inspector calling every write RPC, and the operator
// of another party appending. Each is refused with the gRPC status the
// table in docs/security.md names, segctl exits 3 (DESIGN.md "Command-line
// contract": node unreachable or refused) with one line on stderr, and
// nothing changes: log size, latest checkpoint, key files, backup target.
// Certificates come from scripts/make-dev-certs.sh (its fault options).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "segledger/v1/ledger_service.grpc.pb.h"
#include "tests/node/node_test_util.h"
#include "tests/support/test_util.h"

extern char** environ;

namespace segledger::node {
namespace {

using ::segledger::testing::TempDir;
using ::segledger::testing::TestRecord;

const std::string kBin = SEGLEDGER_BINARY_DIR;
const std::string kSegledgerd = kBin + "/node/segledgerd";
const std::string kSegctl = kBin + "/client/segctl";
// tests/node/ -> repository root (SEGLEDGER_TESTDATA_DIR is
// <root>/tests/testdata).
const std::string kCertScript =
    std::string(SEGLEDGER_TESTDATA_DIR) + "/../../scripts/make-dev-certs.sh";

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result RunCmd(const std::string& cmd, const std::string& errfile) {
  Result r;
  FILE* p = popen((cmd + " 2>" + errfile).c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.err = ReadFile(errfile);
  return r;
}

std::vector<std::string> Lines(const std::string& s) {
  return absl::StrSplit(s, '\n', absl::SkipEmpty());
}

// Every file name under `dir` (sorted), to show nothing was added.
std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One mTLS node for the whole suite: party "cmo-up", principals for every
// certificate below except "stranger".
class AuthzFaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    certs_ = tmp_->Sub("certs");
    Result c = RunCmd(absl::StrCat(kCertScript, " ", certs_,
                                   " operator qa inspector otherop stranger",
                                   " --expired expired --not-yet-valid future",
                                   " --other-ca foreign"),
                      tmp_->Sub("certs.err"));
    ASSERT_EQ(c.code, 0) << c.err;
    data_ = tmp_->Sub("data");
    Result init = RunCmd(absl::StrCat(kSegledgerd, " init --data ", data_,
                                      " --origin cmo-up.example/segledger",
                                      " --key-name cmo-up.example"),
                         tmp_->Sub("init.err"));
    ASSERT_EQ(init.code, 0) << init.err;
    std::string cfg = tmp_->Sub("node.textproto");
    std::ofstream(cfg) << "party: \"cmo-up\"\n"
                       << "tls_cert: \"" << certs_ << "/node.pem\"\n"
                       << "tls_key: \"" << certs_ << "/node.key\"\n"
                       << "tls_ca: \"" << certs_ << "/ca.pem\"\n"
                       << Principal("operator", "cmo-up", "operator")
                       << Principal("qa", "cmo-up", "qa")
                       << Principal("inspector", "mpa", "inspector")
                       << Principal("otherop", "dp-down", "operator")
                       // Mapped like the operator: only the certificate's
                       // dates or issuer can refuse them.
                       << Principal("expired", "cmo-up", "operator")
                       << Principal("future", "cmo-up", "operator")
                       << Principal("foreign", "cmo-up", "operator");
    StartNode(cfg);
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st;
      waitpid(pid_, &st, 0);
    }
    delete tmp_;
  }

  static std::string Principal(const char* match, const char* party,
                               const char* role) {
    return absl::StrCat("principals { match: \"", match, "\" party: \"", party,
                        "\" role: \"", role, "\" }\n");
  }

  static void StartNode(const std::string& cfg) {
    std::string ready = tmp_->Sub("ready");
    std::string log = tmp_->Sub("node.log");
    std::vector<std::string> args = {
        kSegledgerd, "serve",       "--config",     cfg,  "--data", data_,
        "--listen",  "127.0.0.1:0", "--ready-file", ready};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ),
              0);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 3000 && address_.empty(); ++i) {
      std::string a = ReadFile(ready);
      if (!a.empty()) {
        address_ = std::string(absl::StripSuffix(a, "\n"));
      } else {
        absl::SleepFor(absl::Milliseconds(10));
      }
    }
    ASSERT_FALSE(address_.empty()) << ReadFile(log);
  }

  // segctl with `who`'s certificate (`ca`: the CA file the client trusts).
  Result Ctl(const std::string& who, const std::string& args,
             const std::string& ca = "ca") {
    std::string creds = who.empty()
                            ? ""
                            : absl::StrCat(" --cert ", certs_, "/", who, ".pem",
                                           " --key ", certs_, "/", who, ".key");
    return RunCmd(absl::StrCat(kSegctl, " --node ", address_, " --ca ", certs_,
                               "/", ca, ".pem", creds,
                               " --server-name localhost --timeout 10 ", args),
                  tmp_->Sub("ctl.err"));
  }

  std::string RecordsFile(const std::string& name, int n) {
    std::string path = tmp_->Sub(name + ".jsonl");
    std::ofstream f(path);
    for (int i = 0; i < n; ++i) {
      std::string json;
      EXPECT_TRUE(google::protobuf::util::MessageToJsonString(
                      TestRecord(absl::StrCat(name, "-", i), i), &json)
                      .ok());
      f << json << "\n";
    }
    return path;
  }

  // What must not change: size and latest checkpoint (read by the
  // operator), key files, the backup target.
  std::string State() {
    Result st = Ctl("operator", "status");
    EXPECT_EQ(st.code, 0) << st.err;
    Result cp = Ctl("operator", "checkpoint");
    std::string keys;
    for (const std::string& k : Listing(data_ + "/keys")) {
      absl::StrAppend(&keys, k, ",");
    }
    struct stat s;
    bool backup = stat(tmp_->Sub("backup").c_str(), &s) == 0;
    std::string status = st.out.substr(0, st.out.find("\"current_key_name\""));
    return absl::StrCat(status, "|", cp.out, "|", keys, "|", backup);
  }

  // `args` as `who` must exit 3 with one stderr line naming `status`.
  void ExpectRefused(const std::string& who, const std::string& args,
                     const std::string& status, const std::string& ca = "ca") {
    Result r = Ctl(who, args, ca);
    EXPECT_EQ(r.code, 3) << who << " " << args << ": " << r.out << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << who << " " << args << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, status))
        << who << " " << args << ": want " << status << " in " << r.err;
    EXPECT_TRUE(r.out.empty()) << who << " " << args << ": " << r.out;
  }

  static TempDir* tmp_;
  static std::string certs_, data_, address_;
  static pid_t pid_;
};
TempDir* AuthzFaultTest::tmp_ = nullptr;
std::string AuthzFaultTest::certs_, AuthzFaultTest::data_,
    AuthzFaultTest::address_;
pid_t AuthzFaultTest::pid_ = -1;

// Every write RPC segctl can make (Append via a stream; CheckpointNow,
// RotateKey, Backup).
std::vector<std::string> WriteCommands(const std::string& records,
                                       const std::string& backup) {
  return {"append " + records, "checkpoint-now",
          "rotate-key --name cmo-up.example-2 --person-id x --printed-name X",
          "backup --dir " + backup};
}

TEST_F(AuthzFaultTest, RefusedCallersChangeNothing) {
  // Positive control: the operator appends and a checkpoint covers it
  // (signed now, so the background checkpointer has nothing left to do).
  Result ok = Ctl("operator", "append " + RecordsFile("ok", 5));
  ASSERT_EQ(ok.code, 0) << ok.err;
  ASSERT_EQ(Ctl("operator", "checkpoint-now").code, 0);
  const std::string before = State();
  ASSERT_TRUE(absl::StrContains(before, "\"size\":\"5\"")) << before;
  std::string records = RecordsFile("bad", 3);
  std::string backup = tmp_->Sub("backup");

  // Certificates the TLS handshake refuses: the call never reaches the
  // node (UNAVAILABLE), for reads and writes alike.
  for (const char* who : {"expired", "future", "foreign"}) {
    ExpectRefused(who, "append " + records, "UNAVAILABLE");
    ExpectRefused(who, "checkpoint-now", "UNAVAILABLE");
    ExpectRefused(who, "status", "UNAVAILABLE");
  }
  // The client trusting another CA refuses this node's certificate. gRPC
  // itself logs the failed handshake on stderr before segctl's line (for
  // the lead: segctl could silence gRPC's logging to keep DESIGN.md's one
  // line); the last line is segctl's.
  Result other = Ctl("operator", "status", "other-ca");
  EXPECT_EQ(other.code, 3) << other.err;
  ASSERT_FALSE(Lines(other.err).empty());
  EXPECT_TRUE(absl::StartsWith(Lines(other.err).back(), "segctl: UNAVAILABLE"))
      << other.err;

  // A valid certificate no principal matches.
  ExpectRefused("stranger", "append " + records, "PERMISSION_DENIED");
  ExpectRefused("stranger", "status", "PERMISSION_DENIED");
  // The inspector reads but writes nothing; another party's operator may
  // not write to this party's log.
  EXPECT_EQ(Ctl("inspector", "status").code, 0);
  for (const char* who : {"inspector", "otherop"}) {
    for (const std::string& cmd : WriteCommands(records, backup)) {
      ExpectRefused(who, cmd, "PERMISSION_DENIED");
    }
  }
  // QA writes records but neither rotates keys nor takes backups, nor
  // appends key records: a revocation of the signing key would stop the
  // log for good, a registration would let a key held outside the node
  // speak for it.
  ExpectRefused("qa", WriteCommands(records, backup)[2], "PERMISSION_DENIED");
  ExpectRefused("qa", WriteCommands(records, backup)[3], "PERMISSION_DENIED");
  for (const char* kind : {"revocation", "registration"}) {
    v1::AppendRecordRequest r = TestRecord(absl::StrCat("key-", kind));
    if (std::string(kind) == "revocation") {
      r.mutable_record()->mutable_key_revocation()->set_key_name("any");
    } else {
      r.mutable_record()->mutable_key_registration()->set_key_name("mine");
      r.mutable_record()->mutable_key_registration()->set_public_key(
          std::string(32, 'k'));
    }
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(r, &json).ok());
    const std::string path = tmp_->Sub(absl::StrCat("key-", kind, ".jsonl"));
    std::ofstream(path) << json << "\n";
    ExpectRefused("qa", "append " + path, "PERMISSION_DENIED");
  }

  EXPECT_EQ(State(), before);
  // The node still serves its own operator afterwards.
  Result again = Ctl("operator", "append " + RecordsFile("after", 1));
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "{\"index\":5,")) << again.out;
}

// The unary Append RPC (not used by segctl) refuses the same callers, and a
// client without a certificate (segctl always sends one) fails the TLS
// handshake.
TEST_F(AuthzFaultTest, UnaryAppendRefusedForInspectorAndOtherParty) {
  ASSERT_EQ(Ctl("operator", "checkpoint-now").code, 0);
  const std::string before = State();
  {
    grpc::SslCredentialsOptions so;
    so.pem_root_certs = ReadFile(certs_ + "/ca.pem");
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel =
        grpc::CreateCustomChannel(address_, grpc::SslCredentials(so), args);
    auto stub = v1::AppendService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::AppendRequest req;
    *req.add_records() = TestRecord("unary-no-cert");
    v1::AppendResponse resp;
    grpc::Status st = stub->Append(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
        << st.error_message();
  }
  for (const char* who : {"inspector", "otherop", "stranger"}) {
    client::ClientOptions o;
    o.target = address_;
    o.ca_file = certs_ + "/ca.pem";
    o.cert_file = absl::StrCat(certs_, "/", who, ".pem");
    o.key_file = absl::StrCat(certs_, "/", who, ".key");
    o.server_name_override = "localhost";
    o.max_attempts = 1;
    auto c = client::Client::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    v1::AppendRequest req;
    *req.add_records() = TestRecord(absl::StrCat("unary-", who));
    auto r = (*c)->Append(req);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied)
        << who << ": " << r.status();
  }
  EXPECT_EQ(State(), before);
}

}  // namespace
}  // namespace segledger::node
