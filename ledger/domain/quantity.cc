#include "ledger/domain/quantity.h"

#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"

namespace segledger::domain {

absl::StatusOr<Decimal> Decimal::Parse(absl::string_view s,
                                       absl::string_view what) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", s, "' is not a decimal (", why, ")"));
  };
  if (s.empty()) return bad("empty");
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  __int128 v = 0;
  int int_digits = 0, frac_digits = 0;
  bool dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (dot) return bad("two points");
      dot = true;
      continue;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return bad("unexpected character");
    }
    if (dot) {
      if (++frac_digits > kScale) return bad("more than 6 fraction digits");
    } else if (++int_digits > 13) {
      return bad("too large");
    }
    v = v * 10 + (c - '0');
  }
  if (int_digits == 0) return bad("no integer digits");
  if (dot && frac_digits == 0) return bad("no digits after the point");
  for (int k = frac_digits; k < kScale; ++k) v *= 10;
  if (v > INT64_MAX) return bad("too large");
  return Decimal(static_cast<int64_t>(neg ? -v : v));
}

std::string Decimal::ToString() const {
  __int128 v = micros_;
  bool neg = v < 0;
  if (neg) v = -v;
  int64_t ip = static_cast<int64_t>(v / kOne);
  int64_t fp = static_cast<int64_t>(v % kOne);
  std::string out = absl::StrCat(neg ? "-" : "", ip);
  if (fp != 0) {
    std::string f = std::to_string(fp);
    f.insert(0, kScale - f.size(), '0');
    while (!f.empty() && f.back() == '0') f.pop_back();
    absl::StrAppend(&out, ".", f);
  }
  return out;
}

absl::StatusOr<Decimal> Decimal::Add(Decimal o) const {
  int64_t r;
  if (__builtin_add_overflow(micros_, o.micros_, &r)) {
    return absl::OutOfRangeError("decimal overflow in addition");
  }
  return Decimal(r);
}

absl::StatusOr<Decimal> Decimal::Sub(Decimal o) const {
  int64_t r;
  if (__builtin_sub_overflow(micros_, o.micros_, &r)) {
    return absl::OutOfRangeError("decimal overflow in subtraction");
  }
  return Decimal(r);
}

namespace {
absl::StatusOr<Decimal> FromWide(__int128 v) {
  if (v > INT64_MAX || v < INT64_MIN) {
    return absl::OutOfRangeError("decimal overflow");
  }
  return Decimal::FromMicros(static_cast<int64_t>(v));
}
}  // namespace

absl::StatusOr<Decimal> Decimal::Mul(Decimal o) const {
  return FromWide(static_cast<__int128>(micros_) * o.micros_ / kOne);
}

absl::StatusOr<Decimal> Decimal::Div(Decimal o) const {
  if (o.micros_ == 0) return absl::InvalidArgumentError("division by zero");
  return FromWide(static_cast<__int128>(micros_) * kOne / o.micros_);
}

absl::StatusOr<UnitInfo> LookupUnit(absl::string_view code) {
  struct Row {
    absl::string_view code;
    UnitInfo info;
  };
  static constexpr Row kUnits[] = {
      {"KGM", {Dimension::kMass, 1000000}},
      {"GRM", {Dimension::kMass, 1000}},
      {"MGM", {Dimension::kMass, 1}},
      {"LTR", {Dimension::kVolume, 1000000}},
      {"MLT", {Dimension::kVolume, 1000}},
      {"4G", {Dimension::kVolume, 1}},
      {"H87", {Dimension::kCount, 1}},
      {"C62", {Dimension::kCount, 1}},
      {"EA", {Dimension::kCount, 1}},
  };
  for (const Row& r : kUnits) {
    if (r.code == code) return r.info;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unit '", code,
      "' is not a supported UN/CEFACT Rec 20 code (KGM GRM MGM LTR MLT 4G H87 "
      "C62 EA)"));
}

absl::StatusOr<Quantity> ParseQuantity(const v1::Quantity& q,
                                       absl::string_view path) {
  SEG_ASSIGN_OR_RETURN(Decimal d,
                       Decimal::Parse(q.value(), absl::StrCat(path, ".value")));
  if (d.is_negative()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".value: negative (", q.value(), ")"));
  }
  auto unit = LookupUnit(q.unit());
  if (!unit.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".unit: ", unit.status().message()));
  }
  return Quantity{d, q.unit()};
}

namespace {
// Scales micros by num/den exactly; INVALID_ARGUMENT if inexact.
absl::StatusOr<Decimal> Scale(Decimal v, __int128 num, __int128 den) {
  __int128 x = static_cast<__int128>(v.micros()) * num;
  if (x % den != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "conversion of ", v.ToString(), " needs more than 6 fraction digits"));
  }
  return FromWide(x / den);
}
}  // namespace

absl::StatusOr<Decimal> ConvertTo(const Quantity& q, absl::string_view unit,
                                  std::optional<Decimal> density_g_per_ml) {
  if (q.unit == unit) return q.value;
  SEG_ASSIGN_OR_RETURN(UnitInfo from, LookupUnit(q.unit));
  SEG_ASSIGN_OR_RETURN(UnitInfo to, LookupUnit(unit));
  if (from.dimension == to.dimension) {
    return Scale(q.value, from.base_factor, to.base_factor);
  }
  if (from.dimension == Dimension::kCount ||
      to.dimension == Dimension::kCount) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot convert ", q.unit, " to ", unit, ": count vs mass/volume"));
  }
  if (!density_g_per_ml.has_value() || density_g_per_ml->micros() <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot convert ", q.unit, " to ", unit,
                     ": mass vs volume needs a product density"));
  }
  // mg = uL * (g/mL); density is micro-scaled.
  const __int128 dens = density_g_per_ml->micros();
  if (from.dimension == Dimension::kVolume) {  // -> mass
    return Scale(q.value, from.base_factor * dens,
                 static_cast<__int128>(to.base_factor) * Decimal::kOne);
  }
  return Scale(q.value, from.base_factor * static_cast<__int128>(Decimal::kOne),
               to.base_factor * dens);
}

v1::Quantity ToProto(const Quantity& q) {
  v1::Quantity p;
  p.set_value(q.value.ToString());
  p.set_unit(q.unit);
  return p;
}

}  // namespace segledger::domain
