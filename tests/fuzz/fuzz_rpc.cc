// libFuzzer target: the request handling of every RPC of every service of
// segledgerd (Append, AppendStream, GetEntry, GetEntries, GetCheckpoint,
// ListCheckpoints, GetInclusionProof, GetConsistencyProof, GetProofs, Watch,
// GetStatus, CheckpointNow, RotateKey, Backup, GetHeldSize,
// DeliverEvidence, Cosign, GetPeerData, Findings, Timeline, Trace,
// MassBalance).
//
// A real Node (node/node.h: RocksDB store in a temp directory, the domain
// rules, a peer layer with one configured peer, kFuzzOrigin, whose keys are
// the fixture keys) serves on 127.0.0.1; the input's first byte picks the
// RPC and the rest is the serialized request, sent through the generated
// stub. The handlers are the ones segledgerd runs: validation, the store
// calls behind it, the peer store's evidence and cosigning checks.
//
// Checked beyond "no crash, no sanitizer report": no status is UNKNOWN,
// INTERNAL or DATA_LOSS (the handlers never produce them for any request),
// every error has a message, an OK Append acknowledges each record below
// the log size, an AppendStream acknowledges every record once, GetEntries
// returns contiguous indexes, the log never shrinks, and nothing is written
// outside the node's data directory and the backup directory (Backup
// targets outside the sandbox are redirected into it; RotateKey names must
// stay inside keys/).
//
// Every kRestartEvery inputs the node is shut down and a fresh one started,
// so the store stays small.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "node/data_dir.h"
#include "node/json_log.h"
#include "node/node.h"
#include "segledger/v1/admin_service.grpc.pb.h"
#include "segledger/v1/ledger_service.grpc.pb.h"
#include "segledger/v1/peer_service.grpc.pb.h"
#include "segledger/v1/query_service.grpc.pb.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_rpc_methods.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = segledger::v1;
using segledger::fuzz::RpcMethod;

constexpr uint64_t kRestartEvery = 4096;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_rpc: %s\n", what.c_str());
  std::abort();
}

struct Harness {
  std::string root;  // sandbox: root/data (the node), root/backup
  std::unique_ptr<segledger::node::Node> node;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AppendService::Stub> append;
  std::unique_ptr<v1::ReadService::Stub> read;
  std::unique_ptr<v1::ProofService::Stub> proof;
  std::unique_ptr<v1::WatchService::Stub> watch;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::PeerService::Stub> peer;
  std::unique_ptr<v1::QueryService::Stub> query;
  uint64_t inputs = 0;
  uint64_t last_size = 0;
  uint64_t backups = 0;
};

Harness* h = nullptr;

std::string DataDir() { return h->root + "/data"; }
std::string BackupDir() { return h->root + "/backup"; }

void Start() {
  std::error_code ec;
  fs::remove_all(DataDir(), ec);
  fs::remove_all(BackupDir(), ec);
  fs::create_directories(BackupDir());
  absl::StatusOr<std::string> vkey = segledger::node::InitDataDir(
      DataDir(), "rpc.fuzz.example/segledger", "rpc.fuzz.example/key-1");
  if (!vkey.ok()) Fail(vkey.status().ToString());
  v1::NodeConfig config;
  config.set_data_dir(DataDir());
  config.set_listen("127.0.0.1:0");
  config.set_insecure(true);
  config.set_party("party-rpc");
  config.set_site_id("site-rpc");
  config.set_checkpoint_interval_ms(3600 * 1000);  // CheckpointNow only
  config.set_cosign_interval_ms(3600 * 1000);      // no calls to the peer
  config.set_deliver_interval_ms(3600 * 1000);
  config.set_follow_interval_ms(3600 * 1000);
  config.set_peer_timeout_ms(200);
  v1::PeerNode* p = config.add_peers();
  p->set_origin(std::string(segledger::fuzz::kFuzzOrigin));
  p->set_party("party-fuzz");
  p->set_address("127.0.0.1:1");  // refused: nothing listens there
  for (const segledger::NoteVerifier& v : segledger::fuzz::KnownVerifiers()) {
    p->add_verifier_keys(v.VerifierKey());
  }
  segledger::node::NodeOptions options;
  options.shutdown_grace = absl::Milliseconds(200);
  options.watch_poll = absl::Milliseconds(1);  // see Watch()
  absl::StatusOr<std::unique_ptr<segledger::node::Node>> node =
      segledger::node::Node::Start(config, options);
  if (!node.ok()) Fail(node.status().ToString());
  h->node = *std::move(node);
  h->channel = grpc::CreateChannel(h->node->address(),
                                   grpc::InsecureChannelCredentials());
  h->append = v1::AppendService::NewStub(h->channel);
  h->read = v1::ReadService::NewStub(h->channel);
  h->proof = v1::ProofService::NewStub(h->channel);
  h->watch = v1::WatchService::NewStub(h->channel);
  h->admin = v1::AdminService::NewStub(h->channel);
  h->peer = v1::PeerService::NewStub(h->channel);
  h->query = v1::QueryService::NewStub(h->channel);
  h->last_size = 0;
}

