#include "node/authz.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/security/auth_context.h"

namespace segledger::node {
namespace {

constexpr unsigned Bit(Role r) { return 1u << static_cast<unsigned>(r); }
constexpr unsigned kAll = Bit(Role::kOperator) | Bit(Role::kQa) |
                          Bit(Role::kInspector) | Bit(Role::kPeer);
constexpr unsigned kWriters = Bit(Role::kOperator) | Bit(Role::kQa);
constexpr unsigned kHumans =
    Bit(Role::kOperator) | Bit(Role::kQa) | Bit(Role::kInspector);

struct Row {
  Rpc rpc;
  const char* name;
  unsigned roles;
  bool write;
};

// THE authorisation table (role x RPC). Inspectors never write; peers read
// the log (to follow and cosign it) but never append or administer.
constexpr Row kTable[] = {
    {Rpc::kAppend, "Append", kWriters, true},
    {Rpc::kAppendStream, "AppendStream", kWriters, true},
    {Rpc::kGetEntry, "GetEntry", kAll, false},
    {Rpc::kGetEntries, "GetEntries", kAll, false},
    {Rpc::kGetCheckpoint, "GetCheckpoint", kAll, false},
    {Rpc::kInclusionProof, "GetInclusionProof", kAll, false},
    {Rpc::kConsistencyProof, "GetConsistencyProof", kAll, false},
    {Rpc::kWatch, "Watch", kAll, false},
    {Rpc::kQuery, "Query", kHumans, false},
    {Rpc::kStatus, "GetStatus", kAll, false},
    {Rpc::kCheckpointNow, "CheckpointNow", kWriters, true},
    {Rpc::kRotateKey, "RotateKey", Bit(Role::kOperator), true},
    {Rpc::kBackup, "Backup", Bit(Role::kOperator), true},
    // Peer protocol (docs/protocol.md). Evidence and cosigning requests are
    // self-authenticating (signed by the origin's key) and change only the
    // node's knowledge of other logs, never its own log: peers send them,
    // and operators may too (re-delivery by hand; insecure dev mode, where
    // every caller is the local operator).
    {Rpc::kPeerHeldSize, "GetHeldSize", kAll, false},
    {Rpc::kDeliverEvidence, "DeliverEvidence",
     Bit(Role::kPeer) | Bit(Role::kOperator), false},
    {Rpc::kCosign, "Cosign", Bit(Role::kPeer) | Bit(Role::kOperator), false},
    {Rpc::kPeerData, "GetPeerData", kAll, false},
};

const Row& RowOf(Rpc rpc) {
  for (const Row& row : kTable) {
    if (row.rpc == rpc) return row;
  }
  return kTable[0];  // unreachable: every Rpc has a row (tested)
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kQa:
      return "qa";
    case Role::kInspector:
      return "inspector";
    case Role::kPeer:
      return "peer";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kOperator, Role::kQa, Role::kInspector, Role::kPeer}) {
    if (RoleName(r) == name) return r;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown role \"", name, "\" (want operator, qa, inspector or peer)"));
}

absl::string_view RpcName(Rpc rpc) { return RowOf(rpc).name; }
bool RoleMayCall(Role role, Rpc rpc) { return RowOf(rpc).roles & Bit(role); }
bool IsWriteRpc(Rpc rpc) { return RowOf(rpc).write; }

absl::StatusOr<Authorizer> Authorizer::New(
    std::string local_party, bool insecure,
    const std::vector<v1::Principal>& principals) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < principals.size(); ++i) {
    const v1::Principal& p = principals[i];
    if (p.match().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("principals[", i, "].match: empty"));
    }
    absl::StatusOr<Role> role = ParseRole(p.role());
    if (!role.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("principals[", i, "].role: ", role.status().message()));
    }
    entries.push_back(
        Entry{p.match(), p.party().empty() ? local_party : p.party(), *role});
  }
  return Authorizer(std::move(local_party), insecure, std::move(entries));
}

absl::StatusOr<Caller> Authorizer::Identify(
    const grpc::ServerContextBase& ctx) const {
  if (insecure_) return Caller{local_party_, Role::kOperator, "insecure"};
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no client certificate");
  }
  std::vector<std::string> names;
  for (const char* prop :
       {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& v : auth->FindPropertyValues(prop)) {
      names.emplace_back(v.data(), v.size());
    }
  }
  for (const Entry& e : entries_) {
    for (const std::string& n : names) {
      if (n == e.match) return Caller{e.party, e.role, n};
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("client certificate \"", names.empty() ? "" : names[0],
                   "\" matches no configured principal"));
}

absl::StatusOr<Caller> Authorizer::Check(const grpc::ServerContextBase& ctx,
                                         Rpc rpc) const {
  absl::StatusOr<Caller> caller = Identify(ctx);
  if (!caller.ok()) return caller;
  if (!RoleMayCall(caller->role, rpc)) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller->role), " of party ",
                     caller->party, " may not call ", RpcName(rpc)));
  }
  if (IsWriteRpc(rpc) && caller->party != local_party_) {
    return absl::PermissionDeniedError(
        absl::StrCat("party ", caller->party, " may not call ", RpcName(rpc),
                     " on the log of party ", local_party_));
  }
  return caller;
}

}  // namespace segledger::node
