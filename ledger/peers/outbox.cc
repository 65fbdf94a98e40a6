#include "ledger/peers/outbox.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/peers/keyring.h"
#include "ledger/peers/peer_keys.h"
#include "ledger/peers/peer_rows.h"
#include "ledger/peers/peer_store.h"
#include "ledger/proto_time.h"
#include "ledger/status_macros.h"

namespace segledger::peers {

using store::Family;

namespace {

constexpr absl::string_view kRowPrefix = "o/p/";
constexpr absl::string_view kKeyRecordPrefix = "o/k/";

std::string StateKey(absl::string_view destination, uint64_t index) {
  return PositionKey('o', destination, index);
}

void AddProof(const std::vector<Hash>& proof,
              google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const Hash& h : proof) *out->Add() = std::string(HashBytes(h));
}

}  // namespace

std::string OutboxRowKey(absl::string_view destination, uint64_t index) {
  return absl::StrCat(kRowPrefix, destination, absl::string_view("\0", 1),
                      store::Be64(index));
}

DestinationFn DestinationsByParty(
    std::map<std::string, std::string> party_to_origin) {
  return [map = std::move(party_to_origin)](
             const v1::EntryBody& body) -> absl::StatusOr<std::string> {
    const v1::Record& r = body.record();
    if (r.has_receipt()) return r.receipt().dispatch().origin();
    auto it = map.find(r.dispatch().to_party_id());
    if (it == map.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("dispatch.to_party_id: no peer node is configured for ",
                       r.dispatch().to_party_id()));
    }
    return it->second;
  };
}

absl::Status OutboxHook::OnAppend(const v1::EntryBody& body,
                                  store::IndexTxn& txn) {
  if (inner_ != nullptr) SEG_RETURN_IF_ERROR(inner_->OnAppend(body, txn));
  return AddRows(body, txn);
}

absl::Status OutboxHook::Precheck(const store::AppendRecord& record) const {
  return inner_ != nullptr ? inner_->Precheck(record) : absl::OkStatus();
}

absl::Status OutboxHook::OnPrecheckedAppend(const v1::EntryBody& body,
                                            store::IndexTxn& txn) {
  if (inner_ != nullptr) {
    SEG_RETURN_IF_ERROR(inner_->OnPrecheckedAppend(body, txn));
  }
  return AddRows(body, txn);
}

absl::Status OutboxHook::AddRows(const v1::EntryBody& body,
                                 store::IndexTxn& txn) {
  const v1::Record& r = body.record();
  if (r.has_dispatch() || r.has_receipt()) {
    SEG_ASSIGN_OR_RETURN(std::string dest, destination_(body));
    if (dest.empty() || dest == body.log_origin()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "hand-off destination \"%s\" is not another log", dest));
    }
    txn.Put(OutboxRowKey(dest, body.index()), "");
  } else if (IsKeyRecord(r)) {
    txn.Put(absl::StrCat(kKeyRecordPrefix, store::Be64(body.index())), "");
  }
  return absl::OkStatus();
}

Outbox::Outbox(store::LogStore& log, const Clock* clock, BackoffPolicy policy)
    : log_(log),
      clock_(clock != nullptr ? clock : SystemClock::Get()),
      policy_(policy) {}

absl::StatusOr<v1::OutboxState> Outbox::State(absl::string_view destination,
                                              uint64_t index) const {
  SEG_ASSIGN_OR_RETURN(
      std::optional<v1::OutboxState> state,
      ReadPeerRow<v1::OutboxState>(
          log_.kv(), StateKey(destination, index),
          absl::StrFormat("outbox state of %s index %d", destination, index)));
  return state.value_or(v1::OutboxState());
}

absl::StatusOr<std::vector<Delivery>> Outbox::Pending(absl::Time now,
                                                      size_t max) const {
  std::vector<Delivery> rows;
  const std::string end = PrefixEnd(kRowPrefix);
  std::string from(kRowPrefix);
  while (rows.size() < max) {
    // The next destination: the one of the first row at or after `from`.
    std::optional<std::string> destination;
    absl::Status inner;
    SEG_RETURN_IF_ERROR(
        log_.kv().Scan(Family::kIndex, from, end,
                       [&](absl::string_view key, absl::string_view) {
                         absl::StatusOr<std::pair<std::string, uint64_t>> pos =
                             ParseRef(key.substr(kRowPrefix.size()));
                         if (pos.ok()) destination = std::move(pos->first);
                         inner = pos.status();
                         return false;
                       }));
    SEG_RETURN_IF_ERROR(inner);
    if (!destination.has_value()) break;
    SEG_RETURN_IF_ERROR(PendingOf(*destination, now, max, rows));
    // Past every row of this destination ("\0<be64>" sorts below "\1").
    from = absl::StrCat(kRowPrefix, *destination, absl::string_view("\1", 1));
  }
  return rows;
}

