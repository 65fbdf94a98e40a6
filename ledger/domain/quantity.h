// Exact decimal quantities with UN/CEFACT Rec 20 units (DOMAIN.md "Record
// catalogue": fixed-point integers, never floating point).
//
// Decimal is an int64 count of millionths (6 fraction digits); every
// operation checks overflow. Quantity pairs it with a unit; arithmetic
// converts within a dimension (KGM <-> GRM) exactly and across mass and
// volume only with a product's density. Value types; thread-safe.
#ifndef SEGLEDGER_LEDGER_DOMAIN_QUANTITY_H_
#define SEGLEDGER_LEDGER_DOMAIN_QUANTITY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "segledger/v1/records.pb.h"

namespace segledger::domain {

class Decimal {
 public:
  static constexpr int kScale = 6;
  static constexpr int64_t kOne = 1000000;

  constexpr Decimal() = default;
  static constexpr Decimal FromMicros(int64_t micros) {
    return Decimal(micros);
  }
  // Parses "12", "12.5", "-0.000001" (optional sign, digits, optional '.'
  // with 1..6 digits). INVALID_ARGUMENT naming `what` otherwise.
  static absl::StatusOr<Decimal> Parse(absl::string_view s,
                                       absl::string_view what = "value");
  // Canonical form: no trailing fraction zeros, "0" for zero.
  std::string ToString() const;

  int64_t micros() const { return micros_; }
  bool is_zero() const { return micros_ == 0; }
  bool is_negative() const { return micros_ < 0; }

  // OUT_OF_RANGE on overflow.
  absl::StatusOr<Decimal> Add(Decimal o) const;
  absl::StatusOr<Decimal> Sub(Decimal o) const;
  // this * o, truncated toward zero to 6 digits.
  absl::StatusOr<Decimal> Mul(Decimal o) const;
  // this / o, truncated; INVALID_ARGUMENT when o is zero.
  absl::StatusOr<Decimal> Div(Decimal o) const;
  Decimal Abs() const { return Decimal(micros_ < 0 ? -micros_ : micros_); }

  friend bool operator==(Decimal a, Decimal b) {
    return a.micros_ == b.micros_;
  }
  friend bool operator!=(Decimal a, Decimal b) {
    return a.micros_ != b.micros_;
  }
  friend bool operator<(Decimal a, Decimal b) { return a.micros_ < b.micros_; }
  friend bool operator<=(Decimal a, Decimal b) {
    return a.micros_ <= b.micros_;
  }
  friend bool operator>(Decimal a, Decimal b) { return a.micros_ > b.micros_; }
  friend bool operator>=(Decimal a, Decimal b) {
    return a.micros_ >= b.micros_;
  }

 private:
  constexpr explicit Decimal(int64_t micros) : micros_(micros) {}
  int64_t micros_ = 0;
};

enum class Dimension { kMass, kVolume, kCount };

struct UnitInfo {
  Dimension dimension;
  // Size of one unit in the dimension's base unit (mass: milligram,
  // volume: microlitre, count: one), as an integer.
  int64_t base_factor;
};

// Rec 20 codes understood: KGM GRM MGM (mass), LTR MLT 4G (volume),
// H87 C62 EA (count). INVALID_ARGUMENT for any other code.
absl::StatusOr<UnitInfo> LookupUnit(absl::string_view code);

struct Quantity {
  Decimal value;
  std::string unit;
};

// Parses and checks a proto Quantity: a valid decimal, a known unit, and
// not negative. Errors name `path` (e.g. "dispatch.containers[0].quantity").
absl::StatusOr<Quantity> ParseQuantity(const v1::Quantity& q,
                                       absl::string_view path);

// Converts `q` into `unit`. Within a dimension the conversion is exact
// (OUT_OF_RANGE on overflow, INVALID_ARGUMENT when the result would need
// more than 6 fraction digits). Mass <-> volume uses `density_g_per_ml`
// (nullopt: FAILED_PRECONDITION "mass vs volume needs a product density").
// Count never converts to mass or volume.
absl::StatusOr<Decimal> ConvertTo(const Quantity& q, absl::string_view unit,
                                  std::optional<Decimal> density_g_per_ml);

v1::Quantity ToProto(const Quantity& q);

}  // namespace segledger::domain

#endif  // SEGLEDGER_LEDGER_DOMAIN_QUANTITY_H_
