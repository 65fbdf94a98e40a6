#include "ledger/verifier.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/checkpoint.h"
#include "ledger/ed25519.h"
#include "ledger/entry_codec.h"
#include "ledger/proto_time.h"
#include "segledger/v1/entry.pb.h"

namespace segledger {
namespace {

std::string TimeString(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

bool IsKeyRecord(const v1::EntryBody& body) {
  return body.record().kind_case() == v1::Record::kKeyRegistration ||
         body.record().kind_case() == v1::Record::kKeyRotation ||
         body.record().kind_case() == v1::Record::kKeyRevocation;
}

// A 32-byte public key from record bytes; INVALID_ARGUMENT otherwise.
absl::StatusOr<NoteVerifier> KeyFromRecord(absl::string_view name,
                                           absl::string_view public_key) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "public key of \"%s\" is %d bytes, want %d", absl::CHexEscape(name),
        public_key.size(), kEd25519PublicKeySize));
  }
  Ed25519PublicKey key;
  std::copy(public_key.begin(), public_key.end(), key.begin());
  return NoteVerifier::FromPublicKey(name, key);
}

const std::function<void(NodeId, const Hash&)>& NoVisit() {
  static const auto* const kNoVisit =
      new std::function<void(NodeId, const Hash&)>();
  return *kNoVisit;
}

}  // namespace

absl::string_view FindingKindName(FindingKind kind) {
  // Stable: these names appear in JSON output and reports.
  static constexpr absl::string_view kNames[] = {
      "malformed_entry",      "wrong_origin",       "wrong_index",
      "broken_chain",         "bad_signature",      "unknown_key",
      "key_outside_validity", "bad_checkpoint",     "root_mismatch",
      "missing_entries",      "tree_node_mismatch", "equivocation",
      "store_inconsistent"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) ==
                static_cast<size_t>(FindingKind::kStoreInconsistent) + 1);
  const auto i = static_cast<size_t>(kind);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "unknown";
}

Severity DefaultSeverity(FindingKind kind) {
  switch (kind) {
    // Evidence itself is wrong: the log can not be trusted as is.
    case FindingKind::kMalformedEntry:
    case FindingKind::kWrongOrigin:
    case FindingKind::kWrongIndex:
    case FindingKind::kBrokenChain:
    case FindingKind::kBadSignature:
    case FindingKind::kRootMismatch:
    case FindingKind::kEquivocation:
      return Severity::kCritical;
    // Key misuse, unverifiable or incomplete evidence, damaged derived data.
    case FindingKind::kUnknownKey:
    case FindingKind::kKeyOutsideValidity:
    case FindingKind::kBadCheckpoint:
    case FindingKind::kMissingEntries:
    case FindingKind::kTreeNodeMismatch:
    case FindingKind::kStoreInconsistent:
      return Severity::kMajor;
  }
  return Severity::kCritical;
}

absl::string_view SeverityName(Severity s) {
  static constexpr absl::string_view kNames[] = {"info", "warning", "major",
                                                 "critical"};
  const auto i = static_cast<size_t>(s);
  return i < 4 ? kNames[i] : "unknown";
}

struct LogVerifier::Pending {
  uint64_t index = 0;
  std::string body;
  std::string signature;
  v1::EntryBody parsed;       // valid when parse_status is OK
  absl::Status parse_status;  // ParseEntryBody's verdict
  Hash leaf{};
  const KeyState* key = nullptr;  // the key whose signature to check
  bool key_valid = false;         // key valid for this entry
  bool sig_checked = false;       // already verified (key records)
  bool sig_ok = false;
  // Parallel pass: the key the name resolved to before the in-order pass
  // (a name, once known, always resolves to the same key) and its verdict.
  const KeyState* early_key = nullptr;
  bool early_ok = false;
  // Key records: the key the record introduces and, for a rotation, the
  // possession signature's verdict (pure functions of the record).
  std::optional<absl::StatusOr<NoteVerifier>> record_key;
  absl::Status possession;
};