absl::Status Outbox::PendingOf(const std::string& destination, absl::Time now,
                               size_t max, std::vector<Delivery>& rows) const {
  uint64_t first = 0;
  {
    absl::MutexLock l(&cursor_mu_);
    auto it = delivered_below_.find(destination);
    if (it != delivered_below_.end()) first = it->second;
  }
  uint64_t delivered_below = first;
  bool all_delivered = true;  // every row read so far
  absl::Status inner;
  SEG_RETURN_IF_ERROR(log_.kv().Scan(
      Family::kIndex, OutboxRowKey(destination, first),
      absl::StrCat(kRowPrefix, destination, absl::string_view("\1", 1)),
      [&](absl::string_view key, absl::string_view) {
        absl::StatusOr<std::pair<std::string, uint64_t>> pos =
            ParseRef(key.substr(kRowPrefix.size()));
        if (!pos.ok()) {
          inner = pos.status();
          return false;
        }
        absl::StatusOr<v1::OutboxState> st = State(pos->first, pos->second);
        if (!st.ok()) {
          inner = st.status();
          return false;
        }
        if (st->delivered()) {
          if (all_delivered) delivered_below = pos->second + 1;
          return true;
        }
        all_delivered = false;
        if (st->has_next_attempt() && FromProtoTime(st->next_attempt()) > now) {
          return true;
        }
        rows.push_back(Delivery{pos->first, pos->second, *std::move(st)});
        return rows.size() < max;
      }));
  SEG_RETURN_IF_ERROR(inner);
  if (delivered_below > first) {
    absl::MutexLock l(&cursor_mu_);
    uint64_t& cursor = delivered_below_[destination];
    cursor = std::max(cursor, delivered_below);
  }
  return absl::OkStatus();
}

absl::Status Outbox::CheckRow(absl::string_view destination,
                              uint64_t index) const {
  absl::StatusOr<std::string> row =
      log_.kv().Get(Family::kIndex, OutboxRowKey(destination, index));
  if (absl::IsNotFound(row.status())) {
    return absl::NotFoundError(
        absl::StrFormat("no outbox row for %s index %d", destination, index));
  }
  return row.status();
}

absl::Status Outbox::MarkDelivered(absl::string_view destination,
                                   uint64_t index) {
  absl::MutexLock l(&mu_);
  SEG_RETURN_IF_ERROR(CheckRow(destination, index));
  SEG_ASSIGN_OR_RETURN(v1::OutboxState st, State(destination, index));
  if (st.delivered()) return absl::OkStatus();
  st.set_delivered(true);
  *st.mutable_delivered_at() = ToProtoTime(clock_->Now());
  store::KvBatch batch;
  batch.Put(Family::kPeers, StateKey(destination, index),
            st.SerializeAsString());
  return log_.kv().Write(batch, /*sync=*/true);
}

absl::Status Outbox::MarkFailed(absl::string_view destination, uint64_t index,
                                const absl::Status& error) {
  absl::MutexLock l(&mu_);
  SEG_RETURN_IF_ERROR(CheckRow(destination, index));
  SEG_ASSIGN_OR_RETURN(v1::OutboxState st, State(destination, index));
  if (st.delivered()) return absl::OkStatus();
  st.set_attempts(st.attempts() + 1);
  absl::Duration wait = policy_.initial;
  for (uint32_t i = 1; i < st.attempts() && wait < policy_.max; ++i) wait *= 2;
  wait = std::min(wait, policy_.max);
  *st.mutable_next_attempt() = ToProtoTime(clock_->Now() + wait);
  st.set_last_error(error.ToString());
  store::KvBatch batch;
  batch.Put(Family::kPeers, StateKey(destination, index),
            st.SerializeAsString());
  return log_.kv().Write(batch, /*sync=*/true);
}

absl::Status Outbox::AddKeyRecords(uint64_t size,
                                   v1::HandoffEvidence& ev) const {
  std::vector<uint64_t> indexes;
  absl::Status inner;
  SEG_RETURN_IF_ERROR(log_.kv().Scan(
      Family::kIndex, kKeyRecordPrefix,
      absl::StrCat(kKeyRecordPrefix, store::Be64(size)),
      [&](absl::string_view key, absl::string_view) {
        absl::StatusOr<uint64_t> i = store::ParseBe64(
            key.substr(kKeyRecordPrefix.size()), "key record index");
        if (!i.ok()) inner = i.status();
        if (i.ok()) indexes.push_back(*i);
        return i.ok();
      }));
  SEG_RETURN_IF_ERROR(inner);
  for (uint64_t i : indexes) {
    v1::ProvenEntry* p = ev.add_key_records();
    p->set_index(i);
    SEG_ASSIGN_OR_RETURN(*p->mutable_entry(), log_.GetEntry(i));
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> proof, log_.InclusionProof(i, size));
    AddProof(proof, p->mutable_inclusion_proof());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::HandoffEvidence> Outbox::BuildEvidence(
    uint64_t index, uint64_t receiver_size) {
  v1::HandoffEvidence ev;
  ev.set_origin(log_.origin());
  SEG_ASSIGN_OR_RETURN(*ev.mutable_entry()->mutable_entry(),
                       log_.GetEntry(index));
  absl::StatusOr<std::string> note = log_.LatestCheckpoint();
  absl::StatusOr<Checkpoint> cp =
      note.ok() ? PeekCheckpoint(*note) : note.status();
  if (!cp.ok() || cp->size <= index || cp->size < receiver_size) {
    SEG_ASSIGN_OR_RETURN(note, log_.CheckpointNow());
    SEG_ASSIGN_OR_RETURN(cp, PeekCheckpoint(*note));
  }
  const uint64_t size = cp->size;
  ev.set_checkpoint(*note);
  ev.mutable_entry()->set_index(index);
  SEG_ASSIGN_OR_RETURN(std::vector<Hash> inc, log_.InclusionProof(index, size));
  AddProof(inc, ev.mutable_entry()->mutable_inclusion_proof());
  ev.set_consistency_size(receiver_size);
  if (receiver_size > 0 && receiver_size != size) {
    SEG_ASSIGN_OR_RETURN(std::vector<Hash> cons,
                         log_.ConsistencyProof(std::min(receiver_size, size),
                                               std::max(receiver_size, size)));
    AddProof(cons, ev.mutable_consistency_proof());
  }
  SEG_RETURN_IF_ERROR(AddKeyRecords(size, ev));
  return ev;
}

}  // namespace segledger::peers