void Stop() {
  h->append.reset();
  h->read.reset();
  h->proof.reset();
  h->watch.reset();
  h->admin.reset();
  h->peer.reset();
  h->query.reset();
  h->channel.reset();
  if (h->node != nullptr) {
    absl::Status s = h->node->Shutdown();
    if (!s.ok()) Fail(absl::StrCat("shutdown: ", s.ToString()));
    h->node.reset();
  }
}

void AtExit() {
  if (h == nullptr) return;
  Stop();
  std::error_code ec;
  fs::remove_all(h->root, ec);
}

void Context(grpc::ClientContext* ctx, absl::Duration deadline) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

// The handlers' contract for any request.
// SEGLEDGER_FUZZ_RPC_VERBOSE=1 prints each call's status (to see which
// handler paths the seeds reach).
const bool kVerbose = getenv("SEGLEDGER_FUZZ_RPC_VERBOSE") != nullptr;

void CheckStatus(RpcMethod m, const grpc::Status& s, bool deadline_ok) {
  const char* name = segledger::fuzz::RpcMethodName(m);
  if (kVerbose) {
    std::fprintf(stderr, "fuzz_rpc: %s -> %d %s\n", name, s.error_code(),
                 s.error_message().c_str());
  }
  switch (s.error_code()) {
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNIMPLEMENTED:
      Fail(absl::StrCat(name, ": status ", s.error_code(), " \"",
                        s.error_message(), "\""));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      if (!deadline_ok) {
        Fail(absl::StrCat(name, ": unexpected deadline/cancel \"",
                          s.error_message(), "\""));
      }
      return;
    default:
      break;
  }
  if (!s.ok() && s.error_message().empty()) {
    Fail(absl::StrCat(name, ": error ", s.error_code(), " without a message"));
  }
}

// Nothing but data/ and backup/ in the sandbox, nothing but the node's
// files in data/ (a key name or backup dir must not escape them).
void CheckSandbox() {
  for (const fs::directory_entry& e : fs::directory_iterator(h->root)) {
    std::string n = e.path().filename();
    if (n != "data" && n != "backup") Fail("stray file " + e.path().string());
  }
  static const std::set<std::string> kData = {"db", "keys", "node.textproto"};
  for (const fs::directory_entry& e : fs::directory_iterator(DataDir())) {
    if (kData.count(e.path().filename()) == 0) {
      Fail("stray file " + e.path().string());
    }
  }
  for (const fs::directory_entry& e :
       fs::directory_iterator(DataDir() + "/keys")) {
    if (!e.is_regular_file() ||
        !absl::EndsWith(e.path().filename().string(), ".key")) {
      Fail("stray key-dir entry " + e.path().string());
    }
  }
}

template <typename Req>
bool Parse(const uint8_t* data, size_t size, Req* req) {
  return req->ParseFromArray(data, static_cast<int>(size));
}

template <typename Req, typename Resp, typename Stub>
void Unary(RpcMethod m, const uint8_t* data, size_t size, Stub* stub,
           grpc::Status (Stub::*call)(grpc::ClientContext*, const Req&,
                                      Resp*)) {
  Req req;
  if (!Parse(data, size, &req)) return;
  Resp resp;
  grpc::ClientContext ctx;
  Context(&ctx, absl::Seconds(30));
  CheckStatus(m, (stub->*call)(&ctx, req, &resp), false);
}