// A signing key. Validity (entry.proto key records): trusted keys from the
// start; registered keys after their registration, within valid_from /
// valid_until; a rotated-out key no longer after the rotation entry; a
// revoked key not for entries recorded at or after effective_at, nor for
// any entry after the revocation entry (whatever its recorded_at: a key
// thief could otherwise backdate entries appended after the revocation).
struct LogVerifier::KeyState {
  explicit KeyState(NoteVerifier n) : note(std::move(n)) {}

  // Empty when the key may sign entry `index` recorded at `t`.
  std::string InvalidReason(uint64_t index, absl::Time t) const {
    if (retired_at >= 0 && index > static_cast<uint64_t>(retired_at)) {
      return absl::StrFormat("retired by the key rotation at entry %d",
                             retired_at);
    }
    if (first_revocation >= 0 &&
        index > static_cast<uint64_t>(first_revocation)) {
      return absl::StrFormat("revoked by entry %d (signs nothing after it)",
                             first_revocation);
    }
    if (revoked_by >= 0 && t >= revoked_from) {
      return absl::StrFormat("revoked from %s by entry %d",
                             TimeString(revoked_from), revoked_by);
    }
    if (valid_from.has_value() && t < *valid_from) {
      return absl::StrCat("not valid before ", TimeString(*valid_from));
    }
    if (valid_until.has_value() && t >= *valid_until) {
      return absl::StrCat("expired at ", TimeString(*valid_until));
    }
    return "";
  }

  struct Use {
    uint64_t index;
    absl::Time at;
  };
  NoteVerifier note;  // immutable: read by all threads of the pool
  std::optional<absl::Time> valid_from;
  std::optional<absl::Time> valid_until;
  int64_t retired_at = -1;        // index of the rotation that retired it
  int64_t revoked_by = -1;        // index of the revocation
  int64_t first_revocation = -1;  // index of the first revocation
  absl::Time revoked_from;
  // Entries it validly signed, for revocations that reach into the past.
  std::vector<Use> uses;
};

LogVerifier::LogVerifier(LogVerifierOptions options)
    : options_(std::move(options)) {
  options_.batch_size = std::max<size_t>(options_.batch_size, 1);
  for (const NoteVerifier& key : options_.trusted_keys) AddKey(key);
}

LogVerifier::~LogVerifier() {
  // The pool may still prepare the batch in flight: it uses this object.
  if (in_flight_ != nullptr && in_flight_->job != nullptr) {
    in_flight_->job->Wait();
  }
}

void LogVerifier::AddKey(const NoteVerifier& key) {
  auto it = keys_.find(key.name());
  if (it != keys_.end()) {
    if (it->second->note.public_key() != key.public_key()) {
      extra_keys_.push_back(key);
    }
    return;
  }
  // A NoteVerifier always holds a usable Ed25519 key (its factories check
  // it), so the key's verifier is shared rather than built again; its
  // OpenSSL key is made only if an entry or checkpoint by it is checked.
  auto state = std::make_unique<KeyState>(key);
  absl::WriterMutexLock lock(&keys_mu_);
  keys_.emplace(key.name(), std::move(state));
}

std::vector<NoteVerifier> LogVerifier::KnownKeys() const {
  std::vector<const KeyState*> sorted;
  sorted.reserve(keys_.size());
  for (const auto& [name, key] : keys_) sorted.push_back(key.get());
  std::sort(sorted.begin(), sorted.end(),
            [](const KeyState* a, const KeyState* b) {
              return a->note.name() < b->note.name();
            });
  std::vector<NoteVerifier> out;
  out.reserve(keys_.size() + extra_keys_.size());
  for (const KeyState* key : sorted) out.push_back(key->note);
  out.insert(out.end(), extra_keys_.begin(), extra_keys_.end());
  return out;
}

