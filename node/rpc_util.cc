#include "node/rpc_util.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ledger/ed25519.h"
#include "ledger/note.h"

namespace segledger::node {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::ServerUnaryReactor* Done(ServiceContext* ctx,
                               grpc::ServerUnaryReactor* reactor,
                               const absl::Status& status) {
  if (!status.ok()) ctx->metrics->rpc_errors_total.fetch_add(1);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

namespace {

absl::Status Invalid(absl::string_view path, absl::string_view field,
                     absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", what));
}

bool Printable(absl::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

absl::Status ValidateKeyRecord(const v1::Record& record,
                               absl::string_view path) {
  if (record.has_key_registration()) {
    const v1::KeyRegistration& k = record.key_registration();
    if (k.key_name().empty()) {
      return Invalid(path, "record.key_registration.key_name", "empty");
    }
    if (absl::Status n = CheckNoteKeyName(k.key_name()); !n.ok()) {
      return Invalid(path, "record.key_registration.key_name", n.message());
    }
    if (k.public_key().size() != kEd25519PublicKeySize) {
      return Invalid(path, "record.key_registration.public_key",
                     absl::StrCat(k.public_key().size(), " bytes, want 32"));
    }
    Ed25519PublicKey key{};
    std::copy(k.public_key().begin(), k.public_key().end(), key.begin());
    if (absl::Status weak = CheckEd25519PublicKey(key); !weak.ok()) {
      return Invalid(path, "record.key_registration.public_key",
                     weak.message());
    }
  }
  if (record.has_key_rotation()) {
    return Invalid(path, "record.key_rotation",
                   "rotate keys with AdminService.RotateKey");
  }
  if (record.has_key_revocation()) {
    const std::string& name = record.key_revocation().key_name();
    if (name.empty()) {
      return Invalid(path, "record.key_revocation.key_name", "empty");
    }
    if (absl::Status n = CheckNoteKeyName(name); !n.ok()) {
      return Invalid(path, "record.key_revocation.key_name", n.message());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAppendRecord(const v1::AppendRecordRequest& req,
                                  absl::string_view path) {
  if (req.request_id().size() > kMaxRequestIdSize) {
    return Invalid(path, "request_id",
                   absl::StrCat(req.request_id().size(), " bytes, at most ",
                                kMaxRequestIdSize));
  }
  if (!Printable(req.request_id())) {
    return Invalid(path, "request_id", "contains control characters");
  }
  if (!req.has_actor()) return Invalid(path, "actor", "missing");
  if (req.actor().person_id().empty()) {
    return Invalid(path, "actor.person_id", "empty");
  }
  if (req.actor().printed_name().empty()) {
    return Invalid(path, "actor.printed_name", "empty");
  }
  if (req.actor().meaning() == v1::SIGNATURE_MEANING_UNSPECIFIED) {
    return Invalid(path, "actor.meaning", "unspecified");
  }
  if (req.record().kind_case() == v1::Record::KIND_NOT_SET) {
    return Invalid(path, "record", "no record kind set");
  }
  return ValidateKeyRecord(req.record(), path);
}

absl::Status CheckRecordRole(const v1::Record& record, Role role,
                             absl::string_view path) {
  if (role == Role::kOperator) return absl::OkStatus();
  const char* kind = record.has_key_registration() ? "key_registration"
                     : record.has_key_revocation() ? "key_revocation"
                                                   : nullptr;
  if (kind == nullptr) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(path, ".record.", kind,
                   ": key records need the operator role (as RotateKey)"));
}

store::AppendRecord ToStoreRecord(v1::AppendRecordRequest req) {
  store::AppendRecord r;
  r.actor = std::move(*req.mutable_actor());
  r.request_id = std::move(*req.mutable_request_id());
  r.record = std::move(*req.mutable_record());
  return r;
}

void FillAck(const store::AppendResult& result, v1::AppendAck* ack) {
  ack->set_index(result.index);
  ack->set_leaf_hash(std::string(HashBytes(result.leaf_hash)));
  ack->set_replayed(result.replayed);
}

}  // namespace segledger::node
