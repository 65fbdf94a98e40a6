#include "ledger/domain/validate.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/quantity.h"
#include "ledger/status_macros.h"

namespace segledger::domain {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxStringBytes = 4096;
// 0001-01-01 .. 9999-12-31 (google.protobuf.Timestamp's range).
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

absl::Status Err(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status CheckTimestamp(const google::protobuf::Timestamp& t,
                            absl::string_view path) {
  if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return Err(path, "timestamp out of range");
  }
  return absl::OkStatus();
}

bool Before(const google::protobuf::Timestamp& a,
            const google::protobuf::Timestamp& b) {
  return a.seconds() < b.seconds() ||
         (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

absl::Status CheckBytes32(absl::string_view b, absl::string_view path) {
  if (b.size() != 32) {
    return Err(path,
               absl::StrCat("must be 32 bytes (SHA-256), got ", b.size()));
  }
  return absl::OkStatus();
}

// Checks particular to well-known message types, after the generic walk.
absl::Status CheckTyped(const Message& m, const std::string& path) {
  const std::string& type = m.GetDescriptor()->full_name();
  if (type == "segledger.v1.Quantity") {
    return ParseQuantity(static_cast<const v1::Quantity&>(m), path).status();
  }
  if (type == "segledger.v1.DocumentRef") {
    return CheckBytes32(static_cast<const v1::DocumentRef&>(m).sha256(),
                        path + ".sha256");
  }
  if (type == "segledger.v1.SpecRef") {
    return CheckBytes32(static_cast<const v1::SpecRef&>(m).sha256(),
                        path + ".sha256");
  }
  if (type == "segledger.v1.EntryRef") {
    return CheckBytes32(static_cast<const v1::EntryRef&>(m).leaf_hash(),
                        path + ".leaf_hash");
  }
  if (type == "google.protobuf.Timestamp") {
    return CheckTimestamp(static_cast<const google::protobuf::Timestamp&>(m),
                          path);
  }
  if (type == "segledger.v1.Actor") {
    const auto& a = static_cast<const v1::Actor&>(m);
    if (a.person_id().empty()) return Err(path + ".person_id", "empty");
    if (a.printed_name().empty()) return Err(path + ".printed_name", "empty");
    if (a.role().empty()) return Err(path + ".role", "empty");
    if (a.meaning() == v1::SIGNATURE_MEANING_UNSPECIFIED) {
      return Err(path + ".meaning", "unspecified");
    }
    if (!a.has_signed_at()) return Err(path + ".signed_at", "missing");
    return absl::OkStatus();
  }
  if (type == "segledger.v1.EventTime") {
    int off = static_cast<const v1::EventTime&>(m).utc_offset_minutes();
    if (off < -840 || off > 840) {
      return Err(path + ".utc_offset_minutes",
                 absl::StrCat(off, " outside -840..840"));
    }
    return absl::OkStatus();
  }
  if (type == "segledger.v1.Period") {
    const auto& p = static_cast<const v1::Period&>(m);
    if (p.has_until() && Before(p.until(), p.from())) {
      return Err(path + ".until", "before from");
    }
    return absl::OkStatus();
  }
  if (type == "segledger.v1.TemperatureRange") {
    const auto& t = static_cast<const v1::TemperatureRange&>(m);
    if (t.min_centi_celsius() > t.max_centi_celsius()) {
      return Err(path, "min above max");
    }
    if (t.min_centi_celsius() < -27315 || t.max_centi_celsius() > 20000) {
      return Err(path, "outside -273.15..200 C");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckString(const FieldDescriptor* f, const std::string& s,
                         const std::string& path, bool in_list) {
  if (s.empty()) {
    if (in_list || f->options().GetExtension(v1::required)) {
      return Err(path, "empty");
    }
    return absl::OkStatus();
  }
  if (s.size() > kMaxStringBytes) return Err(path, "longer than 4096 bytes");
  if (f->type() == FieldDescriptor::TYPE_BYTES) return absl::OkStatus();
  if (f->options().GetExtension(v1::id)) {
    absl::Status st = ValidateIdentifier(s);
    if (!st.ok()) return Err(path, st.message());
  }
  if (absl::EndsWith(f->name(), "_percent") ||
      f->name() == "density_g_per_ml") {
    SEG_RETURN_IF_ERROR(Decimal::Parse(s, path).status());
  }
  if (f->name() == "province") {
    absl::Status st = ValidateProvince(s);
    if (!st.ok()) return Err(path, st.message());
  }
  return absl::OkStatus();
}

absl::Status CheckField(const Message& m, const FieldDescriptor* f,
                        const std::string& base);

absl::Status Walk(const Message& m, const std::string& path) {
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    SEG_RETURN_IF_ERROR(CheckField(m, d->field(i), path));
  }
  return CheckTyped(m, path);
}

absl::Status CheckRepeated(const Message& m, const FieldDescriptor* f,
                           const std::string& path) {
  const Reflection* r = m.GetReflection();
  int n = r->FieldSize(m, f);
  if (n == 0 && f->options().GetExtension(v1::required)) {
    return Err(path, "empty");
  }
  for (int i = 0; i < n; ++i) {
    std::string p = absl::StrCat(path, "[", i, "]");
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        SEG_RETURN_IF_ERROR(Walk(r->GetRepeatedMessage(m, f, i), p));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        SEG_RETURN_IF_ERROR(
            CheckString(f, r->GetRepeatedString(m, f, i), p, true));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        if (f->enum_type()->FindValueByNumber(
                r->GetRepeatedEnumValue(m, f, i)) == nullptr) {
          return Err(p, "unknown enum value");
        }
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckField(const Message& m, const FieldDescriptor* f,
                        const std::string& base) {
  const std::string path =
      base.empty() ? f->name() : absl::StrCat(base, ".", f->name());
  if (f->is_repeated()) return CheckRepeated(m, f, path);
  const Reflection* r = m.GetReflection();
  const bool required = f->options().GetExtension(v1::required);
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (!r->HasField(m, f)) {
        return required ? Err(path, "missing") : absl::OkStatus();
      }
      return Walk(r->GetMessage(m, f), path);
    case FieldDescriptor::CPPTYPE_STRING:
      return CheckString(f, r->GetString(m, f), path, false);
    case FieldDescriptor::CPPTYPE_ENUM: {
      int v = r->GetEnumValue(m, f);
      if (f->enum_type()->FindValueByNumber(v) == nullptr) {
        return Err(path, absl::StrCat("unknown enum value ", v));
      }
      if (required && v == 0) return Err(path, "unspecified");
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32:
      if (required && r->GetUInt32(m, f) == 0) return Err(path, "zero");
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_UINT64:
      if (required && r->GetUInt64(m, f) == 0) return Err(path, "zero");
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::Status ValidateMessage(const Message& m, absl::string_view path) {
  return Walk(m, std::string(path));
}

const v1::RecordHeader* HeaderOf(const v1::Record& record) {
  const auto* d = record.GetDescriptor();
  const auto* oneof = d->FindOneofByName("kind");
  const FieldDescriptor* f =
      record.GetReflection()->GetOneofFieldDescriptor(record, oneof);
  if (f == nullptr || f->number() < 10) return nullptr;
  const Message& arm = record.GetReflection()->GetMessage(record, f);
  const FieldDescriptor* h = arm.GetDescriptor()->FindFieldByName("header");
  if (h == nullptr) return nullptr;
  return &static_cast<const v1::RecordHeader&>(
      arm.GetReflection()->GetMessage(arm, h));
}

absl::string_view RecordKindName(const v1::Record& record) {
  const auto* oneof = record.GetDescriptor()->FindOneofByName("kind");
  const FieldDescriptor* f =
      record.GetReflection()->GetOneofFieldDescriptor(record, oneof);
  return f == nullptr ? absl::string_view("empty") : f->name();
}

}  // namespace segledger::domain