// The keys of KnownKeys, in its order, whose name is on a signature line
// of a checkpoint note. OpenNote matches a line to known keys by name and
// key hash only, so it gives the same answers with these as with all
// KnownKeys, without copying every key the log registered.
std::vector<NoteVerifier> LogVerifier::CheckpointKeys() const {
  std::set<std::string> names;  // sorted, as KnownKeys
  for (const auto& [size, group] : checkpoints_) {
    for (const std::string& note : group.notes) {
      absl::StatusOr<Note> parsed = ParseNote(note);
      if (!parsed.ok()) continue;  // AddCheckpoint kept only parsed notes
      for (const NoteSignature& sig : parsed->signatures) {
        names.insert(sig.name);
      }
    }
  }
  std::vector<NoteVerifier> out;
  for (const std::string& name : names) {
    auto it = keys_.find(name);
    if (it != keys_.end()) out.push_back(it->second->note);
  }
  for (const NoteVerifier& key : extra_keys_) {
    if (names.count(key.name())) out.push_back(key);
  }
  return out;
}

void LogVerifier::Report(FindingKind kind, int64_t index, std::string detail) {
  findings_.push_back(Finding{kind, DefaultSeverity(kind), options_.origin,
                              index, std::move(detail)});
}

void LogVerifier::AddEntry(uint64_t index, absl::string_view body,
                           absl::string_view signature) {
  if (finished_) return;
  // Reports made here follow those of every batch filled before (as if
  // each batch were checked when it filled).
  if (index < next_index_) {
    CompleteInFlight();
    Report(FindingKind::kWrongIndex, static_cast<int64_t>(index),
           absl::StrFormat("entry %d fed after entry %d: out of order, ignored",
                           index, next_index_ - 1));
    return;
  }
  if (index > next_index_) {
    CompleteInFlight();
    Report(FindingKind::kMissingEntries, static_cast<int64_t>(next_index_),
           absl::StrFormat("entries [%d, %d) missing", next_index_, index));
    Flush();
    // No root can be computed past the gap, nor the next chain link checked.
    tree_valid_ = false;
    chain_known_ = false;
  }
  Batch& batch = batches_[filling_];
  if (batch.items.size() <= batch.count) batch.items.emplace_back();
  Pending& p = batch.items[batch.count++];
  p.index = index;
  p.body.assign(body.data(), body.size());
  p.signature.assign(signature.data(), signature.size());
  p.key = nullptr;
  p.key_valid = p.sig_checked = p.sig_ok = false;
  next_index_ = index + 1;
  if (batch.count >= options_.batch_size) {
    // The pool prepares this batch while the in-order pass of the one
    // before runs here: the serial part overlaps the signature checks.
    StartPrepare(batch);
    CompleteInFlight();
    in_flight_ = &batch;
    filling_ ^= 1;
  }
}

void LogVerifier::StartPrepare(Batch& batch) {
  auto fn = [this, &batch](size_t b, size_t e) { Prepare(batch, b, e); };
  if (options_.pool == nullptr) {
    fn(0, batch.count);
  } else {
    batch.job = options_.pool->Start(batch.count, kPrepareBlock, fn);
  }
}

void LogVerifier::CompleteInFlight() {
  if (in_flight_ == nullptr) return;
  Batch& batch = *in_flight_;
  in_flight_ = nullptr;
  Complete(batch);
}

void LogVerifier::Flush() {
  CompleteInFlight();
  Batch& batch = batches_[filling_];
  if (batch.count == 0) return;
  StartPrepare(batch);
  Complete(batch);
}

