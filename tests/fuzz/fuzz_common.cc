#include "tests/fuzz/fuzz_common.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/checkpoint.h"
#include "ledger/compact_range.h"
#include "ledger/ed25519.h"
#include "ledger/entry_codec.h"
#include "ledger/hash.h"
#include "segledger/v1/entry.pb.h"

namespace segledger::fuzz {
namespace {

// Fixtures must exist for a target to mean anything: abort loudly.
template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) std::abort();
  return *std::move(v);
}

std::shared_ptr<const NoteSigner> MakeSigner(const char* name, char seed) {
  std::unique_ptr<Ed25519Signer> key =
      Must(Ed25519Signer::New(std::string(kEd25519SeedSize, seed)));
  return std::make_shared<const NoteSigner>(
      name, std::shared_ptr<const Ed25519Signer>(std::move(key)));
}

const std::shared_ptr<const NoteSigner>& SignerC() {
  static const auto* c =
      new std::shared_ptr<const NoteSigner>(MakeSigner("fuzz-c", 0x0c));
  return *c;
}

std::string PublicKeyBytes(const NoteSigner& s) {
  const Ed25519PublicKey& pub = s.signer().public_key();
  return std::string(reinterpret_cast<const char*>(pub.data()), pub.size());
}

// The record of entry `i` of ValidLog().
v1::Record RecordAt(uint64_t i) {
  v1::Record r;
  if (i == 0) {
    v1::KeyRegistration* reg = r.mutable_key_registration();
    reg->set_key_name(SignerC()->name());
    reg->set_public_key(PublicKeyBytes(*SignerC()));
    reg->set_purpose("fuzz fixture");
  } else if (i == 4) {
    v1::KeyRotation* rot = r.mutable_key_rotation();
    rot->set_old_key_name(SignerA().name());
    rot->set_new_key_name(SignerB().name());
    rot->set_new_public_key(PublicKeyBytes(SignerB()));
    rot->mutable_effective_at()->set_seconds(1700000004);
    rot->set_possession_signature(
        Must(SignerB().signer().Sign(KeyRotationPossessionMessage(
            SignerA().name(), SignerB().name(), PublicKeyBytes(SignerB())))));
    rot->set_reason("scheduled");
  } else {
    r.mutable_deviation()->set_deviation_id(absl::StrCat("dev-", i));
  }
  return r;
}

std::vector<FuzzEntry> BuildLog() {
  std::vector<FuzzEntry> log;
  Hash prev = kZeroHash;
  for (uint64_t i = 0; i < kFuzzLogSize; ++i) {
    const NoteSigner& key = i <= 4 ? SignerA() : SignerB();
    v1::EntryBody body;
    body.set_log_origin(std::string(kFuzzOrigin));
    body.set_index(i);
    body.set_prev_hash(std::string(HashBytes(prev)));
    body.mutable_recorded_at()->set_seconds(1700000000 + i);
    body.set_key_name(key.name());
    body.mutable_actor()->set_person_id(absl::StrCat("op-", i % 3));
    body.set_request_id(absl::StrCat("req-", i));
    *body.mutable_record() = RecordAt(i);
    std::string bytes = Must(SerializeEntryBody(body));
    v1::SignedEntry signed_entry = Must(SignEntry(bytes, key.signer()));
    prev = EntryLeafHash(bytes);
    log.push_back(FuzzEntry{bytes, signed_entry.signature()});
  }
  return log;
}

std::vector<std::string> BuildCheckpoints() {
  std::vector<std::string> notes;
  CompactRange range;
  for (const FuzzEntry& e : ValidLog()) {
    range.Append(EntryLeafHash(e.body), nullptr);
    Checkpoint cp;
    cp.origin = std::string(kFuzzOrigin);
    cp.size = range.size();
    cp.root = range.Root();
    notes.push_back(Must(SignCheckpoint(cp, SignerA())));
  }
  return notes;
}

}  // namespace

const NoteSigner& SignerA() {
  static const auto* a =
      new std::shared_ptr<const NoteSigner>(MakeSigner("fuzz-a", 0x0a));
  return **a;
}

const NoteSigner& SignerB() {
  static const auto* b =
      new std::shared_ptr<const NoteSigner>(MakeSigner("fuzz-b", 0x0b));
  return **b;
}

const std::vector<NoteVerifier>& KnownVerifiers() {
  static const auto* v =
      new std::vector<NoteVerifier>{SignerA().Verifier(), SignerB().Verifier()};
  return *v;
}

const std::vector<FuzzEntry>& ValidLog() {
  static const auto* log = new std::vector<FuzzEntry>(BuildLog());
  return *log;
}

const std::vector<std::string>& ValidCheckpoints() {
  static const auto* notes = new std::vector<std::string>(BuildCheckpoints());
  return *notes;
}

std::string FormatArchive(const std::map<std::string, std::string>& files) {
  std::string out;
  for (const auto& [path, content] : files) {
    out.push_back(static_cast<char>((path.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(path.size() & 0xff));
    out += path;
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((content.size() >> shift) & 0xff));
    }
    out += content;
  }
  return out;
}

std::map<std::string, std::string> ParseArchive(absl::string_view data) {
  std::map<std::string, std::string> files;
  auto take = [&data](size_t n, uint64_t* v) {
    if (data.size() < n) return false;
    *v = 0;
    for (size_t i = 0; i < n; ++i) *v = (*v << 8) | uint8_t(data[i]);
    data.remove_prefix(n);
    return true;
  };
  uint64_t path_len = 0, content_len = 0;
  while (take(2, &path_len) && data.size() >= path_len) {
    std::string path(data.substr(0, path_len));
    data.remove_prefix(path_len);
    if (!take(4, &content_len) || data.size() < content_len) break;
    files[path] = std::string(data.substr(0, content_len));
    data.remove_prefix(content_len);
  }
  return files;
}

}  // namespace segledger::fuzz
