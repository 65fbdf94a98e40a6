// Writes the seed corpora of the fuzz targets: make_seeds <corpus dir>
// creates <dir>/<target>/seed-NN files from the fixtures of fuzz_common.h
// (valid entries, checkpoints, verifier keys, tile paths, domain records,
// a real bundle of the fixture-sized log, tlog-proof files). Deterministic
// except for the bundle's timestamps. Run by scripts/fuzz.sh --seeds; the
// output is committed under tests/fuzz/corpus.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/store/log_store.h"
#include "ledger/store/memory_kv.h"
#include "segledger/v1/admin_service.pb.h"
#include "segledger/v1/ledger_service.pb.h"
#include "segledger/v1/peer_service.pb.h"
#include "segledger/v1/query_service.pb.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_rpc_methods.h"
#include "tools/bundle_writer.h"
#include "tools/proof_file.h"
#include "tools/store_source.h"

namespace segledger::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::vector<std::string>& seeds) {
  fs::create_directories(dir);
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream(dir / absl::StrFormat("seed-%02d", i), std::ios::binary)
        << seeds[i];
  }
}

std::vector<std::string> EntrySeeds() {
  std::vector<std::string> out;
  for (const FuzzEntry& e : ValidLog()) {
    v1::SignedEntry s;
    s.set_body(e.body);
    s.set_signature(e.signature);
    out.push_back(s.SerializeAsString());
  }
  return out;
}

v1::RecordHeader Header(int n) {
  v1::RecordHeader h;
  h.set_party_id("party-cmo");
  h.set_site_id("site-cmo-1");
  h.mutable_event_time()->mutable_time()->set_seconds(1700000000 + n);
  v1::Actor* a = h.add_signatures();
  a->set_person_id("op-1");
  a->set_printed_name("Operator One");
  a->set_role("operator");
  a->set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
  return h;
}

std::vector<std::string> RecordSeeds() {
  std::map<std::string, std::string> files;
  v1::Record party;
  v1::PartyRegistration* p = party.mutable_party_registration();
  *p->mutable_header() = Header(0);
  p->mutable_header()->clear_site_id();
  p->set_legal_name("CMO One Co., Ltd.");
  p->set_role(v1::PARTY_ROLE_CMO);
  p->set_province("CN-SH");
  files["000"] = party.SerializeAsString();
  v1::Record lot;
  v1::LotProduced* l = lot.mutable_lot_produced();
  *l->mutable_header() = Header(1);
  l->set_lot_id("lot-1");
  l->set_product_id("prod-1");
  l->set_material_id("mat-ds");
  l->set_stage_id("ds");
  l->mutable_production()->mutable_from()->set_seconds(1700000000);
  l->mutable_quantity()->set_value("12.5");
  l->mutable_quantity()->set_unit("kg");
  files["001"] = lot.SerializeAsString();
  std::vector<std::string> out = {FormatArchive(files)};
  files.erase("000");
  out.push_back(FormatArchive(files));
  return out;
}

// RFC 9162 MTH of leaves [b, e).
Hash Mth(const std::vector<Hash>& leaves, uint64_t b, uint64_t e) {
  if (e - b == 1) return leaves[b];
  uint64_t k = 1;
  while (k * 2 < e - b) k *= 2;
  return NodeHash(Mth(leaves, b, b + k), Mth(leaves, b + k, e));
}

// The inclusion proof of fixture entry `i` in the tree of `size` entries.
std::vector<Hash> FixtureInclusionProof(uint64_t i, uint64_t size) {
  std::vector<Hash> leaves;
  for (const FuzzEntry& e : ValidLog()) leaves.push_back(LeafHash(e.body));
  ProofNodes nodes = *InclusionNodes(i, size);
  std::vector<Hash> hashes;
  for (const NodeId& id : nodes.ids) {
    const uint64_t b = id.index << id.level;
    hashes.push_back(Mth(leaves, b, b + (uint64_t{1} << id.level)));
  }
  return *nodes.Rehash(hashes);
}

