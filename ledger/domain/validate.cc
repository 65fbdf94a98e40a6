#include "ledger/domain/validate.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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

// A field path built only when an error names it, e.g.
// "dispatch.containers[2].seal_ids[0]".
struct Path {
  const Path* parent;
  absl::string_view name;
  int index;  // -1: not a list element

  void AppendTo(std::string& out) const {
    if (parent != nullptr) {
      parent->AppendTo(out);
      if (!out.empty()) out += '.';
    }
    out.append(name.data(), name.size());
    if (index >= 0) absl::StrAppend(&out, "[", index, "]");
  }
  std::string Str(absl::string_view suffix = "") const {
    std::string out;
    AppendTo(out);
    out.append(suffix.data(), suffix.size());
    return out;
  }
};

absl::Status Err(const Path& path, absl::string_view what) {
  return Err(path.Str(), what);
}

absl::Status CheckTimestamp(const google::protobuf::Timestamp& t,
                            const Path& path) {
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

absl::Status CheckBytes32(absl::string_view b, const Path& path,
                          absl::string_view field) {
  if (b.size() != 32) {
    return Err(path.Str(field),
               absl::StrCat("must be 32 bytes (SHA-256), got ", b.size()));
  }
  return absl::OkStatus();
}

absl::Status CheckActor(const v1::Actor& a, const Path& path) {
  if (a.person_id().empty()) return Err(path.Str(".person_id"), "empty");
  if (a.printed_name().empty()) return Err(path.Str(".printed_name"), "empty");
  if (a.role().empty()) return Err(path.Str(".role"), "empty");
  if (a.meaning() == v1::SIGNATURE_MEANING_UNSPECIFIED) {
    return Err(path.Str(".meaning"), "unspecified");
  }
  if (!a.has_signed_at()) return Err(path.Str(".signed_at"), "missing");
  return absl::OkStatus();
}

// What the walk needs of each message type and field, computed once per
// descriptor (field options and type names never change at run time).
enum class Typed {
  kNone,
  kQuantity,
  kDocumentRef,
  kSpecRef,
  kEntryRef,
  kTimestamp,
  kActor,
  kEventTime,
  kPeriod,
  kTemperatureRange
};

struct MessagePlan;

struct FieldPlan {
  const FieldDescriptor* f;
  FieldDescriptor::CppType cpp;
  bool repeated, required, id, decimal, province, bytes;
  const MessagePlan* sub;  // message fields
};

struct MessagePlan {
  const google::protobuf::Descriptor* descriptor;
  Typed typed = Typed::kNone;
  std::vector<FieldPlan> fields;
};

Typed TypedOf(const std::string& type) {
  static const std::map<std::string, Typed>* kTypes =
      new std::map<std::string, Typed>{
          {"segledger.v1.Quantity", Typed::kQuantity},
          {"segledger.v1.DocumentRef", Typed::kDocumentRef},
          {"segledger.v1.SpecRef", Typed::kSpecRef},
          {"segledger.v1.EntryRef", Typed::kEntryRef},
          {"google.protobuf.Timestamp", Typed::kTimestamp},
          {"segledger.v1.Actor", Typed::kActor},
          {"segledger.v1.EventTime", Typed::kEventTime},
          {"segledger.v1.Period", Typed::kPeriod},
          {"segledger.v1.TemperatureRange", Typed::kTemperatureRange}};
  auto it = kTypes->find(type);
  return it == kTypes->end() ? Typed::kNone : it->second;
}

// Plans by descriptor, built on first use and never freed. Thread-safe.
class Plans {
 public:
  const MessagePlan* For(const google::protobuf::Descriptor* d) {
    absl::MutexLock l(&mu_);
    return Build(d);
  }

 private:
  const MessagePlan* Build(const google::protobuf::Descriptor* d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = plans_.find(d);
    if (it != plans_.end()) return it->second.get();
    MessagePlan* plan = (plans_[d] = std::make_unique<MessagePlan>()).get();
    plan->descriptor = d;
    plan->typed = TypedOf(d->full_name());
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      const auto& o = f->options();
      FieldPlan fp{f,
                   f->cpp_type(),
                   f->is_repeated(),
                   o.GetExtension(v1::required),
                   o.GetExtension(v1::id),
                   absl::EndsWith(f->name(), "_percent") ||
                       f->name() == "density_g_per_ml",
                   f->name() == "province",
                   f->type() == FieldDescriptor::TYPE_BYTES,
                   nullptr};
      if (fp.cpp == FieldDescriptor::CPPTYPE_MESSAGE) {
        fp.sub = Build(f->message_type());
      }
      plan->fields.push_back(fp);
    }
    return plan;
  }

  absl::Mutex mu_;
  std::map<const google::protobuf::Descriptor*, std::unique_ptr<MessagePlan>>
      plans_ ABSL_GUARDED_BY(mu_);
};