// After the parallel pass (parse, hash, signatures against the keys known
// when it ran): the order-dependent checks and key records (serial), the
// signatures by keys introduced since (parallel), reporting them.
void LogVerifier::Complete(Batch& batch) {
  if (batch.job != nullptr) {
    batch.job->Wait();
    batch.job.reset();
  }
  const size_t n = batch.count;
  size_t unchecked = 0;
  for (size_t i = 0; i < n; ++i) {
    Pending& p = batch.items[i];
    CheckInOrder(p);
    if (p.key != nullptr && !p.sig_checked) ++unchecked;
    if (options_.on_entry) {
      options_.on_entry(p.index, p.leaf,
                        p.parse_status.ok() ? &p.parsed : nullptr);
    }
  }
  if (unchecked > 0) {
    auto fn = [this, &batch](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) VerifySignature(batch.items[i]);
    };
    if (options_.pool == nullptr) {
      fn(0, n);
    } else {
      options_.pool->Start(n, kPrepareBlock, fn)->Wait();
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const Pending& p = batch.items[i];
    if (p.key == nullptr || p.sig_ok) continue;
    Report(FindingKind::kBadSignature, static_cast<int64_t>(p.index),
           absl::StrFormat("%d-byte signature by key %s does not verify over "
                           "the %d-byte body (leaf hash %s)",
                           p.signature.size(), p.key->note.name(),
                           p.body.size(), HashHex(p.leaf)));
  }
  batch.count = 0;
}

// Runs on the pool, while the feeding thread may run the in-order pass of
// the batch before (which adds keys: keys_mu_). Writes only entries of
// `batch`. What it computes is a pure function of the entry and of the
// public key its key name maps to (a name, once known, keeps its key), so
// the in-order pass uses it as is.
void LogVerifier::Prepare(Batch& batch, size_t begin, size_t end) {
  std::string message;  // reused: no allocation per entry
  TreeHasher hasher;    // this block's (pool threads share no hasher)
  for (size_t i = begin; i < end; ++i) {
    Pending& p = batch.items[i];
    p.parse_status = ParseEntryBodyInto(p.body, &p.parsed);
    p.leaf = hasher.LeafHash(p.body);  // EntryLeafHash(p.body)
    p.early_key = nullptr;
    p.record_key.reset();
    p.possession = absl::OkStatus();
    if (!p.parse_status.ok()) continue;
    PrepareKeyRecord(p);
    {
      absl::ReaderMutexLock lock(&keys_mu_);
      auto it = keys_.find(p.parsed.key_name());
      if (it != keys_.end()) p.early_key = it->second.get();
    }
    if (p.early_key == nullptr) continue;
    WriteEntrySigningMessage(p.body, &message);
    p.early_ok = p.early_key->note.Verify(message, p.signature).ok();
  }
}

void LogVerifier::PrepareKeyRecord(Pending& p) {
  const v1::Record& r = p.parsed.record();
  if (r.has_key_registration()) {
    p.record_key = KeyFromRecord(r.key_registration().key_name(),
                                 r.key_registration().public_key());
  } else if (r.has_key_rotation()) {
    const v1::KeyRotation& rot = r.key_rotation();
    p.record_key = KeyFromRecord(rot.new_key_name(), rot.new_public_key());
    if (p.record_key->ok()) {
      p.possession = (*p.record_key)
                         ->Verify(KeyRotationPossessionMessage(
                                      rot.old_key_name(), rot.new_key_name(),
                                      rot.new_public_key()),
                                  rot.possession_signature());
    }
  }
}

void LogVerifier::VerifySignature(Pending& p) {
  if (p.key == nullptr || p.sig_checked) return;
  p.sig_ok = p.key->note.Verify(EntrySigningMessage(p.body), p.signature).ok();
  p.sig_checked = true;
}