std::vector<std::string> ProofFileSeeds() {
  std::vector<std::string> out;
  const uint64_t size = kFuzzLogSize;
  for (uint64_t i : {uint64_t{0}, uint64_t{4}, size - 1}) {
    v1::SignedEntry entry;
    entry.set_body(ValidLog()[i].body);
    entry.set_signature(ValidLog()[i].signature);
    out.push_back(tools::MakeEntryProofFile(entry, i,
                                            FixtureInclusionProof(i, size),
                                            ValidCheckpoints()[size - 1]));
  }
  return out;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A bundle of a MemoryKv log of `n` entries, as an archive.
std::string BundleSeed(uint64_t n, const fs::path& tmp) {
  store::LogStoreOptions o;
  o.origin = std::string(kFuzzOrigin);
  o.checkpoint_every = 4;
  o.checkpoint_interval = absl::ZeroDuration();
  auto signer = std::make_shared<const NoteSigner>(SignerA());
  auto log =
      store::LogStore::Open(std::make_unique<store::MemoryKv>(), {signer}, o);
  if (!log.ok()) std::abort();
  for (uint64_t i = 0; i < n; ++i) {
    store::AppendRecord r;
    r.request_id = absl::StrCat("req-", i);
    r.record.mutable_deviation()->set_deviation_id(absl::StrCat("dev-", i));
    std::vector<store::AppendRecord> one;
    one.push_back(std::move(r));
    if (!(*log)->Append(std::move(one)).ok()) std::abort();
  }
  if (!(*log)->Close().ok()) std::abort();
  const fs::path dir = tmp / absl::StrCat("bundle-", n);
  fs::remove_all(dir);
  tools::StoreExportSource source(log->get());
  tools::LogExportSource* sources[] = {&source};
  tools::BundleWriteOptions wo;
  wo.sync = false;
  if (!tools::WriteBundle(sources, dir.string(), wo).ok()) std::abort();
  std::map<std::string, std::string> files;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    files[fs::relative(f.path(), dir).generic_string()] = ReadFile(f.path());
  }
  fs::remove_all(dir);
  return FormatArchive(files);
}

// fuzz_rpc: [method byte][serialized request] (fuzz_rpc_methods.h), one
// valid request per RPC and a few that reach the refusals; the evidence
// and cosign requests carry the fixture log's proofs and checkpoints.
std::string Rpc(RpcMethod m, const google::protobuf::Message& req) {
  return std::string(1, static_cast<char>(m)) + req.SerializeAsString();
}

v1::AppendRecordRequest RpcRecord(int n) {
  v1::AppendRecordRequest r;
  r.set_request_id(absl::StrCat("rpc-req-", n));
  v1::Actor* a = r.mutable_actor();
  a->set_person_id("op-1");
  a->set_printed_name("Operator One");
  a->set_role("operator");
  a->set_meaning(v1::SIGNATURE_MEANING_PERFORMED);
  // Key registrations: core records the domain rules accept as they are.
  v1::KeyRegistration* k = r.mutable_record()->mutable_key_registration();
  k->set_key_name(absl::StrCat("device-", n));
  k->set_public_key(std::string(32, static_cast<char>('A' + n)));
  k->set_purpose("scale");
  return r;
}

v1::ProvenEntry Proven(uint64_t i, uint64_t size) {
  v1::ProvenEntry p;
  p.set_index(i);
  p.mutable_entry()->set_body(ValidLog()[i].body);
  p.mutable_entry()->set_signature(ValidLog()[i].signature);
  for (const Hash& h : FixtureInclusionProof(i, size)) {
    p.add_inclusion_proof(std::string(HashBytes(h)));
  }
  return p;
}

