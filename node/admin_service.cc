#include "node/admin_service.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/store/key_file.h"
#include "node/data_dir.h"
#include "node/json_log.h"
#include "node/peer_layer.h"
#include "node/read_service.h"
#include "node/rpc_util.h"
#include "node/watch.h"

namespace segledger::node {
namespace {

absl::Status ValidateKeyName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("new_key_name: empty");
  absl::Status s = CheckNoteKeyName(name);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("new_key_name: ", s.message()));
  }
  return absl::OkStatus();
}

// The backup's parent directory exists (RocksDB's own error for a missing
// one reads as an I/O failure: UNAVAILABLE, "retry"), and the backup is
// not inside the data directory, where the node would later read it (a
// directory named like a key file in keys/ stops the next start).
absl::Status CheckBackupParent(const std::string& dir,
                               const std::string& data_dir) {
  std::string parent = dir.substr(0, dir.find_last_not_of('/') + 1);
  parent = parent.substr(0, parent.rfind('/'));
  if (parent.empty()) parent = "/";
  char resolved[PATH_MAX];
  struct stat st;
  if (realpath(parent.c_str(), resolved) == nullptr ||
      stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "dir: the parent \"", parent, "\" is not an existing directory"));
  }
  char data[PATH_MAX];
  if (!data_dir.empty() && realpath(data_dir.c_str(), data) != nullptr) {
    const std::string inside = absl::StrCat(resolved, "/");
    const std::string root = absl::StrCat(data, "/");
    if (absl::StartsWith(inside, root)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dir: \"", dir, "\" is inside the node's data directory ", data));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateActor(const v1::Actor& actor) {
  if (actor.person_id().empty()) {
    return absl::InvalidArgumentError("actor.person_id: empty");
  }
  if (actor.printed_name().empty()) {
    return absl::InvalidArgumentError("actor.printed_name: empty");
  }
  if (actor.meaning() == v1::SIGNATURE_MEANING_UNSPECIFIED) {
    return absl::InvalidArgumentError("actor.meaning: unspecified");
  }
  return absl::OkStatus();
}

absl::Status DoRotate(ServiceContext* ctx, const v1::RotateKeyRequest& req,
                      v1::RotateKeyResponse* resp) {
  std::string path = KeyFilePath(ctx->key_dir, req.new_key_name());
  absl::StatusOr<std::shared_ptr<const NoteSigner>> next =
      store::CreateKeyFile(path, req.new_key_name());
  if (absl::IsAlreadyExists(next.status())) {
    return absl::AlreadyExistsError(absl::StrCat(
        "new_key_name: a key named \"", req.new_key_name(), "\" exists"));
  }
  if (!next.ok()) return next.status();
  std::string vkey = (*next)->Verifier().VerifierKey();
  absl::StatusOr<store::AppendResult> r =
      ctx->store->RotateKey(*next, req.actor(), req.reason());
  if (!r.ok()) {
    if (store::RotateKeyWroteNothing(r.status())) {
      // Refused before any write: the key will never be the log's.
      std::remove(path.c_str());
    } else {
      // The synced write may have failed after the rotation reached the
      // disk (kv.h): once reopened the log may need this key to sign. A
      // key file the log never used is harmless (LoadSigners loads it).
      LogJson("warn", "key rotation failed; its key file is kept",
              {{"new_key", req.new_key_name()},
               {"path", path},
               {"error", r.status().ToString()}});
    }
    return r.status();
  }
  resp->set_index(r->index);
  resp->set_leaf_hash(std::string(HashBytes(r->leaf_hash)));
  resp->set_verifier_key(vkey);
  LogJson("info", "key rotated",
          {{"new_key", req.new_key_name()},
           {"vkey", vkey},
           {"index", absl::StrCat(r->index)}});
  ctx->hub->Notify();
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::GetStatus(
    grpc::CallbackServerContext* context, const v1::StatusRequest*,
    v1::StatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = ctx_->Admit(*context, Rpc::kStatus);
  if (!caller.ok()) return Done(ctx_, reactor, caller.status());
  store::LogStore& store = *ctx_->store;
  response->set_origin(store.origin());
  response->set_size(store.Size());
  response->set_current_key_name(store.CurrentKeyName());
  absl::StatusOr<std::string> cp = store.LatestCheckpoint();
  if (cp.ok()) response->set_latest_checkpoint(*cp);
  for (const NoteVerifier& v : store.Verifiers()) {
    response->add_verifier_keys(v.VerifierKey());
  }
  response->set_party(ctx_->authz->local_party());
  response->set_caller_party(caller->party);
  response->set_caller_role(std::string(RoleName(caller->role)));
  response->set_uptime_seconds(
      static_cast<uint64_t>(absl::ToInt64Seconds(absl::Now() - ctx_->started)));
  absl::Status peers = ctx_->peers != nullptr
                           ? ctx_->peers->FillStatus(response)
                           : absl::OkStatus();
  return Done(ctx_, reactor, peers);
}

grpc::ServerUnaryReactor* AdminServiceImpl::CheckpointNow(
    grpc::CallbackServerContext* context, const v1::CheckpointNowRequest*,
    v1::CheckpointNowResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kCheckpointNow).status();
  if (!s.ok()) return Done(ctx_, reactor, s);
  ServiceContext* ctx = ctx_;
  ctx_->blocking->Schedule([ctx, reactor, response] {
    absl::StatusOr<std::string> note = ctx->store->CheckpointNow();
    if (note.ok()) {
      response->set_note(*note);
      // The size of this note (a later checkpoint may be out already).
      absl::StatusOr<uint64_t> size = CheckpointNoteSize(*note);
      if (size.ok()) response->set_size(*size);
      ctx->hub->Notify();
    }
    Done(ctx, reactor, note.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::RotateKey(
    grpc::CallbackServerContext* context, const v1::RotateKeyRequest* request,
    v1::RotateKeyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kRotateKey).status();
  if (s.ok()) s = ValidateKeyName(request->new_key_name());
  if (s.ok()) s = ValidateActor(request->actor());
  if (!s.ok()) return Done(ctx_, reactor, s);
  ServiceContext* ctx = ctx_;
  ctx_->blocking->Schedule([ctx, reactor, request, response] {
    Done(ctx, reactor, DoRotate(ctx, *request, response));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest* request,
    v1::BackupResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status s = ctx_->Admit(*context, Rpc::kBackup).status();
  if (s.ok() && !absl::StartsWith(request->dir(), "/")) {
    s = absl::InvalidArgumentError(
        absl::StrCat("dir: \"", request->dir(), "\" is not an absolute path"));
  }
  struct stat st;
  if (s.ok() && stat(request->dir().c_str(), &st) == 0) {
    s = absl::AlreadyExistsError(
        absl::StrCat("dir: \"", request->dir(), "\" exists"));
  }
  if (s.ok()) s = CheckBackupParent(request->dir(), ctx_->data_dir);
  if (!s.ok()) return Done(ctx_, reactor, s);
  ServiceContext* ctx = ctx_;
  ctx_->blocking->Schedule([ctx, reactor, request, response] {
    uint64_t size = ctx->store->Size();
    absl::Status b = ctx->store->kv().Backup(request->dir());
    if (b.ok()) {
      response->set_dir(request->dir());
      response->set_size(size);
      LogJson("info", "backup written",
              {{"dir", request->dir()}, {"size", absl::StrCat(size)}});
    }
    Done(ctx, reactor, b);
  });
  return reactor;
}

}  // namespace segledger::node
