#include "node/authz.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/auth_context.h"
#include "node/data_dir.h"

namespace segledger::node {

// A principal's issuer_ca: the CA certificate that must have signed the
// caller's certificate itself. The TLS handshake has already checked the
// chain against tls_ca; this narrows "some CA of the bundle" to this one.
struct Authorizer::Issuer {
  // Every certificate of the file (a party may sign with more than one
  // CA, e.g. during a CA renewal): any of them may have signed the
  // caller's certificate.
  std::vector<std::unique_ptr<X509, void (*)(X509*)>> certs;
  // Client certificates (PEM) already judged, so a connection's calls do
  // not each verify a signature; bounded (cleared when full).
  mutable absl::Mutex mu;
  mutable absl::flat_hash_map<std::string, bool> judged ABSL_GUARDED_BY(mu);
};

namespace {

using X509Ptr = std::unique_ptr<X509, void (*)(X509*)>;

constexpr size_t kMaxJudged = 1024;

// The certificates of a PEM text, in order (none when it holds none).
std::vector<X509Ptr> ParsePem(absl::string_view pem) {
  std::vector<X509Ptr> out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio != nullptr) {
    while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      out.emplace_back(x, X509_free);
    }
    BIO_free(bio);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

// True when `ca` signed `leaf`: its subject is the leaf's issuer (and the
// key identifiers agree) and its key verifies the leaf's signature.
bool SignedBy(X509* leaf, X509* ca) {
  bool ok = X509_check_issued(ca, leaf) == X509_V_OK;
  if (ok) {
    EVP_PKEY* key = X509_get0_pubkey(ca);
    ok = key != nullptr && X509_verify(leaf, key) == 1;
  }
  ERR_clear_error();
  return ok;
}

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
    {Rpc::kProofs, "GetProofs", kAll, false},
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
    std::shared_ptr<Issuer> issuer;
    if (!p.issuer_ca().empty()) {
      const std::string field = absl::StrCat("principals[", i, "].issuer_ca");
      absl::StatusOr<std::string> pem = ReadTextFile(field, p.issuer_ca());
      if (!pem.ok()) return pem.status();
      issuer = std::make_shared<Issuer>();
      issuer->certs = ParsePem(*pem);
      if (issuer->certs.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": \"", p.issuer_ca(), "\" holds no PEM certificate"));
      }
    }
    entries.push_back(Entry{p.match(),
                            p.party().empty() ? local_party : p.party(), *role,
                            std::move(issuer), i});
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
  const Entry* wrong_issuer = nullptr;
  for (const Entry& e : entries_) {
    for (const std::string& n : names) {
      if (n != e.match) continue;
      if (e.issuer != nullptr && !IssuedBy(*e.issuer, *auth)) {
        if (wrong_issuer == nullptr) wrong_issuer = &e;
        continue;
      }
      return Caller{e.party, e.role, n};
    }
  }
  if (wrong_issuer != nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("client certificate \"", wrong_issuer->match,
                     "\" is not issued by the CA of principals[",
                     wrong_issuer->index, "].issuer_ca"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("client certificate \"", names.empty() ? "" : names[0],
                   "\" matches no configured principal"));
}

bool Authorizer::IssuedBy(const Issuer& issuer, const grpc::AuthContext& auth) {
  std::vector<grpc::string_ref> pems = auth.FindPropertyValues("x509_pem_cert");
  if (pems.empty()) return false;
  std::string pem(pems[0].data(), pems[0].size());
  {
    absl::MutexLock lock(&issuer.mu);
    auto it = issuer.judged.find(pem);
    if (it != issuer.judged.end()) return it->second;
  }
  std::vector<X509Ptr> leaf = ParsePem(pem);
  bool ok = false;
  for (const X509Ptr& ca : issuer.certs) {
    ok = ok || (!leaf.empty() && SignedBy(leaf[0].get(), ca.get()));
  }
  absl::MutexLock lock(&issuer.mu);
  if (issuer.judged.size() >= kMaxJudged) issuer.judged.clear();
  issuer.judged.emplace(std::move(pem), ok);
  return ok;
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