void Append(const uint8_t* data, size_t size) {
  v1::AppendRequest req;
  if (!Parse(data, size, &req)) return;
  v1::AppendResponse resp;
  grpc::ClientContext ctx;
  Context(&ctx, absl::Seconds(30));
  grpc::Status s = h->append->Append(&ctx, req, &resp);
  CheckStatus(RpcMethod::kAppend, s, false);
  if (!s.ok()) return;
  if (resp.acks_size() != req.records_size()) Fail("Append: ack count");
  uint64_t log_size = h->node->store().Size();
  for (const v1::AppendAck& a : resp.acks()) {
    if (a.index() >= log_size) Fail("Append: ack beyond the log");
  }
}

void AppendStream(const uint8_t* data, size_t size) {
  v1::AppendStreamRequest req;
  if (!Parse(data, size, &req)) return;
  grpc::ClientContext ctx;
  Context(&ctx, absl::Seconds(30));
  auto stream = h->append->AppendStream(&ctx);
  // The same message twice: the second batch replays or conflicts with
  // the first (request ids), through the same reactor.
  bool sent = stream->Write(req) && stream->Write(req);
  stream->WritesDone();
  int acks = 0;
  v1::AppendStreamResponse resp;
  while (stream->Read(&resp)) acks += resp.acks_size();
  grpc::Status s = stream->Finish();
  CheckStatus(RpcMethod::kAppendStream, s, false);
  if (s.ok() && sent && acks != 2 * req.records_size()) {
    Fail(absl::StrCat("AppendStream: ", acks, " acks for ",
                      2 * req.records_size(), " records"));
  }
}

void GetEntries(const uint8_t* data, size_t size) {
  v1::GetEntriesRequest req;
  if (!Parse(data, size, &req)) return;
  grpc::ClientContext ctx;
  Context(&ctx, absl::Seconds(30));
  auto reader = h->read->GetEntries(&ctx, req);
  v1::EntryResponse e;
  uint64_t next = req.from();
  while (reader->Read(&e)) {
    if (e.index() != next) Fail("GetEntries: indexes not contiguous");
    ++next;
  }
  CheckStatus(RpcMethod::kGetEntries, reader->Finish(), false);
}

void ListCheckpoints(const uint8_t* data, size_t size) {
  v1::ListCheckpointsRequest req;
  if (!Parse(data, size, &req)) return;
  grpc::ClientContext ctx;
  Context(&ctx, absl::Seconds(30));
  auto reader = h->read->ListCheckpoints(&ctx, req);
  v1::CheckpointResponse c;
  while (reader->Read(&c)) {
    if (c.size() < req.from_size()) Fail("ListCheckpoints: below from_size");
  }
  CheckStatus(RpcMethod::kListCheckpoints, reader->Finish(), false);
}

// A valid watch streams until cancelled: read a few events, then cancel
// (or let the short deadline end one that has nothing to send). The
// deadline is what a valid watch costs: at 50 ms (hub poll 10 ms) the
// watch inputs, a twelfth of the corpus, took most of the run's time and
// each fuzzing process used a third of a core. 10 ms with the hub polling
// every 1 ms runs them 4x faster for the same coverage of the corpus
// (1,805-1,854 edges against 1,844; more features: the poll path runs).
void Watch(const uint8_t* data, size_t size) {
  v1::WatchRequest req;
  if (!Parse(data, size, &req)) return;
  grpc::ClientContext ctx;
  Context(&ctx, absl::Milliseconds(10));
  auto reader = h->watch->Watch(&ctx, req);
  v1::WatchEvent ev;
  for (int i = 0; i < 16 && reader->Read(&ev); ++i) {
  }
  ctx.TryCancel();
  while (reader->Read(&ev)) {
  }
  CheckStatus(RpcMethod::kWatch, reader->Finish(), true);
}

// Backup writes where the request says: keep it inside the sandbox. A
// path that exists or is not absolute is sent as is (refused before any
// write); any other absolute path becomes a fresh directory of backup/.
void Backup(const uint8_t* data, size_t size) {
  v1::BackupRequest req;
  if (!Parse(data, size, &req)) return;
  std::error_code ec;
  if (absl::StartsWith(req.dir(), "/") &&
      req.dir().find('\0') == std::string::npos && !fs::exists(req.dir(), ec)) {
    req.set_dir(absl::StrCat(BackupDir(), "/b", ++h->backups));
  }
  v1::BackupResponse resp;
  grpc::ClientContext ctx;
  Context(&ctx, absl::Seconds(30));
  CheckStatus(RpcMethod::kBackup, h->admin->Backup(&ctx, req, &resp), false);
  fs::remove_all(BackupDir(), ec);
  fs::create_directories(BackupDir(), ec);
}

