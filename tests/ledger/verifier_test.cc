// LogVerifier over logs built by hand in memory: a clean log, then one
// mutation per case, each with exactly the findings it must produce.
#include "ledger/verifier.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/compact_range.h"
#include "ledger/entry_codec.h"
#include "ledger/note.h"
#include "tests/support/test_util.h"

namespace segledger {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "cmo-up.example/segledger";
const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

std::shared_ptr<const NoteSigner> MakeSigner(const std::string& name,
                                             char seed) {
  auto signer = Ed25519Signer::New(std::string(32, seed));
  EXPECT_TRUE(signer.ok());
  return std::make_shared<NoteSigner>(
      name, std::shared_ptr<const Ed25519Signer>(*std::move(signer)));
}

void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  ts->set_seconds(absl::ToUnixSeconds(t));
}
absl::Time At(int i) { return kT0 + absl::Minutes(i); }

std::string PublicKeyBytes(const NoteSigner& s) {
  const Ed25519PublicKey& k = s.signer().public_key();
  return std::string(k.begin(), k.end());
}

// A log as data. Seal() chains, serializes, signs and checkpoints it from
// the bytes actually produced, so a mutation made before sealing shows up
// only where it is made.
struct Sealed {
  std::vector<std::string> bodies;
  std::vector<std::string> signatures;
  std::vector<std::string> checkpoints;
  Hash root{};
};

struct LogModel {
  std::vector<v1::EntryBody> bodies;
  std::vector<const NoteSigner*> signers;
  std::map<uint64_t, const NoteSigner*> checkpoint_at;
  std::map<size_t, bool> keep_prev_hash;
  std::map<size_t, std::function<void(std::string*)>> replace_body;
  std::map<size_t, std::function<void(std::string*)>> tamper_after_signing;

  void Add(const NoteSigner* signer, v1::Record record = {}) {
    v1::EntryBody body;
    const int i = static_cast<int>(bodies.size());
    body.set_log_origin(kOrigin);
    body.set_index(i);
    SetTime(body.mutable_recorded_at(), At(i));
    body.set_key_name(signer->name());
    body.set_request_id(absl::StrCat("req-", 100000 + i));
    *body.mutable_record() = std::move(record);
    bodies.push_back(std::move(body));
    signers.push_back(signer);
  }

  Sealed Seal() const {
    Sealed out;
    CompactRange range;
    Hash prev = kZeroHash;
    for (size_t i = 0; i < bodies.size(); ++i) {
      v1::EntryBody body = bodies[i];
      if (!keep_prev_hash.count(i))
        body.set_prev_hash(std::string(HashBytes(prev)));
      std::string bytes = *SerializeEntryBody(body);
      if (replace_body.count(i)) replace_body.at(i)(&bytes);
      std::string sig = *signers[i]->signer().Sign(EntrySigningMessage(bytes));
      if (tamper_after_signing.count(i)) tamper_after_signing.at(i)(&bytes);
      prev = LeafHash(bytes);
      range.Append(prev, {});
      out.bodies.push_back(std::move(bytes));
      out.signatures.push_back(std::move(sig));
      auto cp = checkpoint_at.find(range.size());
      if (cp != checkpoint_at.end()) {
        out.checkpoints.push_back(*SignCheckpoint(
            Checkpoint{kOrigin, range.size(), range.Root(), {}}, *cp->second));
      }
    }
    out.root = range.Root();
    return out;
  }
};

struct Keys {
  std::shared_ptr<const NoteSigner> a = MakeSigner("cmo-a", 'a');
  std::shared_ptr<const NoteSigner> b = MakeSigner("cmo-b", 'b');
  std::shared_ptr<const NoteSigner> c = MakeSigner("cmo-c", 'c');
  std::shared_ptr<const NoteSigner> stranger = MakeSigner("stranger", 's');
};

v1::Record Registration(const NoteSigner& key, absl::Time from) {
  v1::Record r;
  r.mutable_key_registration()->set_key_name(key.name());
  r.mutable_key_registration()->set_public_key(PublicKeyBytes(key));
  SetTime(r.mutable_key_registration()->mutable_valid_from(), from);
  return r;
}