std::vector<std::string> RpcSeeds() {
  std::vector<std::string> out;
  v1::AppendRequest append;
  for (int n = 0; n < 3; ++n) *append.add_records() = RpcRecord(n);
  out.push_back(Rpc(RpcMethod::kAppend, append));
  v1::AppendStreamRequest stream;
  for (int n = 3; n < 5; ++n) {
    v1::StreamRecord* sr = stream.add_records();
    sr->set_sequence(n);
    *sr->mutable_record() = RpcRecord(n);
  }
  out.push_back(Rpc(RpcMethod::kAppendStream, stream));
  v1::GetEntryRequest entry;
  out.push_back(Rpc(RpcMethod::kGetEntry, entry));
  entry.set_origin(std::string(kFuzzOrigin));
  out.push_back(Rpc(RpcMethod::kGetEntry, entry));
  v1::GetEntriesRequest entries;
  entries.set_from(1);
  entries.set_to(3);
  out.push_back(Rpc(RpcMethod::kGetEntries, entries));
  v1::GetCheckpointRequest cp;
  out.push_back(Rpc(RpcMethod::kGetCheckpoint, cp));
  cp.set_size(1);
  out.push_back(Rpc(RpcMethod::kGetCheckpoint, cp));
  v1::ListCheckpointsRequest list;
  list.set_limit(2);
  out.push_back(Rpc(RpcMethod::kListCheckpoints, list));
  v1::InclusionProofRequest inclusion;
  inclusion.set_index(1);
  out.push_back(Rpc(RpcMethod::kGetInclusionProof, inclusion));
  v1::ConsistencyProofRequest consistency;
  consistency.set_old_size(1);
  consistency.set_tree_size(3);
  out.push_back(Rpc(RpcMethod::kGetConsistencyProof, consistency));
  v1::WatchRequest watch;
  watch.set_entries(true);
  watch.set_checkpoints(true);
  out.push_back(Rpc(RpcMethod::kWatch, watch));
  out.push_back(Rpc(RpcMethod::kGetStatus, v1::StatusRequest()));
  out.push_back(Rpc(RpcMethod::kCheckpointNow, v1::CheckpointNowRequest()));
  v1::RotateKeyRequest rotate;
  rotate.set_new_key_name("rpc.fuzz.example/key-2");
  rotate.set_reason("scheduled");
  *rotate.mutable_actor() = RpcRecord(0).actor();
  out.push_back(Rpc(RpcMethod::kRotateKey, rotate));
  v1::BackupRequest backup;
  backup.set_dir("/fuzz-rpc-backup");  // redirected into the sandbox
  out.push_back(Rpc(RpcMethod::kBackup, backup));
  backup.set_dir("relative/dir");
  out.push_back(Rpc(RpcMethod::kBackup, backup));
  v1::HeldSizeRequest held;
  held.set_origin(std::string(kFuzzOrigin));
  out.push_back(Rpc(RpcMethod::kGetHeldSize, held));
  // Evidence of entry 2 under the size-4 checkpoint (signed by fuzz-a,
  // the key before the rotation at index 4), with the key record at 0;
  // and of entry 5 under the size-8 one (fuzz-a rotated out: refused).
  for (uint64_t size : {uint64_t{4}, kFuzzLogSize}) {
    v1::DeliverEvidenceRequest deliver;
    v1::HandoffEvidence* ev = deliver.mutable_evidence();
    ev->set_origin(std::string(kFuzzOrigin));
    *ev->mutable_entry() = Proven(size == 4 ? 2 : 5, size);
    ev->set_checkpoint(ValidCheckpoints()[size - 1]);
    *ev->add_key_records() = Proven(0, size);
    if (size > 4) *ev->add_key_records() = Proven(4, size);
    out.push_back(Rpc(RpcMethod::kDeliverEvidence, deliver));
    v1::CosignRequest cosign;
    cosign.set_checkpoint(ValidCheckpoints()[size - 1]);
    out.push_back(Rpc(RpcMethod::kCosign, cosign));
  }
  v1::PeerDataRequest data;
  out.push_back(Rpc(RpcMethod::kGetPeerData, data));
  data.set_origin(std::string(kFuzzOrigin));
  out.push_back(Rpc(RpcMethod::kGetPeerData, data));
  v1::FindingsRequest findings;
  findings.set_min_severity("info");
  out.push_back(Rpc(RpcMethod::kFindings, findings));
  v1::LotQueryRequest lot;
  lot.set_lot_id("lot-1");
  out.push_back(Rpc(RpcMethod::kTimeline, lot));
  out.push_back(Rpc(RpcMethod::kMassBalance, lot));
  v1::TraceRequest trace;
  trace.set_lot_id("lot-1");
  trace.set_forward(true);
  out.push_back(Rpc(RpcMethod::kTrace, trace));
  v1::ProofsRequest proofs;
  proofs.set_index(1);
  proofs.set_old_size(1);
  proofs.set_tree_size(3);
  out.push_back(Rpc(RpcMethod::kGetProofs, proofs));
  return out;
}

}  // namespace

int Main(const fs::path& out, const fs::path& tmp) {
  Write(out / "fuzz_entry_codec", EntrySeeds());
  std::vector<std::string> notes = ValidCheckpoints();
  notes.push_back(*AddNoteSignature(notes.back(), SignerB()));
  Write(out / "fuzz_note", notes);
  Write(out / "fuzz_checkpoint", notes);
  Write(out / "fuzz_verifier_key",
        {SignerA().Verifier().VerifierKey(), SignerB().Verifier().VerifierKey(),
         "fuzz+00000000+AQ=="});
  Write(out / "fuzz_tile_path",
        {"tile/0/000", "tile/1/x001/x234/067.p/7", "tile/entries/000.p/8",
         "signatures/x002/255", "fuzz.example%2Fsegledger", "tile/63/000"});
  Write(out / "fuzz_proof", {std::string(48, '\0'), std::string(200, '\x01'),
                             std::string(160, '\x7f')});
  Write(out / "fuzz_log_verifier",
        {std::string(64, '\0'), std::string(300, '\x05'),
         std::string(300, '\x80')});
  Write(out / "fuzz_record_validation", RecordSeeds());
  Write(out / "fuzz_proof_file", ProofFileSeeds());
  Write(out / "fuzz_bundle", {BundleSeed(5, tmp), BundleSeed(9, tmp)});
  Write(out / "fuzz_rpc", RpcSeeds());
  return 0;
}

}  // namespace segledger::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <corpus dir>\n");
    return 2;
  }
  return segledger::fuzz::Main(argv[1], std::filesystem::temp_directory_path());
}