void LogVerifier::CheckInOrder(Pending& p) {
  const auto i = static_cast<int64_t>(p.index);
  const v1::EntryBody& body = p.parsed;
  if (!p.parse_status.ok()) {
    Report(FindingKind::kMalformedEntry, i,
           std::string(p.parse_status.message()));
  } else {
    if (body.log_origin() != options_.origin) {
      Report(FindingKind::kWrongOrigin, i,
             absl::StrFormat("log_origin \"%s\", want \"%s\"",
                             absl::CHexEscape(body.log_origin()),
                             absl::CHexEscape(options_.origin)));
    }
    if (body.index() != p.index) {
      Report(FindingKind::kWrongIndex, i,
             absl::StrFormat("body index %d at position %d", body.index(),
                             p.index));
    }
    if (chain_known_ && body.prev_hash() != HashBytes(prev_hash_)) {
      Report(FindingKind::kBrokenChain, i,
             absl::StrFormat(
                 "prev_hash %s, want %s (%s)",
                 absl::BytesToHexString(body.prev_hash()), HashHex(prev_hash_),
                 i == 0 ? std::string("zero at index 0")
                        : absl::StrCat("leaf hash of entry ", i - 1)));
    }
    if (!body.has_recorded_at()) {
      Report(FindingKind::kMalformedEntry, i, "recorded_at missing");
    }
    p.key = ResolveKey(p);
    if (p.key != nullptr && p.key == p.early_key) {
      p.sig_checked = true;
      p.sig_ok = p.early_ok;
    }
  }
  prev_hash_ = p.leaf;
  chain_known_ = true;
  if (tree_valid_) {
    range_.Append(p.leaf, NoVisit(), hasher_);
    if (range_.size() == next_checkpoint_size_) RecordRoot();
  }
  // A key record changes which keys sign later entries, so its own
  // signature is checked now, and it counts only when valid.
  if (p.key != nullptr && IsKeyRecord(body)) {
    VerifySignature(p);
    if (p.sig_ok && p.key_valid) ApplyKeyRecord(p);
  }
}

LogVerifier::KeyState* LogVerifier::ResolveKey(Pending& p) {
  const auto i = static_cast<int64_t>(p.index);
  const std::string& name = p.parsed.key_name();
  auto it = keys_.find(name);
  if (it == keys_.end()) {
    Report(FindingKind::kUnknownKey, i,
           absl::StrFormat("signed by unknown key \"%s\"",
                           absl::CHexEscape(name)));
    return nullptr;
  }
  KeyState* key = it->second.get();
  const absl::Time at = FromProtoTime(p.parsed.recorded_at());
  std::string why = key->InvalidReason(p.index, at);
  if (!why.empty()) {
    Report(FindingKind::kKeyOutsideValidity, i,
           absl::StrFormat("recorded at %s, signed by key %s, which is %s",
                           TimeString(at), name, why));
  } else {
    p.key_valid = true;
    key->uses.push_back({p.index, at});
  }
  return key;
}

void LogVerifier::RecordRoot() {
  auto it = checkpoints_.find(range_.size());
  if (it != checkpoints_.end()) {
    it->second.have_root = true;
    it->second.entries_root = range_.Root(hasher_);
  }
  auto next = checkpoints_.upper_bound(range_.size());
  next_checkpoint_size_ = next == checkpoints_.end() ? UINT64_MAX : next->first;
}

void LogVerifier::ApplyKeyRecord(const Pending& p) {
  switch (p.parsed.record().kind_case()) {
    case v1::Record::kKeyRegistration:
      return ApplyRegistration(p);
    case v1::Record::kKeyRotation:
      return ApplyRotation(p);
    case v1::Record::kKeyRevocation:
      return ApplyRevocation(p);
    default:
      return;
  }
}

void LogVerifier::ApplyRegistration(const Pending& p) {
  const auto i = static_cast<int64_t>(p.index);
  const v1::KeyRegistration& r = p.parsed.record().key_registration();
  const absl::StatusOr<NoteVerifier>& key = *p.record_key;  // Prepare
  if (!key.ok()) {
    Report(FindingKind::kMalformedEntry, i,
           absl::StrCat("key registration: ", key.status().message()));
    return;
  }
  auto it = keys_.find(r.key_name());
  if (it != keys_.end() && it->second->note.public_key() != key->public_key()) {
    Report(FindingKind::kMalformedEntry, i,
           absl::StrFormat("key registration of %s conflicts with the known "
                           "key of that name; ignored",
                           r.key_name()));
    return;
  }
  const bool is_new = it == keys_.end();
  if (is_new) AddKey(*key);
  it = keys_.find(r.key_name());
  if (it == keys_.end()) return;  // AddKey reported why
  // A key trusted out of band stays valid from the start; registration may
  // still bound its end.
  if (is_new && r.has_valid_from()) {
    it->second->valid_from = FromProtoTime(r.valid_from());
  }
  if (r.has_valid_until())
    it->second->valid_until = FromProtoTime(r.valid_until());
}