v1::Record Rotation(const NoteSigner& from, const NoteSigner& to) {
  v1::Record r;
  v1::KeyRotation* rot = r.mutable_key_rotation();
  rot->set_old_key_name(from.name());
  rot->set_new_key_name(to.name());
  rot->set_new_public_key(PublicKeyBytes(to));
  rot->set_possession_signature(*to.signer().Sign(KeyRotationPossessionMessage(
      from.name(), to.name(), PublicKeyBytes(to))));
  return r;
}

v1::Record Revocation(const NoteSigner& key, absl::Time from) {
  v1::Record r;
  r.mutable_key_revocation()->set_key_name(key.name());
  SetTime(r.mutable_key_revocation()->mutable_effective_at(), from);
  return r;
}

// 24 entries: A trusted; B registered at 0 and used at 6, 9, 14; A rotated
// to C at 12; B revoked from entry 16's time at 16. Checkpoints at 8 (A),
// 16 and 24 (C, the rotated-in key).
LogModel BaseLog(const Keys& k) {
  LogModel log;
  log.Add(k.a.get(), Registration(*k.b, At(0)));
  for (int i = 1; i < 12; ++i) {
    log.Add(i == 6 || i == 9 ? k.b.get() : k.a.get());
  }
  log.Add(k.a.get(), Rotation(*k.a, *k.c));
  for (int i = 13; i < 24; ++i) {
    if (i == 16) {
      log.Add(k.c.get(), Revocation(*k.b, At(16)));
    } else {
      log.Add(i == 14 ? k.b.get() : k.c.get());
    }
  }
  log.checkpoint_at = {{8, k.a.get()}, {16, k.c.get()}, {24, k.c.get()}};
  return log;
}

std::vector<Finding> Verify(const Sealed& log, const Keys& k, ThreadPool* pool,
                            size_t batch_size, size_t skip = SIZE_MAX) {
  LogVerifierOptions options;
  options.origin = kOrigin;
  options.trusted_keys = {k.a->Verifier()};
  options.pool = pool;
  options.batch_size = batch_size;
  LogVerifier verifier(std::move(options));
  for (const std::string& note : log.checkpoints) verifier.AddCheckpoint(note);
  for (size_t i = 0; i < log.bodies.size(); ++i) {
    if (i != skip) verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
  }
  return verifier.Finish();
}

using Want = std::vector<std::pair<FindingKind, int64_t>>;

Want KindsAndIndexes(const std::vector<Finding>& findings) {
  Want out;
  for (const Finding& f : findings) out.emplace_back(f.kind, f.index);
  return out;
}

std::string Describe(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    absl::StrAppend(&out, FindingKindName(f.kind), "@", f.index, ": ", f.detail,
                    "\n");
  }
  return out;
}

TEST(LogVerifierTest, CleanLogWithKeyLifecycleHasNoFindings) {
  Keys k;
  const Sealed log = BaseLog(k).Seal();
  ASSERT_EQ(log.checkpoints.size(), 3u);
  LogVerifierOptions options;
  options.origin = kOrigin;
  options.trusted_keys = {k.a->Verifier()};
  LogVerifier verifier(std::move(options));
  for (const std::string& note : log.checkpoints) verifier.AddCheckpoint(note);
  for (size_t i = 0; i < log.bodies.size(); ++i) {
    verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
  }
  const std::vector<Finding> findings = verifier.Finish();
  EXPECT_TRUE(findings.empty()) << Describe(findings);
  EXPECT_EQ(verifier.size(), 24u);
  EXPECT_EQ(verifier.Root(), log.root);
  std::vector<std::string> names;
  for (const NoteVerifier& v : verifier.KnownKeys()) names.push_back(v.name());
  EXPECT_THAT(names,
              ::testing::UnorderedElementsAre("cmo-a", "cmo-b", "cmo-c"));
}