Plans& AllPlans() {
  static Plans* plans = new Plans();
  return *plans;
}

// Identifiers this thread found valid. Records repeat the same party, site,
// product, material and stage ids, and validity depends on the string
// alone, so each is parsed once. Bounded: emptied when full.
bool KnownValidIdentifier(const std::string& id) {
  constexpr size_t kMaxKnown = 256;
  thread_local absl::flat_hash_set<std::string> known;
  if (known.contains(id)) return true;
  if (!ValidateIdentifier(id).ok()) return false;
  if (known.size() >= kMaxKnown) known.clear();
  known.insert(id);
  return true;
}

absl::Status CheckString(const FieldPlan& fp, const std::string& s,
                         const Path& path, bool in_list) {
  if (s.empty()) {
    if (in_list || fp.required) return Err(path, "empty");
    return absl::OkStatus();
  }
  if (s.size() > kMaxStringBytes) return Err(path, "longer than 4096 bytes");
  if (fp.bytes) return absl::OkStatus();
  if (fp.id && !KnownValidIdentifier(s)) {
    return Err(path, ValidateIdentifier(s).message());
  }
  if (fp.decimal && !Decimal::Parse(s).ok()) {
    return Decimal::Parse(s, path.Str()).status();
  }
  if (fp.province) {
    absl::Status st = ValidateProvince(s);
    if (!st.ok()) return Err(path, st.message());
  }
  return absl::OkStatus();
}

absl::Status CheckTyped(const MessagePlan& plan, const Message& m,
                        const Path& path);
absl::Status Walk(const MessagePlan& plan, const Message& m, const Path& path);