void LogVerifier::ApplyRotation(const Pending& p) {
  const auto i = static_cast<int64_t>(p.index);
  const v1::KeyRotation& r = p.parsed.record().key_rotation();
  if (r.old_key_name() != p.parsed.key_name() ||
      r.new_key_name() == r.old_key_name()) {
    Report(FindingKind::kMalformedEntry, i,
           absl::StrFormat("key rotation from \"%s\" to \"%s\" signed by "
                           "\"%s\"; ignored",
                           absl::CHexEscape(r.old_key_name()),
                           absl::CHexEscape(r.new_key_name()),
                           absl::CHexEscape(p.parsed.key_name())));
    return;
  }
  const absl::StatusOr<NoteVerifier>& key = *p.record_key;  // Prepare
  if (!key.ok()) {
    Report(FindingKind::kMalformedEntry, i,
           absl::StrCat("key rotation: ", key.status().message()));
    return;
  }
  // The new key's holder proves possession (entry.proto KeyRotation);
  // Prepare checked it.
  const absl::Status& possession = p.possession;
  if (!possession.ok()) {
    Report(FindingKind::kBadSignature, i,
           absl::StrFormat("key rotation to %s: possession signature does "
                           "not verify (%s); rotation ignored",
                           r.new_key_name(), possession.message()));
    return;
  }
  auto it = keys_.find(r.new_key_name());
  if (it != keys_.end() && it->second->note.public_key() != key->public_key()) {
    Report(FindingKind::kMalformedEntry, i,
           absl::StrFormat("key rotation to %s conflicts with the known key "
                           "of that name; ignored",
                           r.new_key_name()));
    return;
  }
  if (it == keys_.end()) AddKey(*key);
  auto old_key = keys_.find(r.old_key_name());
  if (old_key != keys_.end() && old_key->second->retired_at < 0) {
    old_key->second->retired_at = i;
  }
}

void LogVerifier::ApplyRevocation(const Pending& p) {
  const auto i = static_cast<int64_t>(p.index);
  const v1::KeyRevocation& r = p.parsed.record().key_revocation();
  auto it = keys_.find(r.key_name());
  if (it == keys_.end()) {
    Report(FindingKind::kUnknownKey, i,
           absl::StrFormat("revocation of unknown key \"%s\"",
                           absl::CHexEscape(r.key_name())));
    return;
  }
  KeyState& key = *it->second;
  const absl::Time from = r.has_effective_at()
                              ? FromProtoTime(r.effective_at())
                              : FromProtoTime(p.parsed.recorded_at());
  if (key.first_revocation < 0) key.first_revocation = i;
  if (key.revoked_by < 0 || from < key.revoked_from) {
    key.revoked_by = i;
    key.revoked_from = from;
  }
  // The revocation may reach into the past (after a compromise): entries
  // already accepted and recorded from `from` on become findings.
  auto reached = [&](const KeyState::Use& use) {
    if (use.at < from) return false;
    Report(
        FindingKind::kKeyOutsideValidity, static_cast<int64_t>(use.index),
        absl::StrFormat("recorded at %s, signed by key %s, which is "
                        "revoked from %s by entry %d",
                        TimeString(use.at), r.key_name(), TimeString(from), i));
    return true;
  };
  key.uses.erase(std::remove_if(key.uses.begin(), key.uses.end(), reached),
                 key.uses.end());
}