TEST(LogVerifierTest, CleanThousandEntriesSerialAndParallel) {
  Keys k;
  LogModel model;
  for (int i = 0; i < 1000; ++i) model.Add(k.a.get());
  for (uint64_t s = 100; s <= 1000; s += 100)
    model.checkpoint_at[s] = k.a.get();
  const Sealed log = model.Seal();
  ThreadPool pool(2);
  EXPECT_EQ(Describe(Verify(log, k, nullptr, 4096)), "");
  EXPECT_EQ(Describe(Verify(log, k, &pool, 64)), "");
}

struct Case {
  std::string name;
  std::function<void(const Keys&, LogModel*)> model;
  std::function<void(const Keys&, Sealed*)> sealed;
  Want want;
  size_t skip = SIZE_MAX;  // an entry not fed
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

void FlipLast(std::string* s, const std::string& marker) {
  size_t at = s->find(marker);
  ASSERT_NE(at, std::string::npos);
  (*s)[at + marker.size() - 1] ^= 1;
}

std::string SignedCheckpoint(const NoteSigner& key, uint64_t size, Hash root,
                             std::string origin = kOrigin) {
  return *SignCheckpoint(Checkpoint{std::move(origin), size, root, {}}, key);
}

std::vector<Case> Cases() {
  using K = FindingKind;
  std::vector<Case> cases;
  auto none = [](const Keys&, LogModel*) {};
  auto as_is = [](const Keys&, Sealed*) {};
  cases.push_back({"flipped_body_byte",
                   [](const Keys&, LogModel* m) {
                     m->tamper_after_signing[5] = [](std::string* b) {
                       FlipLast(b, "req-100005");
                     };
                   },
                   as_is,
                   {{K::kBadSignature, 5}}});
  cases.push_back({"flipped_signature",
                   none,
                   [](const Keys&, Sealed* s) { s->signatures[5][7] ^= 0x10; },
                   {{K::kBadSignature, 5}}});
  cases.push_back({"wrong_prev_hash",
                   [](const Keys&, LogModel* m) {
                     m->bodies[5].set_prev_hash(std::string(32, 'x'));
                     m->keep_prev_hash[5] = true;
                   },
                   as_is,
                   {{K::kBrokenChain, 5}}});
  cases.push_back({"wrong_index",
                   [](const Keys&, LogModel* m) { m->bodies[5].set_index(50); },
                   as_is,
                   {{K::kWrongIndex, 5}}});
  cases.push_back({"wrong_origin",
                   [](const Keys&, LogModel* m) {
                     m->bodies[5].set_log_origin("other.example/segledger");
                   },
                   as_is,
                   {{K::kWrongOrigin, 5}}});
  cases.push_back({"swapped_entries",
                   none,
                   [](const Keys&, Sealed* s) {
                     std::swap(s->bodies[5], s->bodies[6]);
                     std::swap(s->signatures[5], s->signatures[6]);
                   },
                   {{K::kWrongIndex, 5},
                    {K::kBrokenChain, 5},
                    {K::kWrongIndex, 6},
                    {K::kBrokenChain, 6},
                    {K::kBrokenChain, 7},
                    {K::kRootMismatch, 8},
                    {K::kRootMismatch, 16},
                    {K::kRootMismatch, 24}}});
  cases.push_back({"unknown_key",
                   [](const Keys& k, LogModel* m) {
                     m->bodies[5].set_key_name("stranger");
                     m->signers[5] = k.stranger.get();
                   },
                   as_is,
                   {{K::kUnknownKey, 5}}});
  cases.push_back({"old_key_after_rotation",
                   [](const Keys& k, LogModel* m) {
                     m->bodies[15].set_key_name("cmo-a");
                     m->signers[15] = k.a.get();
                   },
                   as_is,
                   {{K::kKeyOutsideValidity, 15}}});
  cases.push_back({"entry_after_revocation",
                   [](const Keys& k, LogModel* m) {
                     m->bodies[18].set_key_name("cmo-b");
                     m->signers[18] = k.b.get();
                   },
                   as_is,
                   {{K::kKeyOutsideValidity, 18}}});
  // A thief of B appends after the revocation with recorded_at before its
  // effective time: the index, not the claimed time, decides.
  cases.push_back({"backdated_entry_after_revocation",
                   [](const Keys& k, LogModel* m) {
                     m->bodies[18].set_key_name("cmo-b");
                     SetTime(m->bodies[18].mutable_recorded_at(), At(10));
                     m->signers[18] = k.b.get();
                   },
                   as_is,
                   {{K::kKeyOutsideValidity, 18}}});
  cases.push_back(
      {"revocation_reaches_back",
       [](const Keys&, LogModel* m) {
         SetTime(m->bodies[16]
                     .mutable_record()
                     ->mutable_key_revocation()
                     ->mutable_effective_at(),
                 At(7));
       },
       as_is,
       {{K::kKeyOutsideValidity, 9}, {K::kKeyOutsideValidity, 14}}});
  cases.push_back({"entry_before_key_valid_from",
                   [](const Keys& k, LogModel* m) {
                     *m->bodies[0].mutable_record() = Registration(*k.b, At(7));
                   },
                   as_is,
                   {{K::kKeyOutsideValidity, 6}}});
  cases.push_back({"checkpoint_root_wrong",
                   none,
                   [](const Keys& k, Sealed* s) {
                     s->checkpoints[1] = SignedCheckpoint(*k.c, 16, Hash{});
                   },
                   {{K::kRootMismatch, 16}}});
  cases.push_back({"checkpoint_beyond_entries",
                   none,
                   [](const Keys& k, Sealed* s) {
                     s->checkpoints.push_back(
                         SignedCheckpoint(*k.c, 30, Hash{}));
                   },
                   {{K::kMissingEntries, 30}}});
  cases.push_back({"two_roots_one_size",
                   none,
                   [](const Keys& k, Sealed* s) {
                     s->checkpoints.push_back(
                         SignedCheckpoint(*k.a, 8, Hash{}));
                   },
                   {{K::kEquivocation, 8}}});
  cases.push_back(
      {"malformed_checkpoint_note",
       none,
       [](const Keys&, Sealed* s) { s->checkpoints.push_back("not a note\n"); },
       {{K::kBadCheckpoint, -1}}});
  cases.push_back({"checkpoint_by_unknown_key",
                   none,
                   [](const Keys& k, Sealed* s) {
                     s->checkpoints[0] =
                         SignedCheckpoint(*k.stranger, 8, Sha256("x"));
                   },
                   {{K::kBadCheckpoint, 8}}});
  cases.push_back({"checkpoint_other_origin",
                   none,
                   [](const Keys& k, Sealed* s) {
                     s->checkpoints.push_back(
                         SignedCheckpoint(*k.a, 8, Hash{}, "other.example"));
                   },
                   {{K::kBadCheckpoint, 8}}});
  cases.push_back({"garbage_body",
                   [](const Keys&, LogModel* m) {
                     m->replace_body[5] = [](std::string* b) {
                       *b = "\xff\xfe garbage";
                     };
                   },
                   as_is,
                   {{K::kMalformedEntry, 5}}});
  cases.push_back({"missing_entry",
                   none,
                   as_is,
                   {{K::kMissingEntries, 5},
                    {K::kMissingEntries, 8},
                    {K::kMissingEntries, 16},
                    {K::kMissingEntries, 24}},
                   5});
  // A key record whose signature fails does not take effect: B stays
  // unknown, also to the later revocation.
  cases.push_back({"forged_key_registration",
                   [](const Keys&, LogModel* m) {
                     m->tamper_after_signing[0] = [](std::string* b) {
                       FlipLast(b, "req-100000");
                     };
                   },
                   as_is,
                   {{K::kBadSignature, 0},
                    {K::kUnknownKey, 6},
                    {K::kUnknownKey, 9},
                    {K::kUnknownKey, 14},
                    {K::kUnknownKey, 16}}});
  // A rotation without the new key's consent is ignored, so C never
  // becomes known: its entries and checkpoints are unverifiable.
  Want unconsented = {{K::kBadSignature, 12}};
  for (int i = 13; i < 24; ++i) {
    if (i != 14) unconsented.emplace_back(K::kUnknownKey, i);
    if (i == 16) unconsented.emplace_back(K::kBadCheckpoint, 16);
  }
  unconsented.emplace_back(K::kBadCheckpoint, 24);
  cases.push_back({"rotation_without_possession_signature",
                   [](const Keys&, LogModel* m) {
                     (*m->bodies[12]
                           .mutable_record()
                           ->mutable_key_rotation()
                           ->mutable_possession_signature())[3] ^= 1;
                   },
                   as_is, unconsented});
  return cases;
}

class LogVerifierCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(LogVerifierCaseTest, YieldsExactlyItsFindings) {
  const Case& c = GetParam();
  Keys k;
  LogModel model = BaseLog(k);
  c.model(k, &model);
  Sealed log = model.Seal();
  c.sealed(k, &log);
  google::protobuf::LogSilencer quiet;
  const std::vector<Finding> serial = Verify(log, k, nullptr, 4096, c.skip);
  EXPECT_THAT(KindsAndIndexes(serial), ElementsAreArray(c.want))
      << Describe(serial);
  for (const Finding& f : serial) {
    EXPECT_EQ(f.origin, kOrigin);
    EXPECT_EQ(f.severity, DefaultSeverity(f.kind));
    EXPECT_FALSE(f.detail.empty());
  }
  // Small batches split key records from the entries they govern.
  ThreadPool pool(2);
  for (size_t batch : {1, 5, 4096}) {
    EXPECT_EQ(Describe(Verify(log, k, &pool, batch, c.skip)), Describe(serial))
        << "batch " << batch;
  }
}

INSTANTIATE_TEST_SUITE_P(Mutations, LogVerifierCaseTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(LogVerifierTest, DetailsNameExpectedAndActual) {
  Keys k;
  LogModel model = BaseLog(k);
  model.bodies[3].set_index(33);
  model.bodies[4].set_prev_hash(std::string(32, '\x01'));
  model.keep_prev_hash[4] = true;
  Sealed log = model.Seal();
  log.checkpoints[1] = SignedCheckpoint(*k.c, 16, Hash{});
  const std::vector<Finding> f = Verify(log, k, nullptr, 4096);
  ASSERT_EQ(f.size(), 3u) << Describe(f);
  EXPECT_THAT(f[0].detail, HasSubstr("body index 33 at position 3"));
  EXPECT_THAT(f[1].detail, HasSubstr(HashHex(LeafHash(log.bodies[3]))));
  EXPECT_THAT(f[1].detail, HasSubstr("0101010101"));
  EXPECT_THAT(f[2].detail, HasSubstr(HashBase64(Hash{})));
  EXPECT_THAT(f[2].detail, HasSubstr("cmo-c"));
}

TEST(LogVerifierTest, CheckpointFedLateIsReportedUnchecked) {
  Keys k;
  const Sealed log = BaseLog(k).Seal();
  LogVerifierOptions options;
  options.origin = kOrigin;
  options.trusted_keys = {k.a->Verifier()};
  options.batch_size = 4;
  LogVerifier verifier(std::move(options));
  for (size_t i = 0; i < log.bodies.size(); ++i) {
    verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
  }
  verifier.AddCheckpoint(log.checkpoints[0]);  // size 8: long passed
  verifier.AddCheckpoint(log.checkpoints[2]);  // size 24: exactly here
  const std::vector<Finding> f = verifier.Finish();
  ASSERT_EQ(f.size(), 1u) << Describe(f);
  EXPECT_EQ(f[0].kind, FindingKind::kMissingEntries);
  EXPECT_EQ(f[0].index, 8);
  EXPECT_EQ(f[0].severity, Severity::kWarning);
}

TEST(LogVerifierTest, OutOfOrderEntryIsIgnored) {
  Keys k;
  const Sealed log = BaseLog(k).Seal();
  LogVerifierOptions options;
  options.origin = kOrigin;
  options.trusted_keys = {k.a->Verifier()};
  LogVerifier verifier(std::move(options));
  for (size_t i = 0; i < log.bodies.size(); ++i) {
    verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
    if (i == 10) verifier.AddEntry(3, log.bodies[3], log.signatures[3]);
  }
  EXPECT_THAT(KindsAndIndexes(verifier.Finish()),
              ElementsAreArray(Want{{FindingKind::kWrongIndex, 3}}));
  EXPECT_EQ(verifier.Root(), log.root);
}

// Keys registered inside a batch and used by the next entries (B by A, C by
// B, D by C, each then signing): the parallel pass cannot know them, the
// in-order pass must. Every batch size and pool gives the same findings as
// the serial run, clean and with B's registration forged.
TEST(LogVerifierTest, KeysIntroducedWithinABatchAreVerifiedTheSame) {
  Keys k;
  auto d = MakeSigner("cmo-d", 'd');
  for (bool forged : {false, true}) {
    LogModel model;
    const NoteSigner* signers[] = {k.a.get(), k.b.get(), k.c.get(), d.get()};
    for (int round = 0; round < 3; ++round) {
      model.Add(signers[round], Registration(*signers[round + 1], At(0)));
      for (int j = 0; j < 3; ++j) model.Add(signers[round + 1]);
    }
    model.Add(d.get(), Rotation(*d, *k.stranger));
    model.Add(k.stranger.get());
    model.checkpoint_at = {{5, k.a.get()}, {14, k.stranger.get()}};
    if (forged) {
      model.tamper_after_signing[0] = [](std::string* b) {
        FlipLast(b, "req-100000");
      };
    }
    const Sealed log = model.Seal();
    const std::string serial = Describe(Verify(log, k, nullptr, 4096));
    EXPECT_EQ(serial.empty(), !forged) << serial;
    ThreadPool pool(2);
    for (size_t batch : {1, 2, 3, 5, 7, 4096}) {
      EXPECT_EQ(Describe(Verify(log, k, &pool, batch)), serial)
          << "batch " << batch;
      EXPECT_EQ(Describe(Verify(log, k, nullptr, batch)), serial)
          << "batch " << batch;
    }
  }
}

// on_entry sees every entry once, in index order, with the leaf hash of its
// bytes and its parsed body (nullptr for a body that does not parse).
TEST(LogVerifierTest, OnEntryGetsLeafAndBodyInOrder) {
  Keys k;
  LogModel model = BaseLog(k);
  model.replace_body[5] = [](std::string* b) { *b = "not a body"; };
  const Sealed log = model.Seal();
  ThreadPool pool(2);
  for (size_t batch : {1, 3, 4096}) {
    LogVerifierOptions options;
    options.origin = kOrigin;
    options.trusted_keys = {k.a->Verifier()};
    options.pool = &pool;
    options.batch_size = batch;
    std::vector<uint64_t> order;
    options.on_entry = [&](uint64_t index, const Hash& leaf,
                           v1::EntryBody* body) {
      order.push_back(index);
      EXPECT_EQ(leaf, LeafHash(log.bodies[index]));
      EXPECT_EQ(body == nullptr, index == 5);
      if (body != nullptr) {
        EXPECT_EQ(body->index(), index);
      }
    };
    LogVerifier verifier(std::move(options));
    for (size_t i = 0; i < log.bodies.size(); ++i) {
      verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
    }
    verifier.Finish();
    ASSERT_EQ(order.size(), log.bodies.size()) << "batch " << batch;
    for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
  }
}

// Dropped with a batch still on the pool: waits for it, no use after free.
TEST(LogVerifierTest, DestroyedWithABatchInFlight) {
  Keys k;
  const Sealed log = BaseLog(k).Seal();
  ThreadPool pool(2);
  for (int round = 0; round < 20; ++round) {
    LogVerifierOptions options;
    options.origin = kOrigin;
    options.trusted_keys = {k.a->Verifier()};
    options.pool = &pool;
    options.batch_size = 4;
    LogVerifier verifier(std::move(options));
    for (size_t i = 0; i < 9; ++i) {
      verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
    }
  }
}

// Never crash on garbage: random bytes as bodies, signatures and notes, and
// random byte flips of a valid log (bounded iterations, fixed seed).
TEST(LogVerifierTest, GarbageNeverCrashes) {
  Keys k;
  const Sealed base = BaseLog(k).Seal();
  std::mt19937_64 rng(7);
  auto bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  google::protobuf::LogSilencer quiet;
  ThreadPool pool(2);
  for (int round = 0; round < 40; ++round) {
    Sealed log = base;
    for (int j = 0; j < 4; ++j) {
      std::string& victim = rng() % 2 ? log.bodies[rng() % log.bodies.size()]
                                      : log.checkpoints[rng() % 3];
      if (!victim.empty()) victim[rng() % victim.size()] ^= 1 << (rng() % 8);
    }
    log.bodies.push_back(bytes(rng() % 300));
    log.signatures.push_back(bytes(rng() % 100));
    log.checkpoints.push_back(bytes(rng() % 200));
    log.checkpoints.push_back(absl::StrCat(kOrigin, "\n", rng(), "\n", bytes(8),
                                           "\n\n\xe2\x80\x94 cmo-a ",
                                           bytes(9)));
    const std::vector<Finding> f = Verify(log, k, &pool, 1 + rng() % 8);
    EXPECT_FALSE(f.empty());
  }
}

// Registered keys that never sign are checked when registered, and only
// as far as the registration itself goes: a wrong length or a bad name is a
// malformed registration; a 32-byte key that is no curve point is accepted
// (as OpenSSL accepts it) and only entries and checkpoints claiming it fail.
TEST(LogVerifierTest, RegistrationChecksDoNotDependOnTheKeyBeingUsed) {
  Keys k;
  // y = 2 is not the y of a point on edwards25519: no signature verifies.
  std::string off_curve(32, '\0');
  off_curve[0] = 2;
  auto registration = [](const std::string& name, const std::string& key) {
    v1::Record r;
    r.mutable_key_registration()->set_key_name(name);
    r.mutable_key_registration()->set_public_key(key);
    return r;
  };
  LogModel model;
  model.Add(k.a.get(), registration("short", std::string(31, 'k')));
  model.Add(k.a.get(), registration("long", std::string(33, 'k')));
  model.Add(k.a.get(), registration("bad name", PublicKeyBytes(*k.b)));
  model.Add(k.a.get(), registration("off-curve", off_curve));
  model.Add(k.a.get(), Registration(*k.b, At(0)));  // valid, never used
  model.Add(k.a.get());
  model.bodies[5].set_key_name("off-curve");  // signed by A, names off-curve
  model.Add(k.a.get(), registration("cmo-b", PublicKeyBytes(*k.c)));
  model.Add(k.a.get());
  model.checkpoint_at = {{8, k.a.get()}};
  Sealed log = model.Seal();
  ASSERT_EQ(log.checkpoints.size(), 1u);
  // The same checkpoint with a second line by the off-curve key.
  Ed25519PublicKey off_key{};
  std::copy(off_curve.begin(), off_curve.end(), off_key.begin());
  std::string raw;
  for (int shift = 24; shift >= 0; shift -= 8) {
    raw.push_back(
        static_cast<char>(NoteKeyHash("off-curve", off_key) >> shift));
  }
  raw.append(std::string(64, 's'));
  log.checkpoints.push_back(absl::StrCat(
      log.checkpoints[0], "\xe2\x80\x94 off-curve ", Base64Encode(raw), "\n"));
  google::protobuf::LogSilencer quiet;
  const std::vector<Finding> serial = Verify(log, k, nullptr, 4096);
  EXPECT_EQ(Describe(serial),
            "malformed_entry@0: key registration: public key of \"short\" is "
            "31 bytes, want 32\n"
            "malformed_entry@1: key registration: public key of \"long\" is 33 "
            "bytes, want 32\n"
            "malformed_entry@2: key registration: key name \"bad name\": "
            "invalid UTF-8, space, control character or '+' at offset 3\n"
            "bad_signature@5: 64-byte signature by key off-curve does not "
            "verify over the " +
                std::to_string(log.bodies[5].size()) +
                "-byte body (leaf hash " + HashHex(LeafHash(log.bodies[5])) +
                ")\n"
                "malformed_entry@6: key registration of cmo-b conflicts with "
                "the known key of that name; ignored\n"
                "bad_checkpoint@8: checkpoint at size 8: note: invalid "
                "signature for key off-curve+" +
                absl::StrFormat("%08x", NoteKeyHash("off-curve", off_key)) +
                ": bad signature\n");
  ThreadPool pool(2);
  for (size_t batch : {1, 3, 4096}) {
    EXPECT_EQ(Describe(Verify(log, k, &pool, batch)), Describe(serial))
        << "batch " << batch;
    EXPECT_EQ(Describe(Verify(log, k, nullptr, batch)), Describe(serial))
        << "batch " << batch;
  }
  // The off-curve key and the valid unused one are known; the others not.
  LogVerifierOptions options;
  options.origin = kOrigin;
  options.trusted_keys = {k.a->Verifier()};
  LogVerifier verifier(std::move(options));
  for (size_t i = 0; i < log.bodies.size(); ++i) {
    verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
  }
  verifier.Finish();
  std::vector<std::string> names;
  for (const NoteVerifier& v : verifier.KnownKeys()) {
    names.push_back(v.name());
    if (v.name() == "cmo-b") {
      EXPECT_EQ(v.public_key(), k.b->signer().public_key());
    }
  }
  EXPECT_THAT(names,
              ::testing::UnorderedElementsAre("cmo-a", "cmo-b", "off-curve"));
}

// A trusted key whose name repeats another trusted key's is usable for
// checkpoints (not entries: they name their key by name only); a key of
// that name that is not trusted is not.
TEST(LogVerifierTest, CheckpointsBySecondTrustedKeyOfOneName) {
  Keys k;
  auto a2 = MakeSigner("cmo-a", 'z');
  auto a3 = MakeSigner("cmo-a", 'y');
  LogModel model;
  for (int i = 0; i < 8; ++i) model.Add(k.a.get());
  model.checkpoint_at = {{4, a2.get()}, {8, a3.get()}};
  const Sealed log = model.Seal();
  for (size_t batch : {1, 4096}) {
    LogVerifierOptions options;
    options.origin = kOrigin;
    options.trusted_keys = {k.a->Verifier(), a2->Verifier()};
    options.batch_size = batch;
    LogVerifier verifier(std::move(options));
    for (const std::string& note : log.checkpoints) {
      verifier.AddCheckpoint(note);
    }
    for (size_t i = 0; i < log.bodies.size(); ++i) {
      verifier.AddEntry(i, log.bodies[i], log.signatures[i]);
    }
    const std::vector<Finding> f = verifier.Finish();
    EXPECT_THAT(KindsAndIndexes(f),
                ElementsAreArray(Want{{FindingKind::kBadCheckpoint, 8}}))
        << Describe(f);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_THAT(f[0].detail, HasSubstr("no signature by a known key"));
    EXPECT_EQ(verifier.KnownKeys().size(), 2u);
  }
}

TEST(LogVerifierTest, KindNamesAndSeverities) {
  EXPECT_EQ(FindingKindName(FindingKind::kBadSignature), "bad_signature");
  EXPECT_EQ(FindingKindName(FindingKind::kKeyOutsideValidity),
            "key_outside_validity");
  EXPECT_EQ(FindingKindName(FindingKind::kStoreInconsistent),
            "store_inconsistent");
  EXPECT_EQ(FindingKindName(FindingKind::kTreeNodeMismatch),
            "tree_node_mismatch");
  for (FindingKind kind :
       {FindingKind::kBrokenChain, FindingKind::kBadSignature,
        FindingKind::kRootMismatch, FindingKind::kEquivocation}) {
    EXPECT_EQ(DefaultSeverity(kind), Severity::kCritical)
        << FindingKindName(kind);
  }
  EXPECT_EQ(SeverityName(Severity::kCritical), "critical");
  EXPECT_EQ(SeverityName(Severity::kWarning), "warning");
}

}  // namespace
}  // namespace segledger
