#include "ledger/domain/evidence.h"

#include "absl/strings/str_cat.h"

namespace segledger::domain {

void InMemoryEvidence::AddDispatch(const v1::EntryRef& ref,
                                   const v1::Dispatch& d) {
  absl::MutexLock l(&mu_);
  dispatches_[{ref.origin(), ref.index()}] = VerifiedDispatch{ref, d};
}

void InMemoryEvidence::AddReceipt(const v1::EntryRef& ref,
                                  const v1::Receipt& r) {
  absl::MutexLock l(&mu_);
  receipts_.insert({{r.dispatch().origin(), r.dispatch().index()}, {ref, r}});
}

void InMemoryEvidence::AddProduct(const v1::ProductRegistration& p) {
  absl::MutexLock l(&mu_);
  products_[p.product_id()] = p;
  ++generation_;
}

void InMemoryEvidence::AddParty(const v1::PartyRegistration& p) {
  absl::MutexLock l(&mu_);
  parties_[p.header().party_id()] = p;
  ++generation_;
}

uint64_t InMemoryEvidence::Generation() {
  absl::MutexLock l(&mu_);
  return generation_;
}

absl::StatusOr<VerifiedDispatch> InMemoryEvidence::FindDispatch(
    absl::string_view origin, uint64_t index, const Hash& leaf_hash) {
  absl::MutexLock l(&mu_);
  auto it = dispatches_.find({std::string(origin), index});
  if (it == dispatches_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no verified dispatch at ", origin, " index ", index));
  }
  if (it->second.ref.leaf_hash() != HashBytes(leaf_hash)) {
    return absl::FailedPreconditionError(
        absl::StrCat("verified entry at ", origin, " index ", index,
                     " has another leaf hash"));
  }
  return it->second;
}

absl::StatusOr<v1::EntryRef> InMemoryEvidence::FindReceipt(
    const v1::EntryRef& dispatch, absl::string_view transfer_id) {
  absl::MutexLock l(&mu_);
  auto [from, to] =
      receipts_.equal_range({dispatch.origin(), dispatch.index()});
  for (auto it = from; it != to; ++it) {
    const v1::Receipt& r = it->second.second;
    if (r.dispatch().leaf_hash() == dispatch.leaf_hash() &&
        r.transfer_id() == transfer_id) {
      return it->second.first;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no verified receipt of transfer ", transfer_id, " held"));
}

absl::StatusOr<v1::ProductRegistration> InMemoryEvidence::FindProduct(
    absl::string_view product_id) {
  absl::MutexLock l(&mu_);
  auto it = products_.find(std::string(product_id));
  if (it == products_.end()) {
    return absl::NotFoundError(absl::StrCat("no product ", product_id));
  }
  return it->second;
}

absl::StatusOr<v1::PartyRegistration> InMemoryEvidence::FindParty(
    absl::string_view party_id) {
  absl::MutexLock l(&mu_);
  auto it = parties_.find(std::string(party_id));
  if (it == parties_.end()) {
    return absl::NotFoundError(absl::StrCat("no party ", party_id));
  }
  return it->second;
}

}  // namespace segledger::domain