void LogVerifier::AddCheckpoint(std::string note) {
  if (finished_) return;
  CompleteInFlight();  // the entries fed so far are checked before
  absl::StatusOr<Note> parsed = ParseNote(note);
  if (!parsed.ok()) {
    Report(FindingKind::kBadCheckpoint, -1,
           absl::StrCat("checkpoint note: ", parsed.status().message()));
    return;
  }
  absl::StatusOr<Checkpoint> cp = ParseCheckpointText(parsed->text);
  if (!cp.ok()) {
    Report(FindingKind::kBadCheckpoint, -1,
           absl::StrCat("checkpoint text: ", cp.status().message()));
    return;
  }
  const auto size = static_cast<int64_t>(cp->size);
  if (cp->origin != options_.origin) {
    Report(FindingKind::kBadCheckpoint, size,
           absl::StrFormat("checkpoint origin \"%s\", want \"%s\"",
                           absl::CHexEscape(cp->origin),
                           absl::CHexEscape(options_.origin)));
    return;
  }
  CheckpointGroup& group = checkpoints_[cp->size];
  group.notes.push_back(std::move(note));
  if (tree_valid_ && cp->size == range_.size() && !group.have_root) {
    group.have_root = true;
    group.entries_root = range_.Root(hasher_);
  } else if (cp->size > range_.size()) {
    next_checkpoint_size_ = std::min(next_checkpoint_size_, cp->size);
  }
}

namespace {

struct OpenedNote {
  Hash root;
  std::string signers;
};

std::string Summary(const OpenedNote& n) {
  return absl::StrCat("root ", HashBase64(n.root), " signed by ", n.signers);
}

}  // namespace

// Signatures are checked with every key known at the end, so checkpoints
// signed by keys the log introduced (rotation, registration) verify.
void LogVerifier::ResolveCheckpoints() {
  const std::vector<NoteVerifier> known = CheckpointKeys();
  for (const auto& [size, group] : checkpoints_) {
    const auto at = static_cast<int64_t>(size);
    std::vector<OpenedNote> valid;
    for (const std::string& note : group.notes) {
      absl::StatusOr<SignedCheckpoint> cp =
          OpenCheckpoint(note, known, options_.origin);
      if (!cp.ok()) {
        Report(FindingKind::kBadCheckpoint, at,
               absl::StrFormat("checkpoint at size %d: %s", size,
                               cp.status().message()));
        continue;
      }
      std::vector<std::string> names;
      for (const NoteSignature& sig : cp->verified) names.push_back(sig.name);
      valid.push_back({cp->checkpoint.root, absl::StrJoin(names, ",")});
    }
    if (valid.empty()) continue;
    const std::string entries =
        group.have_root
            ? absl::StrCat("the entries give ", HashBase64(group.entries_root))
            : absl::StrFormat("the entries stop at size %d", range_.size());
    auto other = std::find_if(valid.begin(), valid.end(), [&](const auto& v) {
      return v.root != valid.front().root;
    });
    if (other != valid.end()) {
      Report(FindingKind::kEquivocation, at,
             absl::StrFormat("two signed roots for size %d: %s; %s; %s", size,
                             Summary(valid.front()), Summary(*other), entries));
    } else if (group.have_root) {
      if (valid.front().root != group.entries_root) {
        Report(FindingKind::kRootMismatch, at,
               absl::StrFormat("checkpoint at size %d has %s; %s", size,
                               Summary(valid.front()), entries));
      }
    } else if (size > range_.size()) {
      Report(FindingKind::kMissingEntries, at,
             absl::StrFormat("checkpoint at size %d, but %s", size, entries));
    } else {
      findings_.push_back(Finding{
          FindingKind::kMissingEntries, Severity::kWarning, options_.origin, at,
          absl::StrFormat("checkpoint at size %d was fed after the entries "
                          "passed that size: its root was not compared",
                          size)});
    }
  }
}

std::vector<Finding> LogVerifier::Finish() {
  if (!finished_) {
    Flush();
    ResolveCheckpoints();
    std::stable_sort(
        findings_.begin(), findings_.end(),
        [](const Finding& a, const Finding& b) { return a.index < b.index; });
    finished_ = true;
  }
  return findings_;
}

}  // namespace segledger
