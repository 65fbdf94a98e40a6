// Who is calling and what they may call (DESIGN.md "Security").
//
// A caller is (party, role), taken from the client certificate by the
// configured principals (match on subject CN or any SAN, and on the
// certificate's direct issuer when the principal names one), or - in insecure
// mode only - the operator of the local party. The role x RPC table below
// is the single place authorisation is decided; a write RPC also requires
// the caller's party to be the node's party (a party writes only to its
// own log). Thread-safe after construction (immutable).
#ifndef SEGLEDGER_NODE_AUTHZ_H_
#define SEGLEDGER_NODE_AUTHZ_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"
#include "segledger/v1/admin_service.pb.h"

namespace segledger::node {

enum class Role { kOperator, kQa, kInspector, kPeer };

// Every RPC the node serves (one row of the table each).
enum class Rpc {
  kAppend,
  kAppendStream,
  kGetEntry,
  kGetEntries,
  kGetCheckpoint,
  kInclusionProof,
  kConsistencyProof,
  kProofs,
  kWatch,
  kQuery,
  kStatus,
  kCheckpointNow,
  kRotateKey,
  kBackup,
  kPeerHeldSize,
  kDeliverEvidence,
  kCosign,
  kPeerData,
};
// The last Rpc (for loops over the table).
inline constexpr Rpc kLastRpc = Rpc::kPeerData;

absl::string_view RoleName(Role role);
absl::StatusOr<Role> ParseRole(absl::string_view name);
absl::string_view RpcName(Rpc rpc);

struct Caller {
  std::string party;
  Role role = Role::kInspector;
  std::string subject;  // the matched CN/SAN ("insecure" in insecure mode)
};

// The table: may `role` call `rpc` at all? Writes additionally need the
// caller's party to be the node's (checked by Authorizer::Check).
bool RoleMayCall(Role role, Rpc rpc);
// True for RPCs that change the log or the node (need the local party).
bool IsWriteRpc(Rpc rpc);

class Authorizer {
 public:
  // INVALID_ARGUMENT naming principals[i].role for an unknown role,
  // principals[i].match for an empty match or principals[i].issuer_ca for
  // a file that is not a readable PEM certificate.
  static absl::StatusOr<Authorizer> New(
      std::string local_party, bool insecure,
      const std::vector<v1::Principal>& principals);

  // The caller of `ctx`: UNAUTHENTICATED without a client certificate,
  // PERMISSION_DENIED for a certificate no principal matches (by name, or
  // by name but not by issuer: the message says which).
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& ctx) const;

  // Identify + table + party rule. PERMISSION_DENIED names the role, party
  // and RPC.
  absl::StatusOr<Caller> Check(const grpc::ServerContextBase& ctx,
                               Rpc rpc) const;

  const std::string& local_party() const { return local_party_; }

 private:
  struct Issuer;  // a principal's issuer_ca, parsed (authz.cc)
  struct Entry {
    std::string match;
    std::string party;
    Role role;
    std::shared_ptr<const Issuer> issuer;  // null: any CA of tls_ca
    size_t index;                          // in the configured principals
  };
  // True when the client certificate of `auth` was signed by `issuer`.
  static bool IssuedBy(const Issuer& issuer, const grpc::AuthContext& auth);

  Authorizer(std::string local_party, bool insecure, std::vector<Entry> e)
      : local_party_(std::move(local_party)),
        insecure_(insecure),
        entries_(std::move(e)) {}

  std::string local_party_;
  bool insecure_;
  std::vector<Entry> entries_;
};

}  // namespace segledger::node

#endif  // SEGLEDGER_NODE_AUTHZ_H_