void Dispatch(RpcMethod m, const uint8_t* d, size_t n) {
  using segledger::fuzz::RpcMethod;
  switch (m) {
    case RpcMethod::kAppend:
      return Append(d, n);
    case RpcMethod::kAppendStream:
      return AppendStream(d, n);
    case RpcMethod::kGetEntry:
      return Unary(m, d, n, h->read.get(), &v1::ReadService::Stub::GetEntry);
    case RpcMethod::kGetEntries:
      return GetEntries(d, n);
    case RpcMethod::kGetCheckpoint:
      return Unary(m, d, n, h->read.get(),
                   &v1::ReadService::Stub::GetCheckpoint);
    case RpcMethod::kListCheckpoints:
      return ListCheckpoints(d, n);
    case RpcMethod::kGetInclusionProof:
      return Unary(m, d, n, h->proof.get(),
                   &v1::ProofService::Stub::GetInclusionProof);
    case RpcMethod::kGetConsistencyProof:
      return Unary(m, d, n, h->proof.get(),
                   &v1::ProofService::Stub::GetConsistencyProof);
    case RpcMethod::kGetProofs:
      return Unary(m, d, n, h->proof.get(), &v1::ProofService::Stub::GetProofs);
    case RpcMethod::kWatch:
      return Watch(d, n);
    case RpcMethod::kGetStatus:
      return Unary(m, d, n, h->admin.get(), &v1::AdminService::Stub::GetStatus);
    case RpcMethod::kCheckpointNow:
      return Unary(m, d, n, h->admin.get(),
                   &v1::AdminService::Stub::CheckpointNow);
    case RpcMethod::kRotateKey:
      return Unary(m, d, n, h->admin.get(), &v1::AdminService::Stub::RotateKey);
    case RpcMethod::kBackup:
      return Backup(d, n);
    case RpcMethod::kGetHeldSize:
      return Unary(m, d, n, h->peer.get(), &v1::PeerService::Stub::GetHeldSize);
    case RpcMethod::kDeliverEvidence:
      return Unary(m, d, n, h->peer.get(),
                   &v1::PeerService::Stub::DeliverEvidence);
    case RpcMethod::kCosign:
      return Unary(m, d, n, h->peer.get(), &v1::PeerService::Stub::Cosign);
    case RpcMethod::kGetPeerData:
      return Unary(m, d, n, h->peer.get(), &v1::PeerService::Stub::GetPeerData);
    case RpcMethod::kFindings:
      return Unary(m, d, n, h->query.get(), &v1::QueryService::Stub::Findings);
    case RpcMethod::kTimeline:
      return Unary(m, d, n, h->query.get(), &v1::QueryService::Stub::Timeline);
    case RpcMethod::kTrace:
      return Unary(m, d, n, h->query.get(), &v1::QueryService::Stub::Trace);
    case RpcMethod::kMassBalance:
      return Unary(m, d, n, h->query.get(),
                   &v1::QueryService::Stub::MassBalance);
    case RpcMethod::kCount:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  segledger::node::SetQuietLog(true);
  h = new Harness();
  // tmpfs when there is one: RocksDB's syncs cost nothing there.
  std::string base = fs::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  if (const char* t = getenv("SEGLEDGER_FUZZ_RPC_DIR")) base = t;
  std::string tmpl = base + "/fuzz_rpc.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp in " + base);
  h->root = tmpl;
  Start();
  std::atexit(AtExit);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (h->inputs++ > 0 && h->inputs % kRestartEvery == 0) {
    Stop();
    Start();
  }
  RpcMethod m =
      static_cast<RpcMethod>(data[0] % static_cast<uint8_t>(RpcMethod::kCount));
  Dispatch(m, data + 1, size - 1);
  uint64_t now = h->node->store().Size();
  if (now < h->last_size) Fail("the log shrank");
  h->last_size = now;
  CheckSandbox();
  return 0;
}