absl::Status CheckRepeated(const FieldPlan& fp, const Message& m,
                           const Reflection* r, const Path& path) {
  const FieldDescriptor* f = fp.f;
  int n = r->FieldSize(m, f);
  if (n == 0 && fp.required) return Err(path, "empty");
  for (int i = 0; i < n; ++i) {
    const Path p{path.parent, path.name, i};
    switch (fp.cpp) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        SEG_RETURN_IF_ERROR(Walk(*fp.sub, r->GetRepeatedMessage(m, f, i), p));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        SEG_RETURN_IF_ERROR(CheckString(
            fp, r->GetRepeatedStringReference(m, f, i, nullptr), p, true));
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

absl::Status CheckField(const FieldPlan& fp, const Message& m,
                        const Reflection* r, const Path& parent) {
  const FieldDescriptor* f = fp.f;
  const Path path{&parent, f->name(), -1};
  if (fp.repeated) return CheckRepeated(fp, m, r, path);
  switch (fp.cpp) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (!r->HasField(m, f)) {
        return fp.required ? Err(path, "missing") : absl::OkStatus();
      }
      return Walk(*fp.sub, r->GetMessage(m, f), path);
    case FieldDescriptor::CPPTYPE_STRING:
      return CheckString(fp, r->GetStringReference(m, f, nullptr), path, false);
    case FieldDescriptor::CPPTYPE_ENUM: {
      int v = r->GetEnumValue(m, f);
      if (f->enum_type()->FindValueByNumber(v) == nullptr) {
        return Err(path, absl::StrCat("unknown enum value ", v));
      }
      if (fp.required && v == 0) return Err(path, "unspecified");
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32:
      if (fp.required && r->GetUInt32(m, f) == 0) return Err(path, "zero");
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_UINT64:
      if (fp.required && r->GetUInt64(m, f) == 0) return Err(path, "zero");
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

absl::Status Walk(const MessagePlan& plan, const Message& m, const Path& path) {
  const Reflection* r = m.GetReflection();
  for (const FieldPlan& fp : plan.fields) {
    SEG_RETURN_IF_ERROR(CheckField(fp, m, r, path));
  }
  return CheckTyped(plan, m, path);
}

absl::Status CheckTyped(const MessagePlan& plan, const Message& m,
                        const Path& path) {
  switch (plan.typed) {
    case Typed::kNone:
      return absl::OkStatus();
    case Typed::kQuantity: {
      const auto& q = static_cast<const v1::Quantity&>(m);
      if (ParseQuantity(q, "").ok()) return absl::OkStatus();
      return ParseQuantity(q, path.Str()).status();
    }
    case Typed::kDocumentRef:
      return CheckBytes32(static_cast<const v1::DocumentRef&>(m).sha256(), path,
                          ".sha256");
    case Typed::kSpecRef:
      return CheckBytes32(static_cast<const v1::SpecRef&>(m).sha256(), path,
                          ".sha256");
    case Typed::kEntryRef:
      return CheckBytes32(static_cast<const v1::EntryRef&>(m).leaf_hash(), path,
                          ".leaf_hash");
    case Typed::kTimestamp:
      return CheckTimestamp(static_cast<const google::protobuf::Timestamp&>(m),
                            path);
    case Typed::kActor:
      return CheckActor(static_cast<const v1::Actor&>(m), path);
    case Typed::kEventTime: {
      int off = static_cast<const v1::EventTime&>(m).utc_offset_minutes();
      if (off < -840 || off > 840) {
        return Err(path.Str(".utc_offset_minutes"),
                   absl::StrCat(off, " outside -840..840"));
      }
      return absl::OkStatus();
    }
    case Typed::kPeriod: {
      const auto& p = static_cast<const v1::Period&>(m);
      if (p.has_until() && Before(p.until(), p.from())) {
        return Err(path.Str(".until"), "before from");
      }
      return absl::OkStatus();
    }
    case Typed::kTemperatureRange: {
      const auto& t = static_cast<const v1::TemperatureRange&>(m);
      if (t.min_centi_celsius() > t.max_centi_celsius()) {
        return Err(path, "min above max");
      }
      if (t.min_centi_celsius() < -27315 || t.max_centi_celsius() > 20000) {
        return Err(path, "outside -273.15..200 C");
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateMessage(const Message& m, absl::string_view path) {
  const MessagePlan* plan = AllPlans().For(m.GetDescriptor());
  return Walk(*plan, m, Path{nullptr, path, -1});
}

namespace {

// Per oneof arm of Record (by field number): the arm and its "header"
// field (nullptr for key records, numbers below 10).
struct Arm {
  const FieldDescriptor* field = nullptr;
  const FieldDescriptor* header = nullptr;
};

// Indexed by field number (HeaderOf runs several times per record).
const std::vector<Arm>& Arms() {
  static const std::vector<Arm>* arms = [] {
    auto* out = new std::vector<Arm>();
    const auto* oneof = v1::Record::descriptor()->FindOneofByName("kind");
    for (int i = 0; i < oneof->field_count(); ++i) {
      const FieldDescriptor* f = oneof->field(i);
      Arm a{f, nullptr};
      if (f->number() >= 10 && f->message_type() != nullptr) {
        a.header = f->message_type()->FindFieldByName("header");
      }
      const size_t n = static_cast<size_t>(f->number());
      if (out->size() <= n) out->resize(n + 1);
      (*out)[n] = a;
    }
    return out;
  }();
  return *arms;
}

const Arm* ArmOf(const v1::Record& record) {
  const size_t n = static_cast<size_t>(record.kind_case());
  if (n == 0 || n >= Arms().size() || Arms()[n].field == nullptr) {
    return nullptr;
  }
  return &Arms()[n];
}

}  // namespace

const v1::RecordHeader* HeaderOf(const v1::Record& record) {
  // The domain arms through their generated accessors (this runs for every
  // record, in Precheck and in the build leader); any arm missing here is
  // still found by reflection below, only slower.
#define SEG_HEADER_OF(arm, accessor) \
  case v1::Record::arm:              \
    return &record.accessor().header();
  switch (record.kind_case()) {
    SEG_HEADER_OF(kPartyRegistration, party_registration)
    SEG_HEADER_OF(kSiteRegistration, site_registration)
    SEG_HEADER_OF(kProductRegistration, product_registration)
    SEG_HEADER_OF(kQualityAgreement, quality_agreement)
    SEG_HEADER_OF(kPersonnelAssignment, personnel_assignment)
    SEG_HEADER_OF(kLotProduced, lot_produced)
    SEG_HEADER_OF(kTransformation, transformation)
    SEG_HEADER_OF(kQcResult, qc_result)
    SEG_HEADER_OF(kQaRelease, qa_release)
    SEG_HEADER_OF(kDispatch, dispatch)
    SEG_HEADER_OF(kTransportConditionReport, transport_condition_report)
    SEG_HEADER_OF(kReceipt, receipt)
    SEG_HEADER_OF(kStatusChange, status_change)
    SEG_HEADER_OF(kDeviation, deviation)
    SEG_HEADER_OF(kChangeControl, change_control)
    SEG_HEADER_OF(kTransportValidation, transport_validation)
    SEG_HEADER_OF(kMethodTransfer, method_transfer)
    SEG_HEADER_OF(kRecall, recall)
    SEG_HEADER_OF(kCorrection, correction)
    SEG_HEADER_OF(kTraceCodeLink, trace_code_link)
    default:
      break;
  }
#undef SEG_HEADER_OF
  const Arm* a = ArmOf(record);
  if (a == nullptr || a->header == nullptr) return nullptr;
  const Message& arm = record.GetReflection()->GetMessage(record, a->field);
  return &static_cast<const v1::RecordHeader&>(
      arm.GetReflection()->GetMessage(arm, a->header));
}

absl::string_view RecordKindName(const v1::Record& record) {
  const Arm* a = ArmOf(record);
  return a == nullptr ? absl::string_view("empty") : a->field->name();
}

}  // namespace segledger::domain
