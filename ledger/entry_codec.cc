#include "ledger/entry_codec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace segledger {

std::string EntrySigningMessage(absl::string_view body) {
  return absl::StrCat(kEntrySignaturePrefix, body);
}

void WriteEntrySigningMessage(absl::string_view body, std::string* out) {
  out->assign(kEntrySignaturePrefix.data(), kEntrySignaturePrefix.size());
  out->append(body.data(), body.size());
}

absl::StatusOr<std::string> SerializeEntryBody(const v1::EntryBody& body) {
  const size_t size = body.ByteSizeLong();
  if (size > kMaxEntryBodySize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "entry body is %d bytes, limit %d", size, kMaxEntryBodySize));
  }
  std::string out;
  out.reserve(size);
  {
    // Deterministic serialization (map entries sorted); the bytes produced
    // here are the entry's canonical bytes forever (DESIGN.md "Entry").
    google::protobuf::io::StringOutputStream sink(&out);
    google::protobuf::io::CodedOutputStream coded(&sink);
    coded.SetSerializationDeterministic(true);
    body.SerializeWithCachedSizes(&coded);
    if (coded.HadError()) {
      return absl::InternalError("serializing entry body failed");
    }
  }  // `coded` trims `out` to the bytes written when destroyed.
  if (out.size() != size) {
    return absl::InternalError(absl::StrFormat(
        "entry body serialized to %d bytes, expected %d", out.size(), size));
  }
  return out;
}

absl::StatusOr<v1::SignedEntry> SignEntry(std::string body,
                                          const Ed25519Signer& signer) {
  if (body.empty() || body.size() > kMaxEntryBodySize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("entry body is %d bytes, want 1 to %d", body.size(),
                        kMaxEntryBodySize));
  }
  absl::StatusOr<std::string> signature =
      signer.Sign(EntrySigningMessage(body));
  if (!signature.ok()) return signature.status();
  v1::SignedEntry entry;
  entry.set_body(std::move(body));
  entry.set_signature(*std::move(signature));
  return entry;
}

absl::Status ParseEntryBodyInto(absl::string_view body, v1::EntryBody* out) {
  if (body.empty()) {
    return absl::InvalidArgumentError("entry body is empty");
  }
  if (body.size() > kMaxEntryBodySize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "entry body is %d bytes, limit %d", body.size(), kMaxEntryBodySize));
  }
  // ParseFromArray clears `out` first but keeps its allocations for reuse.
  if (!out->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "entry body (%d bytes) is not a valid EntryBody", body.size()));
  }
  if (out->prev_hash().size() != kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("entry prev_hash is %d bytes, want %d",
                        out->prev_hash().size(), kHashSize));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::EntryBody> ParseEntryBody(absl::string_view body) {
  v1::EntryBody parsed;
  absl::Status status = ParseEntryBodyInto(body, &parsed);
  if (!status.ok()) return status;
  return parsed;
}

absl::Status VerifyEntrySignature(const v1::SignedEntry& entry,
                                  const Ed25519Verifier& verifier) {
  return verifier.Verify(entry.signature(), EntrySigningMessage(entry.body()));
}

std::string KeyRotationPossessionMessage(absl::string_view old_key_name,
                                         absl::string_view new_key_name,
                                         absl::string_view new_public_key) {
  return absl::StrCat(kKeyRotationSignaturePrefix, old_key_name, "\n",
                      new_key_name, "\n", new_public_key);
}

}  // namespace segledger
